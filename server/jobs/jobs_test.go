package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/assetlab/assetlab/server/storage"
	"github.com/assetlab/assetlab/server/video"
)

// countingStore counts the listings made through it.
type countingStore struct {
	storage.Store
	lists atomic.Int32
}

func (c *countingStore) List(ctx context.Context, prefix string) ([]storage.Info, error) {
	c.lists.Add(1)
	return c.Store.List(ctx, prefix)
}

func newStore(t *testing.T) storage.Store {
	t.Helper()
	s, err := storage.NewLocal("videos", t.TempDir(), []byte("0123456789abcdef0123456789abcdef"), "http://127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func keys(t *testing.T, s storage.Store) string {
	t.Helper()
	list, err := s.List(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, o := range list {
		out = append(out, o.Key)
	}
	return strings.Join(out, " ")
}

// Many callers within the TTL cost one listing; live and expired workers are
// told apart.
func TestRosterCaches(t *testing.T) {
	ctx := context.Background()
	s := &countingStore{Store: newStore(t)}
	now := time.Now().UTC()
	for name, expires := range map[string]time.Time{"a": now.Add(time.Minute), "b": now.Add(time.Minute), "dead": now.Add(-time.Minute)} {
		if err := Announce(ctx, s, WorkerInfo{Name: name, ExpiresAt: expires}); err != nil {
			t.Fatal(err)
		}
	}
	r := &Roster{Store: s, TTL: time.Hour}
	var wg sync.WaitGroup
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if n, err := r.Live(ctx); err != nil || n != 2 {
				t.Errorf("live workers: got %d, %v; want 2", n, err)
			}
		}()
	}
	wg.Wait()
	if got := s.lists.Load(); got != 1 {
		t.Errorf("got %d listings for 20 callers, want 1", got)
	}
	if err := Withdraw(ctx, s, "a"); err != nil {
		t.Fatal(err)
	}
	r.TTL = time.Nanosecond
	if n, _ := r.Live(ctx); n != 1 {
		t.Errorf("after a withdrawal and the TTL: got %d live, want 1", n)
	}
}

// Delete leaves the tombstone, the live attempt's document and the queue
// marker for a running attempt, and nothing otherwise.
func TestDelete(t *testing.T) {
	ctx := context.Background()
	const id = "0b6c7a52-3a61-4c9f-9a53-1f1d8e0e2f10"
	for _, c := range []struct {
		name      string
		expiresIn time.Duration
		want      string
	}{
		{"no attempt", 0, ""},
		{"expired attempt", -time.Second, ""},
		{"running attempt", time.Minute, attemptKey(id, 1) + " " + resultKey(id) + " " + QueueKey(id)},
	} {
		t.Run(c.name, func(t *testing.T) {
			raw, videos := newStore(t), newStore(t)
			raw.Create(ctx, video.OriginalKey(id, ".mp4"), []byte("x"), "video/mp4")
			videos.Create(ctx, video.MetaKey(id), []byte("{}"), "application/json")
			videos.Create(ctx, video.RenditionKey(id, 1, "360p"), []byte("x"), "video/mp4")
			Enqueue(ctx, videos, id)
			if c.expiresIn != 0 {
				b, _ := json.Marshal(Attempt{N: 1, State: AttemptRunning, ExpiresAt: time.Now().Add(c.expiresIn)})
				videos.Create(ctx, attemptKey(id, 1), b, "application/json")
			}
			left, err := purge(ctx, raw, videos, id)
			if err != nil {
				t.Fatal(err)
			}
			if got := keys(t, videos); got != c.want || left != (c.want != "") {
				t.Errorf("left %v, objects %q; want %q", left, got, c.want)
			}
			if got := keys(t, raw); got != "" {
				t.Errorf("raw store holds %q, want nothing", got)
			}
			if deleted, err := isDeleted(ctx, videos, id); !deleted || err != nil {
				t.Errorf("isDeleted: got %v, %v; want true", deleted, err)
			}
		})
	}
}

// Delete deletes a video, finishes a deletion that was cut short, and says
// when there is neither.
func TestDeleteWhat(t *testing.T) {
	ctx := context.Background()
	eachBackend(t, func(t *testing.T, raw, videos storage.Store) {
		if err := Delete(ctx, raw, videos, video.NewID()); !errors.Is(err, ErrNoVideo) {
			t.Errorf("delete of an unknown video: got %v, want ErrNoVideo", err)
		}
		id := upload(t, raw, videos)
		output(t, videos, id, 1)
		if err := Delete(ctx, raw, videos, id); err != nil {
			t.Fatal(err)
		}
		assertGone(t, raw, videos, id)
		if err := Delete(ctx, raw, videos, id); !errors.Is(err, ErrNoVideo) {
			t.Errorf("delete again: got %v, want ErrNoVideo", err)
		}

		// Cut short after the metadata went: the tombstone says a
		// deletion was begun, so deleting again finishes it.
		id = upload(t, raw, videos)
		output(t, videos, id, 1)
		if err := writeResult(ctx, videos, id, Result{Status: StatusDeleted}); err != nil {
			t.Fatal(err)
		}
		if err := videos.Delete(ctx, video.MetaKey(id)); err != nil {
			t.Fatal(err)
		}
		if err := Delete(ctx, raw, videos, id); err != nil {
			t.Fatalf("finish a cut-short delete: %v", err)
		}
		assertGone(t, raw, videos, id)
	})
}

// Deletions put off until later happen once due, by whoever scans, and one
// that fails is tried again.
func TestDeleteLater(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	put := func(key string) {
		if _, err := s.Put(ctx, key, strings.NewReader("x"), "text/plain"); err != nil {
			t.Fatal(err)
		}
	}
	has := func(key string) bool { _, err := s.Stat(ctx, key); return err == nil }
	put("videos/a/1")
	put("videos/a/2")
	put("videos/b/1")
	now := time.Now()
	if err := DeleteLater(ctx, s, now.Add(-time.Second), "a", 1, []string{"videos/a/1", "videos/a/2", "videos/a/gone"}); err != nil {
		t.Fatal(err)
	}
	if err := DeleteLater(ctx, s, now.Add(time.Hour), "b", 1, []string{"videos/b/1"}); err != nil {
		t.Fatal(err)
	}
	if err := RunDeletions(ctx, s, slog.Default()); err != nil {
		t.Fatal(err)
	}
	if has("videos/a/1") || has("videos/a/2") {
		t.Error("a deletion that was due did not happen")
	}
	if !has("videos/b/1") {
		t.Error("a deletion that was not due happened")
	}
	if list, _ := s.List(ctx, laterPrefix); len(list) != 1 {
		t.Errorf("records left %v, want the one not due", list)
	}
}
