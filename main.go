// Command assetlab-desktop is AssetLab's desktop app, built by Wails from this
// folder (wails.json): `make desktop`, `make desktop-windows`.
package main

import (
	"fmt"
	"os"

	"github.com/assetlab/assetlab/desktop"
)

func main() {
	if err := desktop.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "assetlab-desktop:", err)
		os.Exit(1)
	}
}
