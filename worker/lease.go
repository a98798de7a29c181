package worker

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/assetlab/assetlab/server/jobs"
)

// keep renews the lease of the attempt being run every third of the lease,
// at most every 2 s, until ctx ends, and cancels the attempt (with the cause,
// jobs.ErrLeaseLost or jobs.ErrDeleted) once the lease says it is over.
func (w *Worker) keep(ctx context.Context, l *jobs.Lease, cancel context.CancelCauseFunc, log *slog.Logger) {
	every(ctx, min(w.cfg.JobLease/3, 2*time.Second), func() bool {
		err := l.Renew(ctx)
		switch {
		case errors.Is(err, jobs.ErrLeaseLost), errors.Is(err, jobs.ErrDeleted):
			cancel(err)
			return false
		case err != nil && ctx.Err() == nil:
			log.Warn("heartbeat failed", slog.Any("err", err))
		}
		return true
	})
}

// every calls f every d, the first time after d, until ctx ends or f
// returns false.
func every(ctx context.Context, d time.Duration, f func() bool) {
	t := time.NewTicker(d)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if !f() {
			return
		}
	}
}
