package jobs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/assetlab/assetlab/server/storage"
	"github.com/assetlab/assetlab/server/video"
)

// Why Claim gave no lease.
var (
	// ErrBusy: another attempt holds the job's lease, or the job waits out
	// the backoff after a failed attempt.
	ErrBusy = errors.New("job busy")
	// ErrTaken: another worker claimed the same attempt first.
	ErrTaken = errors.New("job claimed by another worker")
	// ErrEnded: the job has ended (by another attempt, when a lease method
	// returns it).
	ErrEnded = errors.New("job ended")
	// ErrGaveUp: Claim ended the job in error, because its last attempt
	// failed for good or was the last one allowed.
	ErrGaveUp = errors.New("job ended in error")
	// ErrDeleted: the video was deleted; what the attempt made was removed,
	// and the deletion finished.
	ErrDeleted = errors.New("the video was deleted")
)

// ErrLeaseLost ends an attempt that another attempt has superseded: a newer
// attempt or another attempt's result exists, or its lease ran out before it
// was renewed (then another worker may be running the job already).
var ErrLeaseLost = errors.New("lease lost to another worker")

// ClassEnvironment is the failure class of the machine's fault (the values are
// those of the worker's transcode.Class). A worker that stops responding is
// one.
const ClassEnvironment = "environment"

// Queue is the workers' side of the protocol: it hands out jobs as leases,
// under the lease length, retry cap and backoff it holds.
type Queue struct {
	// Raw holds the originals; Videos holds the jobs, documents and renditions.
	Raw, Videos storage.Store
	// Lease is how long an attempt holds its job without a heartbeat.
	Lease time.Duration
	// MaxAttempts is the retry cap: the number of failed attempts after
	// which a job ends in error.
	MaxAttempts int
	// Backoff is the wait after the first failed attempt; it doubles with
	// each further one.
	Backoff time.Duration
	// Log takes what goes wrong in clean-ups that are retried anyway
	// (default slog.Default()).
	Log *slog.Logger
}

func (q *Queue) log() *slog.Logger {
	if q.Log == nil {
		return slog.Default()
	}
	return q.Log
}

// Failure is why an attempt failed.
type Failure struct {
	// Class is whose fault it was: "input", "environment" or "transient".
	Class string
	// Reason is the public reason, in plain words.
	Reason string
	// Retryable is false when another attempt would fail the same way.
	Retryable bool
}

// failure is how attempt a failed, and when: an attempt still running after
// its lease belongs to a worker that stopped responding.
func (a *Attempt) failure() (Failure, time.Time) {
	if a.State == AttemptRunning {
		return Failure{Class: ClassEnvironment, Reason: "the worker stopped responding", Retryable: true}, a.ExpiresAt
	}
	return Failure{Class: a.ErrorClass, Reason: a.Error, Retryable: a.Retryable}, a.HeartbeatAt
}

// giveUp is the retry cap. After failures failed attempts, the last of which
// failed with f, it reports whether the job ends, and the public reason it
// ends with.
func (q *Queue) giveUp(failures int, f Failure) (string, bool) {
	switch {
	case !f.Retryable:
		return f.Reason, true
	case failures < q.MaxAttempts:
		return "", false
	case failures == 1:
		return "transcoding failed because of a problem on the server, not with the file: " + f.Reason, true
	}
	return fmt.Sprintf("transcoding failed %d times because of a problem on the server, not with the file; last: %s", failures, f.Reason), true
}

// backoff is the wait after the failures-th failed attempt before the next.
func (q *Queue) backoff(failures int) time.Duration {
	return q.Backoff << min(failures-1, 10)
}

// Claim takes the job of video id for worker as its next attempt, with an
// atomic create-if-absent, so that of the workers racing for it exactly one
// gets the lease. It returns ErrBusy, ErrTaken, ErrEnded or ErrDeleted when
// there is nothing to run, and ErrGaveUp when it ended the job instead (the
// retry cap). On the way it finishes what others left: the deletion of a
// deleted video, the queue marker of a job that ended.
func (q *Queue) Claim(ctx context.Context, id, worker string) (*Lease, error) {
	st, err := Load(ctx, q.Videos, id)
	if err != nil {
		return nil, fmt.Errorf("claim %s: %w", id, err)
	}
	if st.Result != nil && st.Result.Status == StatusDeleted {
		// A deletion left for an attempt that was running: finish it once
		// no attempt holds a lease (the one running finishes it itself).
		latest, err := LatestAttempt(ctx, q.Videos, id)
		if err != nil {
			return nil, fmt.Errorf("claim %s: %w", id, err)
		}
		if latest != nil && latest.Live(time.Now()) {
			return nil, ErrBusy
		}
		if _, err := purge(ctx, q.Raw, q.Videos, id); err != nil {
			return nil, err
		}
		return nil, ErrDeleted
	}
	if st.Result != nil {
		// Ended, but the marker was not removed (a crash between the two).
		if err := q.Videos.Delete(ctx, QueueKey(id)); err != nil {
			return nil, fmt.Errorf("claim %s: %w", id, err)
		}
		return nil, ErrEnded
	}
	var meta video.Meta
	err = readJSON(ctx, q.Videos, video.MetaKey(id), &meta)
	if errors.Is(err, storage.ErrNotFound) {
		// The video was deleted: remove whatever a worker that died
		// meanwhile may have left, and the marker.
		if _, err := purge(ctx, q.Raw, q.Videos, id); err != nil {
			return nil, err
		}
		return nil, ErrDeleted
	}
	if err != nil {
		return nil, fmt.Errorf("claim %s: %w", id, err)
	}

	n, failures := 1, 0
	if last := st.Latest; last != nil {
		now := time.Now()
		if last.Live(now) {
			return nil, ErrBusy
		}
		n, failures = last.N+1, last.Failures
		if last.State != AttemptReleased {
			f, failedAt := last.failure()
			failures++
			if reason, end := q.giveUp(failures, f); end {
				res := Result{Status: video.StatusError, Attempt: last.N, Error: reason, ErrorClass: f.Class}
				if err := q.end(ctx, id, res); err != nil {
					return nil, err
				}
				return nil, fmt.Errorf("%w: %s", ErrGaveUp, reason)
			}
			if now.Before(failedAt.Add(q.backoff(failures))) {
				return nil, ErrBusy
			}
		}
	}

	now := time.Now().UTC()
	a := Attempt{
		N: n, Worker: worker, State: AttemptRunning, Failures: failures,
		StartedAt: now, HeartbeatAt: now, ExpiresAt: now.Add(q.Lease),
	}
	if err := writeAttempt(ctx, q.Videos, id, a, true); err != nil {
		if errors.Is(err, storage.ErrExists) {
			return nil, ErrTaken
		}
		return nil, fmt.Errorf("claim %s: %w", id, err)
	}
	l := &Lease{q: q, video: meta, n: n, a: a,
		log: q.log().With(slog.String("video_id", id), slog.Int("attempt", n))}
	// A delete may have come between the checks above and the claim.
	if l.purgeIfDeleted(context.WithoutCancel(ctx)) {
		return nil, ErrDeleted
	}
	return l, nil
}

// end ends a job in error, unless it has ended already, and removes its
// queue marker.
func (q *Queue) end(ctx context.Context, id string, res Result) error {
	err := writeResult(ctx, q.Videos, id, res)
	if err != nil && !errors.Is(err, storage.ErrExists) {
		return fmt.Errorf("end job %s: %w", id, err)
	}
	if err == nil {
		// It ended here, in error: attempts whose worker died may have
		// published part of a stream, which no one else will remove.
		for n := 1; n <= res.Attempt; n++ {
			q.removeOutputs(ctx, id, n)
		}
	}
	if err := q.Videos.Delete(ctx, QueueKey(id)); err != nil {
		return fmt.Errorf("end job %s: %w", id, err)
	}
	return nil
}
