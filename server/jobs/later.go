package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/assetlab/assetlab/server/storage"
)

// laterPrefix holds deletions put off to a set time: a finished stream's
// separate segments outlive the transcode for players that loaded a playlist
// naming them. A document in storage, not a timer in memory, so that a worker
// that dies or is redeployed meanwhile leaves nothing behind: any worker's
// queue scan carries out what is due (RunDeletions).
const laterPrefix = root + "later/"

// laterKey sorts by due time, so that a scan stops at the first not due.
func laterKey(due time.Time, id string, attempt int) string {
	return fmt.Sprintf("%s%020d-%s-%d.json", laterPrefix, due.UnixNano(), id, attempt)
}

func dueOf(key string) (time.Time, bool) {
	n, _, ok := strings.Cut(strings.TrimPrefix(key, laterPrefix), "-")
	ns, err := strconv.ParseInt(n, 10, 64)
	return time.Unix(0, ns), ok && err == nil
}

type deletion struct {
	Keys []string `json:"keys"`
}

// DeleteLater records that keys are to be deleted once due has passed.
func DeleteLater(ctx context.Context, s storage.Store, due time.Time, id string, attempt int, keys []string) error {
	b, err := json.Marshal(deletion{Keys: keys})
	if err != nil {
		return err
	}
	if err := s.Create(ctx, laterKey(due, id, attempt), b, "application/json"); err != nil && !errors.Is(err, storage.ErrExists) {
		return fmt.Errorf("record deletion for later: %w", err)
	}
	return nil
}

// RunDeletions carries out the deletions recorded by DeleteLater that are
// due, a few keys at a time. A deletion is forgotten only once all its keys
// are gone, so one that fails is tried again at the next call.
func RunDeletions(ctx context.Context, s storage.Store, log *slog.Logger) error {
	list, err := s.List(ctx, laterPrefix)
	if err != nil {
		return err
	}
	now := time.Now()
	for _, o := range list {
		due, ok := dueOf(o.Key)
		if !ok {
			continue
		}
		if due.After(now) {
			break
		}
		var d deletion
		if err := readJSON(ctx, s, o.Key, &d); errors.Is(err, storage.ErrNotFound) {
			continue // another worker did it
		} else if err != nil {
			return err
		}
		if err := deleteAll(ctx, s, d.Keys); err != nil {
			return err
		}
		if err := s.Delete(ctx, o.Key); err != nil {
			return err
		}
		log.Debug("deleted what was due", slog.Int("objects", len(d.Keys)))
	}
	return nil
}

// deleteAll deletes keys, eight at a time; it returns the first error, once
// every key has been tried.
func deleteAll(ctx context.Context, s storage.Store, keys []string) error {
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		first error
	)
	sem := make(chan struct{}, 8)
	for _, k := range keys {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			if err := s.Delete(ctx, k); err != nil {
				mu.Lock()
				if first == nil {
					first = err
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	return first
}
