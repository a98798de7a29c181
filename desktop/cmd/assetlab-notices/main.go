// Command assetlab-notices writes the licence notices of the Go modules and
// standard library linked into a built app (see build.Notices), for the
// Windows installer, which puts them beside the app:
//
//	assetlab-notices -binary build/bin/assetlab-desktop.exe -out build/bin/NOTICES.txt
package main

import (
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/assetlab/assetlab/build"
)

func main() {
	binary := flag.String("binary", "build/bin/assetlab-desktop.exe", "the built app")
	out := flag.String("out", "build/bin/NOTICES.txt", "the file to write")
	flag.Parse()

	notices, err := build.Notices(*binary, "", "")
	if err != nil {
		fail(err)
	}
	text := "AssetLab is one Go program: AssetLab's own code and the Go modules listed\nbelow. FFmpeg and FFprobe beside it are separate programs (FFmpeg-NOTICE.txt).\n\n" + notices
	if err := os.WriteFile(*out, []byte(strings.ReplaceAll(text, "\n", "\r\n")), 0o644); err != nil {
		fail(err)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "assetlab-notices:", err)
	os.Exit(1)
}
