package worker

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/assetlab/assetlab/server/jobs"
)

// keep renews the lease of the attempt being run every third of the lease,
// at most every 2 s, and at once on a message on beat, until ctx ends, and
// cancels the attempt (with the cause, jobs.ErrLeaseLost or jobs.ErrDeleted)
// once the lease says it is over.
func (w *Worker) keep(ctx context.Context, l *jobs.Lease, cancel context.CancelCauseFunc, beat <-chan struct{}, log *slog.Logger) {
	everyOr(ctx, min(w.cfg.JobLease/3, 2*time.Second), beat, func() bool {
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
func every(ctx context.Context, d time.Duration, f func() bool) { everyOr(ctx, d, nil, f) }

// everyOr is every, also calling f on each message on now.
func everyOr(ctx context.Context, d time.Duration, now <-chan struct{}, f func() bool) {
	t := time.NewTicker(d)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-now:
		}
		if !f() {
			return
		}
	}
}
