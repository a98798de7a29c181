package worker

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/assetlab/assetlab/server/jobs"
	"github.com/assetlab/assetlab/server/storage"
	"github.com/assetlab/assetlab/server/video"
)

// lease keeps an attempt's claim alive: it rewrites the attempt document with
// a new expiry (and the progress) every third of the lease, at most every 2 s,
// and cancels the job when another worker has taken it over or the lease ran
// out without being renewed.
type lease struct {
	w      *Worker
	id     string
	cancel context.CancelCauseFunc

	mu       sync.Mutex
	a        jobs.Attempt
	progress float64
	written  float64
	isLost   bool
}

func newLease(w *Worker, id string, a jobs.Attempt, cancel context.CancelCauseFunc) *lease {
	return &lease{w: w, id: id, a: a, cancel: cancel}
}

func (l *lease) setProgress(p float64) {
	l.mu.Lock()
	l.progress = p
	l.mu.Unlock()
}

func (l *lease) lost() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.isLost
}

func (l *lease) keep(ctx context.Context) {
	leaseLen := l.w.cfg.JobLease
	tick := min(leaseLen/3, 2*time.Second)
	t := time.NewTicker(tick)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		// Fenced: a newer attempt, or a result, means this one is over.
		if cause := l.supersededBy(ctx); cause != nil {
			l.mu.Lock()
			l.isLost = true
			l.mu.Unlock()
			l.cancel(cause)
			return
		}
		now := time.Now().UTC()
		l.mu.Lock()
		due := now.Sub(l.a.HeartbeatAt) >= leaseLen/3 || l.progress-l.written >= 1
		expired := now.After(l.a.ExpiresAt)
		l.mu.Unlock()
		if expired {
			// Not renewed in time (storage unreachable): another worker may
			// already run the job, so this one stops.
			l.mu.Lock()
			l.isLost = true
			l.mu.Unlock()
			l.cancel(errLostLease)
			return
		}
		if due {
			l.renew(ctx, now)
		}
	}
}

// supersededBy returns why the attempt is over, or nil if it is not:
// errLostLease for a newer attempt or another attempt's result,
// errVideoDeleted for a deleted video (its tombstone, or its metadata gone
// once the delete has finished).
func (l *lease) supersededBy(ctx context.Context) error {
	_, err := l.w.videos.Stat(ctx, jobs.AttemptKey(l.id, l.a.N+1))
	if err == nil {
		return errLostLease
	}
	if !errors.Is(err, storage.ErrNotFound) {
		return nil // storage unreachable: the lease expiry decides
	}
	if _, err := l.w.videos.Stat(ctx, video.MetaKey(l.id)); errors.Is(err, storage.ErrNotFound) {
		return errVideoDeleted
	}
	if _, err := l.w.videos.Stat(ctx, jobs.ResultKey(l.id)); err != nil {
		return nil
	}
	// A result is rare here: read it to tell a deletion from a takeover.
	if deleted, err := jobs.Tombstoned(ctx, l.w.videos, l.id); err == nil && deleted {
		return errVideoDeleted
	}
	return errLostLease
}

func (l *lease) renew(ctx context.Context, now time.Time) {
	l.mu.Lock()
	a := l.a
	a.HeartbeatAt, a.ExpiresAt, a.Progress = now, now.Add(l.w.cfg.JobLease), l.progress
	l.mu.Unlock()
	b, _ := json.Marshal(a)
	if _, err := l.w.videos.Put(ctx, jobs.AttemptKey(l.id, a.N), strings.NewReader(string(b)), "application/json"); err != nil {
		if ctx.Err() == nil {
			l.w.log.Warn("heartbeat failed", slog.String("video_id", l.id), slog.Any("err", err))
		}
		return
	}
	l.mu.Lock()
	l.a, l.written = a, a.Progress
	l.mu.Unlock()
}
