package config

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
)

// Main starts a command the way both binaries start: it reads the
// configuration from the environment, makes the logger it asks for, and calls
// run with a context that ends on SIGINT or SIGTERM. An error, the
// configuration's or run's, is printed after the program's name and ends the
// process with status 1.
func Main(program string, run func(ctx context.Context, cfg Config, log *slog.Logger) error) {
	if err := start(run); err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", program, err)
		os.Exit(1)
	}
}

func start(run func(ctx context.Context, cfg Config, log *slog.Logger) error) error {
	cfg, err := FromEnv(os.Getenv)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return run(ctx, cfg, NewLogger(cfg))
}
