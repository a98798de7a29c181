// Command assetlab-desktop is AssetLab's desktop app, built by Wails from this
// folder (wails.json): `make desktop`, `make desktop-windows`.
package main

import (
	"fmt"
	"os"

	"github.com/assetlab/assetlab/desktop"
)

func main() {
	if len(os.Args) == 2 && os.Args[1] == "--version" {
		fmt.Println("AssetLab", desktop.Version)
		return
	}
	if err := desktop.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "assetlab-desktop:", err)
		os.Exit(1)
	}
}
