// Command assetlab-worker transcodes uploaded videos. Run as many as the load
// needs, against the same S3 buckets (or the same ASSETLAB_DATA_DIR on one
// machine) as the server; they coordinate through storage alone.
package main

import (
	"context"
	"log/slog"
	"sync"

	"github.com/assetlab/assetlab/server/config"
	"github.com/assetlab/assetlab/server/stores"
	"github.com/assetlab/assetlab/worker"
)

func main() { config.Main("assetlab-worker", run) }

func run(ctx context.Context, cfg config.Config, log *slog.Logger) error {
	// On the local backend it shares the server's data folder, and reads the
	// originals there in place.
	set, err := stores.Open(ctx, cfg, cfg.Port, log)
	if err != nil {
		return err
	}
	// Refuse to start without a usable FFmpeg: a worker that claimed jobs
	// only to fail them would leave every video pending, retried forever.
	probe := worker.New(cfg, set.Raw, set.Videos, log)
	if err := probe.CheckTools(ctx); err != nil {
		if ctx.Err() != nil {
			return nil
		}
		log.Error("not starting: FFmpeg is missing or incomplete", slog.Any("err", err))
		return err
	}
	// ASSETLAB_WORKERS=0 turns off the server's own workers, and a worker
	// process may well share the server's settings: it runs one loop then.
	loops := max(1, cfg.Workers)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	errc := make(chan error, 1+loops) // the janitor, each loop
	fail := func(err error) {
		errc <- err
		cancel()
	}
	wg.Go(func() {
		if err := set.RunJanitor(ctx); err != nil {
			fail(err)
		}
	})
	for i := range loops {
		wg.Go(func() {
			if err := worker.New(cfg, set.Raw, set.Videos, log.With(slog.Int("loop", i))).Run(ctx, nil); err != nil {
				fail(err)
			}
		})
	}
	wg.Wait()
	select {
	case err := <-errc:
		return err
	default:
		return nil
	}
}
