// Command assetlab-worker transcodes uploaded videos. Run as many as the load
// needs, against the same S3 buckets (or the same ASSETLAB_DATA_DIR on one
// machine) as the server; they coordinate through storage alone.
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/assetlab/assetlab/server/config"
	"github.com/assetlab/assetlab/server/stores"
	"github.com/assetlab/assetlab/worker"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "assetlab-worker:", err)
		os.Exit(1)
	}
}

func run() error {
	cfg, err := config.FromEnv(os.Getenv)
	if err != nil {
		return err
	}
	log := config.NewLogger(cfg)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
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
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		set.RunJanitor(ctx, 30*time.Second)
	}()
	errc := make(chan error, max(1, cfg.Workers))
	for i := range max(1, cfg.Workers) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := worker.New(cfg, set.Raw, set.Videos, log.With(slog.Int("loop", i))).Run(ctx, nil); err != nil {
				errc <- err
				cancel()
			}
		}()
	}
	wg.Wait()
	select {
	case err := <-errc:
		return err
	default:
		return nil
	}
}
