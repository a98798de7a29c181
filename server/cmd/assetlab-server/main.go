// Command assetlab-server runs the AssetLab HTTP API, serving the web UI, with
// transcode workers in-process (ASSETLAB_WORKERS). See the README for settings.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/assetlab/assetlab/frontend"
	"github.com/assetlab/assetlab/server/app"
	"github.com/assetlab/assetlab/server/config"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "assetlab-server:", err)
		os.Exit(1)
	}
}

func run() error {
	cfg, err := config.FromEnv(os.Getenv)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	srv, err := app.New(ctx, app.Options{
		Config:   cfg,
		Frontend: frontend.Dist(),
		Log:      config.NewLogger(cfg),
	})
	if err != nil {
		return err
	}
	fmt.Print(srv.Banner())
	return srv.Run(ctx)
}
