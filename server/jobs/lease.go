package jobs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/assetlab/assetlab/server/storage"
	"github.com/assetlab/assetlab/server/video"
)

// Lease is a worker's claim on a job, as attempt N. Renew keeps it alive
// while the worker transcodes; Finish, Fail or Release ends it, once the
// renewing has stopped. Each of those first checks that the lease still holds,
// and after its writes that the video was not deleted meanwhile: the writes a
// concurrent delete could have missed are then its to remove.
type Lease struct {
	q     *Queue
	video video.Meta
	n     int
	log   *slog.Logger

	mu       sync.Mutex
	a        Attempt // as last written
	progress float64
	playable float64
	ended    error
}

// Video is the metadata of the video to transcode.
func (l *Lease) Video() video.Meta { return l.video }

// N is the attempt's number: its outputs go under video.AttemptPrefix(id, N).
func (l *Lease) N() int { return l.n }

// SetProgress records the progress (0-100) the next heartbeat writes.
func (l *Lease) SetProgress(p float64) {
	l.mu.Lock()
	l.progress = p
	l.mu.Unlock()
}

// SetPlayable records how many seconds of the attempt's HLS stream are
// published; the next heartbeat writes it, at once the first time.
func (l *Lease) SetPlayable(seconds float64) {
	l.mu.Lock()
	l.playable = seconds
	l.mu.Unlock()
}

// Progress is the progress last set.
func (l *Lease) Progress() float64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.progress
}

// Ended returns ErrLeaseLost or ErrDeleted once Renew has found that the
// attempt is over, and nil before.
func (l *Lease) Ended() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.ended
}

func (l *Lease) end(cause error) error {
	l.mu.Lock()
	l.ended = cause
	l.mu.Unlock()
	return cause
}

// Renew keeps the lease. It returns ErrLeaseLost once a newer attempt or
// another attempt's result exists, or the lease ran out before it was renewed,
// and ErrDeleted once the video is deleted: the attempt must then stop. It
// rewrites the attempt document, with a new expiry and the progress, when a
// third of the lease has passed since the last write or the progress moved by
// a point; an error writing it is not the end, as long as a later write
// succeeds before the lease runs out.
func (l *Lease) Renew(ctx context.Context) error {
	if err := l.Ended(); err != nil {
		return err
	}
	if cause := l.superseded(ctx); cause != nil {
		return l.end(cause)
	}
	now := time.Now().UTC()
	l.mu.Lock()
	a := l.a
	a.Progress, a.Playable = l.progress, l.playable
	// The first published segment is news to a viewer waiting for it.
	due := now.Sub(l.a.HeartbeatAt) >= l.q.Lease/3 || a.Progress-l.a.Progress >= 1 ||
		(l.a.Playable == 0 && a.Playable > 0)
	expired := now.After(l.a.ExpiresAt)
	l.mu.Unlock()
	if expired {
		// Not renewed in time (storage unreachable): another worker may
		// already run the job, so this one stops.
		return l.end(ErrLeaseLost)
	}
	if !due {
		return nil
	}
	a.HeartbeatAt, a.ExpiresAt = now, now.Add(l.q.Lease)
	if err := writeAttempt(ctx, l.q.Videos, l.video.ID, a, false); err != nil {
		return fmt.Errorf("heartbeat: %w", err)
	}
	l.mu.Lock()
	l.a = a
	l.mu.Unlock()
	return nil
}

// superseded is the fencing check: it returns ErrLeaseLost for a newer
// attempt or another attempt's result, ErrDeleted for a deleted video (its
// tombstone, or its metadata gone once the delete has finished), and nil
// otherwise, also when storage cannot be reached (the lease's expiry decides
// then).
func (l *Lease) superseded(ctx context.Context) error {
	id, s := l.video.ID, l.q.Videos
	_, err := s.Stat(ctx, attemptKey(id, l.n+1))
	if err == nil {
		return ErrLeaseLost
	}
	if !errors.Is(err, storage.ErrNotFound) {
		return nil
	}
	if _, err := s.Stat(ctx, video.MetaKey(id)); errors.Is(err, storage.ErrNotFound) {
		return ErrDeleted
	}
	if _, err := s.Stat(ctx, resultKey(id)); err != nil {
		return nil
	}
	// A result is rare here: read it to tell a deletion from a takeover.
	if deleted, err := tombstoned(ctx, s, id); err == nil && deleted {
		return ErrDeleted
	}
	return ErrLeaseLost
}

// Finish ends the job as done with res (its status and attempt are set here),
// then removes the queue marker and the outputs of earlier attempts. It
// returns ErrLeaseLost if the lease no longer held (the attempt's outputs are
// removed), ErrEnded if another attempt ended the job first, ErrDeleted if the
// video was deleted, and any other error if the result could not be written:
// the attempt has then failed.
func (l *Lease) Finish(ctx context.Context, res Result) error {
	if cause := l.Ended(); cause != nil {
		return l.abandon(ctx, cause)
	}
	id := l.video.ID
	res.Status, res.Attempt = video.StatusDone, l.n
	err := writeResult(ctx, l.q.Videos, id, res)
	// Whatever the write did, a delete may have come meanwhile: its
	// tombstone makes the write fail, and a delete that has finished
	// already shows as metadata gone.
	if l.purgeIfDeleted(ctx) {
		return ErrDeleted
	}
	if errors.Is(err, storage.ErrExists) {
		l.removeOutputs(ctx, l.n)
		return ErrEnded
	}
	if err != nil {
		return fmt.Errorf("store the result: %w", err)
	}
	if err := l.q.Videos.Delete(ctx, QueueKey(id)); err != nil {
		l.log.Warn("remove queue marker", slog.Any("err", err))
	}
	for n := 1; n < l.n; n++ {
		l.removeOutputs(ctx, n)
	}
	return nil
}

// Fail ends the attempt as failed, for f: its outputs go, and its document
// says why. If f is not worth retrying, or the attempt was the last one
// allowed, the job ends in error, and Fail returns its result. Like Finish, it
// returns ErrLeaseLost or ErrDeleted for an attempt that was over already.
func (l *Lease) Fail(ctx context.Context, f Failure) (*Result, error) {
	if cause := l.Ended(); cause != nil {
		return nil, l.abandon(ctx, cause)
	}
	// The input may have gone with the video before a heartbeat told.
	if l.purgeIfDeleted(ctx) {
		return nil, ErrDeleted
	}
	defer l.purgeIfDeleted(ctx) // a delete that raced the writes below
	l.removeOutputs(ctx, l.n)
	now := time.Now().UTC()
	l.mu.Lock()
	a := l.a
	l.mu.Unlock()
	a.State, a.Error, a.ErrorClass, a.Retryable, a.HeartbeatAt, a.ExpiresAt = AttemptFailed, f.Reason, f.Class, f.Retryable, now, now
	if err := writeAttempt(ctx, l.q.Videos, l.video.ID, a, false); err != nil {
		return nil, fmt.Errorf("record the failed attempt (its lease will expire, and the job be retried): %w", err)
	}
	reason, end := l.q.giveUp(a.Failures+1, f)
	if !end {
		return nil, nil
	}
	res := Result{Status: video.StatusError, Attempt: a.N, Error: reason, ErrorClass: f.Class}
	if err := l.q.end(ctx, l.video.ID, res); err != nil {
		return nil, err
	}
	return &res, nil
}

// Release hands the job back when the worker is shutting down: its document
// says it was released, which ends its lease now without counting as a
// failure, so that another worker takes the job at once.
func (l *Lease) Release(ctx context.Context) error {
	if cause := l.Ended(); cause != nil {
		return l.abandon(ctx, cause)
	}
	if l.purgeIfDeleted(ctx) {
		return ErrDeleted
	}
	defer l.purgeIfDeleted(ctx)
	// Its outputs stay: the attempt that finishes the job removes those of
	// the attempts before it (and a job ending in error, all of them), and
	// a long video's segments would take longer to delete than a worker
	// shutting down has.
	tctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	now := time.Now().UTC()
	l.mu.Lock()
	a := l.a
	l.mu.Unlock()
	a.State, a.HeartbeatAt, a.ExpiresAt = AttemptReleased, now, now
	if err := writeAttempt(tctx, l.q.Videos, l.video.ID, a, false); err != nil {
		return fmt.Errorf("release the job (its lease will expire instead): %w", err)
	}
	return nil
}

// abandon stops an attempt that is over (cause). If the video was deleted,
// what it wrote goes and the deletion is finished. If its lease was lost
// while the job runs on, its stream stays whole for its viewers until the
// attempt that finishes the job removes it; once the job has ended, it goes.
func (l *Lease) abandon(ctx context.Context, cause error) error {
	if l.purgeIfDeleted(ctx) {
		return cause
	}
	if _, err := l.q.Videos.Stat(ctx, resultKey(l.video.ID)); err == nil || !errors.Is(cause, ErrLeaseLost) {
		l.removeOutputs(ctx, l.n)
	}
	return cause
}

// purgeIfDeleted runs once the attempt has stopped writing (its lease is no
// longer renewed) or right after its claim: if the video was deleted
// meanwhile, what the delete may have missed (the attempt's outputs and
// documents, written after it listed them) goes, and the deletion is
// finished. It reports whether the video was deleted.
func (l *Lease) purgeIfDeleted(ctx context.Context) bool {
	id := l.video.ID
	deleted, err := isDeleted(ctx, l.q.Videos, id)
	if err != nil {
		l.log.Warn("check whether the video was deleted", slog.Any("err", err))
		return false
	}
	if !deleted {
		return false
	}
	l.removeOutputs(ctx, l.n)
	// The attempt's document first, so that purge does not take it for a
	// running attempt and leave the tombstone for it.
	if err := l.q.Videos.Delete(ctx, attemptKey(id, l.n)); err != nil {
		l.log.Warn("remove the attempt of a deleted video", slog.Any("err", err))
	}
	if _, err := purge(ctx, l.q.Raw, l.q.Videos, id); err != nil {
		l.log.Warn("finish deleting the video; the next queue scan retries", slog.Any("err", err))
		return true
	}
	l.log.Info("the video was deleted: removed what this attempt made")
	return true
}

// removeOutputs deletes what attempt n uploaded.
func (l *Lease) removeOutputs(ctx context.Context, n int) { l.q.removeOutputs(ctx, l.video.ID, n) }

// removeOutputs deletes what attempt n of video id's job uploaded.
func (q *Queue) removeOutputs(ctx context.Context, id string, n int) {
	objs, err := q.Videos.List(ctx, video.AttemptPrefix(id, n))
	if err != nil {
		q.log().Warn("list outputs to remove", slog.Any("err", err))
		return
	}
	keys := make([]string, len(objs))
	for i, o := range objs {
		keys[i] = o.Key
	}
	if err := deleteAll(ctx, q.Videos, keys); err != nil {
		q.log().Warn("remove outputs", slog.Any("err", err))
	}
}
