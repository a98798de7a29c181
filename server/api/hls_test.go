package api

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/assetlab/assetlab/server/jobs"
	"github.com/assetlab/assetlab/server/storage"
	"github.com/assetlab/assetlab/server/video"
)

// countingStore counts the storage operations made through it (signing a
// URL is not one: it reaches no storage).
type countingStore struct {
	storage.Store
	calls atomic.Int64
}

func (c *countingStore) Put(ctx context.Context, key string, r io.Reader, ct string) (storage.Info, error) {
	c.calls.Add(1)
	return c.Store.Put(ctx, key, r, ct)
}

func (c *countingStore) Create(ctx context.Context, key string, body []byte, ct string) error {
	c.calls.Add(1)
	return c.Store.Create(ctx, key, body, ct)
}

func (c *countingStore) Get(ctx context.Context, key string) (io.ReadCloser, storage.Info, error) {
	c.calls.Add(1)
	return c.Store.Get(ctx, key)
}

func (c *countingStore) Stat(ctx context.Context, key string) (storage.Info, error) {
	c.calls.Add(1)
	return c.Store.Stat(ctx, key)
}

func (c *countingStore) Delete(ctx context.Context, key string) error {
	c.calls.Add(1)
	return c.Store.Delete(ctx, key)
}

func (c *countingStore) List(ctx context.Context, prefix string) ([]storage.Info, error) {
	c.calls.Add(1)
	return c.Store.List(ctx, prefix)
}

func (c *countingStore) Ping(ctx context.Context) error {
	c.calls.Add(1)
	return c.Store.Ping(ctx)
}

// A viewer fetches a playlist every few seconds and a segment each time:
// a playlist costs exactly one storage read, whether it is there or not, and
// a segment or file none (it is a redirect to a signed URL).
func TestHLSStorageCalls(t *testing.T) {
	local, err := storage.NewLocal("videos", t.TempDir(), []byte("0123456789abcdef0123456789abcdef"), "http://127.0.0.1:1")
	if err != nil {
		t.Fatal(err)
	}
	counted := &countingStore{Store: local}
	srv := httptest.NewServer(New(Options{
		Videos: storage.Composer{Store: counted, SelfServed: local},
		URLTTL: time.Hour, CORSOrigins: []string{"*"},
	}).Handler())
	defer srv.Close()
	id := video.NewID()
	if err := local.Create(context.Background(), video.HLSKey(id, 1, "master.m3u8"), []byte("#EXTM3U\n"), ""); err != nil {
		t.Fatal(err)
	}
	noRedirects := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for _, c := range []struct {
		method, name string
		status       int
		calls        int64
	}{
		{"GET", "master.m3u8", 200, 1},
		{"HEAD", "master.m3u8", 200, 1},
		{"GET", "720p.m3u8", 404, 1},
		{"GET", "720p/init.mp4", 302, 0},
		{"GET", "720p/3.m4s", 302, 0},
		{"HEAD", "720p/3.m4s", 302, 0},
		{"GET", "720p.mp4", 302, 0},
		{"GET", "poster.jpg", 400, 0},
	} {
		counted.calls.Store(0)
		req, _ := http.NewRequest(c.method, srv.URL+"/api/videos/"+id+"/hls/1/"+c.name, nil)
		resp, err := noRedirects.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != c.status || counted.calls.Load() != c.calls {
			t.Errorf("%s %s: got %d after %d storage calls, want %d after %d", c.method, c.name, resp.StatusCode, counted.calls.Load(), c.status, c.calls)
		}
		// A redirect is signed for the address the client reached.
		if loc := resp.Header.Get("Location"); c.status == 302 && !strings.HasPrefix(loc, srv.URL+"/files/videos/"+video.HLSKey(id, 1, c.name)+"?") {
			t.Errorf("%s %s: Location %q, want a signed URL under %s/files/videos/", c.method, c.name, loc, srv.URL)
		}
	}
}

// The attempt whose stream a viewer plays, and how much of it.
func TestHLSAttempt(t *testing.T) {
	running := func(n int, playable float64) *jobs.Attempt {
		return &jobs.Attempt{N: n, State: jobs.AttemptRunning, Playable: playable, ExpiresAt: time.Now().Add(time.Minute)}
	}
	lapsed := running(2, 6)
	lapsed.ExpiresAt = time.Now().Add(-time.Minute)
	for _, c := range []struct {
		name     string
		st       jobs.State
		n        int
		playable float64
	}{
		{"pending, no attempt", jobs.State{Status: video.StatusPending}, 0, 0},
		{"running, nothing published", jobs.State{Status: video.StatusProcessing, Latest: running(1, 0)}, 0, 0},
		{"running, published", jobs.State{Status: video.StatusProcessing, Latest: running(1, 4)}, 1, 4},
		{"lease lapsed", jobs.State{Status: video.StatusPending, Latest: lapsed}, 2, 6},
		{"failed attempt", jobs.State{Status: video.StatusPending, Latest: &jobs.Attempt{N: 1, State: jobs.AttemptFailed, Playable: 4}}, 0, 0},
		{"released attempt", jobs.State{Status: video.StatusPending, Latest: &jobs.Attempt{N: 1, State: jobs.AttemptReleased, Playable: 4}}, 0, 0},
		{"done with a stream", jobs.State{Status: video.StatusDone, Result: &jobs.Result{Status: video.StatusDone, Attempt: 3, HLS: true, Duration: 9.5}}, 3, 9.5},
		{"done before HLS", jobs.State{Status: video.StatusDone, Result: &jobs.Result{Status: video.StatusDone, Attempt: 1, Duration: 9.5}}, 0, 0},
		{"error", jobs.State{Status: video.StatusError, Result: &jobs.Result{Status: video.StatusError, Attempt: 1, HLS: true}}, 0, 0},
	} {
		n, playable, ok := hlsAttempt(c.st)
		if n != c.n || playable != c.playable || ok != (c.n > 0) {
			t.Errorf("%s: got attempt %d, %v s (%v), want %d, %v s", c.name, n, playable, ok, c.n, c.playable)
		}
	}
}
