// Command assetlab-deb packs the built Linux desktop app as a Debian package
// (`make package-linux`) and prints the package's path:
//
//	assetlab-deb -version "$(git describe --tags --always --dirty)" \
//		-binary build/bin/assetlab-desktop -out build/bin
package main

import (
	"flag"
	"fmt"
	"os"
	"runtime"

	"github.com/assetlab/assetlab/desktop/deb"
)

func main() {
	var p deb.Package
	flag.StringVar(&p.Version, "version", "dev", "the app's version, as `git describe --tags --always --dirty` gives it")
	flag.StringVar(&p.Binary, "binary", "build/bin/assetlab-desktop", "the built app")
	flag.StringVar(&p.Arch, "arch", runtime.GOARCH, "the binary's Debian architecture")
	flag.StringVar(&p.Maintainer, "maintainer", "", "the Maintainer field (Name <email>)")
	flag.StringVar(&p.ModCache, "modcache", "", "the Go module cache the binary was built from (default: go env GOMODCACHE)")
	flag.StringVar(&p.GoRoot, "goroot", "", "the Go installation the binary was built with (default: go env GOROOT)")
	out := flag.String("out", "build/bin", "the folder to write the package into")
	flag.Parse()

	path, err := deb.Build(p, *out)
	if err != nil {
		fmt.Fprintln(os.Stderr, "assetlab-deb:", err)
		os.Exit(1)
	}
	fmt.Println(path)
}
