// Command assetlab-upload uploads a video from a terminal or a script, with
// the desktop app's streaming uploader:
//
//	ASSETLAB_URL=http://host:3000 ADMIN_TOKEN=... assetlab-upload clip.mp4
//
// It prints the new video's ID on stdout, progress on stderr.
package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/signal"
	"syscall"

	"github.com/assetlab/assetlab/desktop/upload"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: ASSETLAB_URL=http://host:3000 ADMIN_TOKEN=token assetlab-upload FILE")
		os.Exit(2)
	}
	server, token := os.Getenv("ASSETLAB_URL"), os.Getenv("ADMIN_TOKEN")
	if server == "" {
		server = "http://localhost:3000"
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	quiet := os.Getenv("ASSETLAB_QUIET") != ""
	res, err := upload.Upload(ctx, http.DefaultClient, server, token, os.Args[1], func(p upload.Progress) {
		if !quiet {
			fmt.Fprintf(os.Stderr, "\r%5.1f%%  %10s/s ", p.Percent, upload.FormatBytes(int64(p.Speed)))
		}
	})
	if !quiet {
		fmt.Fprintln(os.Stderr)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "assetlab-upload:", err)
		os.Exit(1)
	}
	fmt.Println(res.ID)
}
