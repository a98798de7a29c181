package jobs

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/assetlab/assetlab/server/storage"
	"github.com/assetlab/assetlab/server/video"
)

// StatusDeleted is the status of a tombstone: the result document written
// first when a video is deleted. Being a result, it ends the job for every
// attempt: a running attempt sees it at its next heartbeat and stops, and an
// attempt that finishes anyway cannot create its own result (ErrExists).
const StatusDeleted = "deleted"

// ErrNoVideo is returned by Delete for a video that does not exist and whose
// deletion was not begun either.
var ErrNoVideo = errors.New("no such video")

// isDeleted reports whether video id is deleted or being deleted: its metadata
// is gone, or its job ended with a tombstone. A worker asks after each write
// it makes for a video (its claim, its last attempt document, its result):
// the writes a concurrent delete could have missed are then its to remove.
func isDeleted(ctx context.Context, s storage.Store, id string) (bool, error) {
	_, err := s.Stat(ctx, video.MetaKey(id))
	if errors.Is(err, storage.ErrNotFound) {
		return true, nil
	}
	if err != nil {
		return false, err
	}
	return tombstoned(ctx, s, id)
}

// Delete removes video id and everything made from it: its documents,
// renditions, job and original; or, if the video already answers 404 because
// an earlier deletion was cut short, it finishes that deletion. It returns
// ErrNoVideo if there is neither. See purge for how it is safe against a
// transcode of the video running at the same time.
func Delete(ctx context.Context, raw, videos storage.Store, id string) error {
	_, err := videos.Stat(ctx, video.MetaKey(id))
	if errors.Is(err, storage.ErrNotFound) {
		begun, terr := tombstoned(ctx, videos, id)
		if terr != nil {
			return fmt.Errorf("delete %s: %w", id, terr)
		}
		if !begun {
			return ErrNoVideo
		}
	} else if err != nil {
		return fmt.Errorf("delete %s: %w", id, err)
	}
	_, err = purge(ctx, raw, videos, id)
	return err
}

// purge removes video id and everything made from it. It can be run again,
// by the API or by a worker, after a failure at any step, and it is safe
// against a transcode of the video running at the same time. The order is
// what makes it so:
//
//  1. The tombstone (a result saying "deleted") fences off any running
//     attempt: it stops at its next heartbeat, and its result write fails.
//  2. The metadata: the video now answers 404, and isDeleted reports true
//     until the end, so a worker that writes anything after this step finds
//     out when it checks, and removes it.
//  3. Everything else but the tombstone.
//  4. The tombstone and the queue marker, unless an attempt still held its
//     lease at step 1. Then they stay, with that attempt's document: its
//     worker finishes the deletion when it stops, and if that worker dies,
//     the next worker that scans the queue finds the marker and finishes it
//     once the lease is over.
//
// It reports whether the tombstone was left for a running attempt.
func purge(ctx context.Context, raw, videos storage.Store, id string) (left bool, err error) {
	var prior Result
	err = readJSON(ctx, videos, resultKey(id), &prior)
	ended := err == nil && prior.Status != StatusDeleted
	if err != nil && !errors.Is(err, storage.ErrNotFound) {
		return false, fmt.Errorf("delete %s: %w", id, err)
	}
	if err := writeResult(ctx, videos, id, Result{Status: StatusDeleted}); err != nil {
		return false, fmt.Errorf("delete %s: write tombstone: %w", id, err)
	}
	if err := videos.Delete(ctx, video.MetaKey(id)); err != nil {
		return false, fmt.Errorf("delete %s: %w", id, err)
	}
	// Read after the tombstone: an attempt claimed later saw the tombstone
	// (and did not start) or checks isDeleted right after its claim.
	running, keep := false, resultKey(id)
	if !ended {
		latest, err := LatestAttempt(ctx, videos, id)
		if err != nil {
			return false, fmt.Errorf("delete %s: %w", id, err)
		}
		if latest != nil && latest.Live(time.Now()) {
			// Its document stays too, so that no other worker finishes
			// the deletion before that attempt's lease is over.
			running, keep = true, attemptKey(id, latest.N)
		}
	}
	if running {
		// The marker is how a worker finds this deletion again should the
		// running one die; it normally still exists, but make sure.
		if _, err := videos.Put(ctx, QueueKey(id), bytes.NewReader(nil), "application/octet-stream"); err != nil {
			return false, fmt.Errorf("delete %s: %w", id, err)
		}
	}
	for _, p := range []struct {
		s      storage.Store
		prefix string
	}{
		{videos, jobPrefix(id)},
		{videos, video.Prefix(id)},
		{raw, video.OriginalPrefix(id)}, // whatever its extension
	} {
		objs, err := p.s.List(ctx, p.prefix)
		if err != nil {
			return false, fmt.Errorf("delete %s: %w", id, err)
		}
		for _, o := range objs {
			if o.Key == resultKey(id) || o.Key == keep {
				continue
			}
			if err := p.s.Delete(ctx, o.Key); err != nil {
				return false, fmt.Errorf("delete %s: %w", id, err)
			}
		}
	}
	if running {
		return true, nil
	}
	if err := videos.Delete(ctx, QueueKey(id)); err != nil {
		return false, fmt.Errorf("delete %s: %w", id, err)
	}
	if err := videos.Delete(ctx, resultKey(id)); err != nil {
		return false, fmt.Errorf("delete %s: %w", id, err)
	}
	return false, nil
}

// tombstoned reports whether a deletion of video id was begun and not
// finished (its tombstone is still there).
func tombstoned(ctx context.Context, s storage.Store, id string) (bool, error) {
	var res Result
	err := readJSON(ctx, s, resultKey(id), &res)
	if errors.Is(err, storage.ErrNotFound) {
		return false, nil
	}
	return err == nil && res.Status == StatusDeleted, err
}
