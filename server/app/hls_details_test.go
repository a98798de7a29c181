package app_test

import (
	"context"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/assetlab/assetlab/server/app/apptest"
	"github.com/assetlab/assetlab/server/jobs"
	"github.com/assetlab/assetlab/server/video"
)

// detailsJSON reads GET /api/videos/{id} as a JSON object, to tell a field
// that is absent from one that is empty.
func detailsJSON(t *testing.T, e *apptest.Env, id string) map[string]any {
	t.Helper()
	var m map[string]any
	if code := e.GetInto("/api/videos/"+id, &m); code != http.StatusOK {
		t.Fatalf("details of %s: got %d, want 200", id, code)
	}
	return m
}

// checkStream fails the test unless the video's details give the stream of
// attempt n with playable seconds, or, for n 0, no stream at all.
func checkStream(t *testing.T, e *apptest.Env, id, status string, n int, playable float64) {
	t.Helper()
	d := detailsJSON(t, e, id)
	if d["status"] != status {
		t.Errorf("status: got %v, want %s", d["status"], status)
	}
	if n == 0 {
		if u, ok := d["hls_url"]; ok {
			t.Errorf("hls_url: got %v, want none", u)
		}
		if p, ok := d["playable_seconds"]; ok {
			t.Errorf("playable_seconds: got %v, want none", p)
		}
		return
	}
	want := e.URL + "/api/videos/" + id + "/hls/" + strconv.Itoa(n) + "/master.m3u8"
	if d["hls_url"] != want {
		t.Errorf("hls_url: got %v, want %s", d["hls_url"], want)
	}
	if d["playable_seconds"] != playable {
		t.Errorf("playable_seconds: got %v, want %v", d["playable_seconds"], playable)
	}
}

// GET /api/videos/{id} (and the library) gives the stream of the attempt a
// viewer plays: the running one's once it has published some, also after
// its lease lapsed, the next one's after a takeover, the finished one's;
// no stream for a video without one.
func TestDetailsHLS(t *testing.T) {
	for _, backend := range apptest.Backends {
		t.Run(backend, func(t *testing.T) {
			e := apptest.Start(t, backend)
			ctx := context.Background()
			raw, videos := e.Server.Stores().Raw, e.Server.Stores().Videos
			queue := func(lease time.Duration) *jobs.Queue {
				return &jobs.Queue{Raw: raw, Videos: videos, Lease: lease, MaxAttempts: 3, Backoff: time.Millisecond}
			}
			claim := func(q *jobs.Queue, id string) *jobs.Lease {
				t.Helper()
				l, err := q.Claim(ctx, id, "test-worker")
				if err != nil {
					t.Fatalf("claim %s: %v", id, err)
				}
				return l
			}
			playable := func(l *jobs.Lease, seconds float64) {
				t.Helper()
				l.SetPlayable(seconds)
				if err := l.Renew(ctx); err != nil {
					t.Fatalf("renew: %v", err)
				}
			}

			// Pending: nothing to play yet.
			a := e.UploadID(apptest.VideoBytes(1000))
			checkStream(t, e, a, "pending", 0, 0)

			// Running, before its master playlist: none; after, its stream.
			la := claim(queue(time.Minute), a)
			la.SetProgress(10)
			if err := la.Renew(ctx); err != nil {
				t.Fatal(err)
			}
			checkStream(t, e, a, "processing", 0, 0)
			publish(t, videos, a, la.N())
			playable(la, 4)
			checkStream(t, e, a, "processing", 1, 4)

			// The library describes each video the same way.
			var lib struct{ Videos []map[string]any }
			if code := e.DoInto("GET", "/api/videos", apptest.Token, "", nil, &lib); code != http.StatusOK || len(lib.Videos) != 1 ||
				lib.Videos[0]["hls_url"] != e.URL+"/api/videos/"+a+"/hls/1/master.m3u8" || lib.Videos[0]["playable_seconds"] != 4.0 {
				t.Errorf("library: got %d %v, want video %s with its stream", code, lib.Videos, a)
			}

			// Done with a stream: the finished attempt's, playable in full.
			if err := la.Finish(ctx, jobs.Result{HLS: true, Duration: 12.5,
				Renditions: []jobs.Rendition{{Quality: "360p", Width: 640, Height: 360, Size: 50_000}}}); err != nil {
				t.Fatal(err)
			}
			checkStream(t, e, a, "done", 1, 12.5)

			// An attempt whose lease lapsed keeps its stream in the details
			// (the video is pending again); the attempt that takes over has
			// none until it publishes, then its own; done, its own.
			b := e.UploadID(apptest.VideoBytes(1000))
			lb1 := claim(queue(time.Second), b)
			publish(t, videos, b, lb1.N())
			playable(lb1, 2)
			apptest.Eventually(t, 30*time.Second, "the lease to lapse", func() bool {
				return e.Details(b).Status == "pending"
			})
			checkStream(t, e, b, "pending", 1, 2)
			lb2 := claim(queue(time.Minute), b)
			if lb2.N() != 2 {
				t.Fatalf("takeover: got attempt %d, want 2", lb2.N())
			}
			checkStream(t, e, b, "processing", 0, 0)
			publish(t, videos, b, 2)
			playable(lb2, 6)
			checkStream(t, e, b, "processing", 2, 6)
			if err := lb2.Finish(ctx, jobs.Result{HLS: true, Duration: 8,
				Renditions: []jobs.Rendition{{Quality: "360p", Width: 640, Height: 360, Size: 50_000}}}); err != nil {
				t.Fatal(err)
			}
			checkStream(t, e, b, "done", 2, 8)

			// Transcoded before HLS: the renditions, no stream.
			c := e.UploadID(apptest.VideoBytes(1000))
			lc := claim(queue(time.Minute), c)
			if err := videos.Create(ctx, video.RenditionKey(c, 1, "360p"), []byte("mp4"), "video/mp4"); err != nil {
				t.Fatal(err)
			}
			if err := lc.Finish(ctx, jobs.Result{Duration: 3,
				Renditions: []jobs.Rendition{{Quality: "360p", Width: 640, Height: 360, Size: 3}}}); err != nil {
				t.Fatal(err)
			}
			checkStream(t, e, c, "done", 0, 0)
			if d := e.Details(c); len(d.Renditions) != 1 {
				t.Errorf("renditions of a video without a stream: got %+v, want the 360p one", d.Renditions)
			}

			// Failed for good: none.
			f := e.UploadID(apptest.VideoBytes(1000))
			lf := claim(queue(time.Minute), f)
			publish(t, videos, f, 1)
			playable(lf, 2)
			if _, err := lf.Fail(ctx, jobs.Failure{Class: "input", Reason: "not a video", Retryable: false}); err != nil {
				t.Fatal(err)
			}
			checkStream(t, e, f, "error", 0, 0)
		})
	}
}
