// Command assetlab-server runs the AssetLab HTTP API, serving the web UI, with
// transcode workers in-process (ASSETLAB_WORKERS). See the README for settings.
package main

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/assetlab/assetlab/frontend"
	"github.com/assetlab/assetlab/server/app"
	"github.com/assetlab/assetlab/server/config"
)

func main() { config.Main("assetlab-server", run) }

func run(ctx context.Context, cfg config.Config, log *slog.Logger) error {
	srv, err := app.New(ctx, app.Options{Config: cfg, Frontend: frontend.Dist(), Log: log})
	if err != nil {
		return err
	}
	fmt.Print(srv.Banner())
	return srv.Run(ctx)
}
