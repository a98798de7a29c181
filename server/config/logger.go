package config

import (
	"log/slog"
	"os"
)

// NewLogger makes the logger cfg asks for (ASSETLAB_LOG_LEVEL,
// ASSETLAB_LOG_FORMAT), writing to standard error.
func NewLogger(cfg Config) *slog.Logger {
	var level slog.Level
	level.UnmarshalText([]byte(cfg.LogLevel))
	opts := &slog.HandlerOptions{Level: level}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(os.Stderr, opts))
	}
	return slog.New(slog.NewTextHandler(os.Stderr, opts))
}
