package desktop

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/adrg/xdg"
	"github.com/assetlab/assetlab/desktop/upload"
	"github.com/assetlab/assetlab/server/app/apptest"
)

// isolateXDG gives the test its own XDG folders (settings, the built-in
// server's data, the list of unfinished uploads), as a fresh user account.
func isolateXDG(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	t.Setenv("XDG_CONFIG_HOME", filepath.Join(dir, "config"))
	t.Setenv("XDG_DATA_HOME", filepath.Join(dir, "data"))
	t.Setenv("XDG_STATE_HOME", filepath.Join(dir, "state"))
	xdg.Reload()
	t.Cleanup(xdg.Reload)
	return dir
}

// recordProgress keeps a's "upload:progress" events; the function returned
// gives those sent so far.
func recordProgress(a *App) func() []upload.Progress {
	var mu sync.Mutex
	var events []upload.Progress
	a.emit = func(name string, data any) {
		if name == EventUploadProgress {
			mu.Lock()
			events = append(events, data.(upload.Progress))
			mu.Unlock()
		}
	}
	return func() []upload.Progress {
		mu.Lock()
		defer mu.Unlock()
		return slices.Clone(events)
	}
}

// patchCounter is an HTTP transport that counts the bytes of PATCH bodies
// (what a resumable upload sends of the file) and, when stopAt is above zero,
// calls stop once that many have been read, and fails the request there: the
// app closing mid-upload.
type patchCounter struct {
	sent   atomic.Int64
	stopAt int64
	stop   func()
	once   sync.Once
}

func (p *patchCounter) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Method == http.MethodPatch && req.Body != nil {
		req.Body = &countedBody{ReadCloser: req.Body, p: p, ctx: req.Context()}
	}
	return http.DefaultTransport.RoundTrip(req)
}

type countedBody struct {
	io.ReadCloser
	p   *patchCounter
	ctx context.Context
}

func (b *countedBody) Read(buf []byte) (int, error) {
	if b.p.stopAt > 0 {
		if left := b.p.stopAt - b.p.sent.Load(); left <= 0 {
			b.p.once.Do(b.p.stop)
			<-b.ctx.Done()
			return 0, b.ctx.Err()
		} else if int64(len(buf)) > left {
			buf = buf[:left]
		}
	}
	n, err := b.ReadCloser.Read(buf)
	b.p.sent.Add(int64(n))
	return n, err
}

// newApp starts an app on the XDG folders in force, uploading to server.
func newApp(t *testing.T, server string) *App {
	t.Helper()
	path, err := SettingsFile()
	if err != nil {
		t.Fatal(err)
	}
	a := NewApp(path)
	if err := a.SaveSettings(server, apptest.Token); err != nil {
		t.Fatal(err)
	}
	if err := a.startup(context.Background()); err != nil {
		t.Fatal(err)
	}
	return a
}

// interrupted uploads the file at path with a new app, and closes the app
// (as its window closing does) once stopAt bytes of the file are sent.
func interrupted(t *testing.T, server, path string, stopAt int64) {
	t.Helper()
	a := newApp(t, server)
	pc := &patchCounter{stopAt: stopAt, stop: func() { a.shutdown(context.Background()) }}
	a.client = &http.Client{Transport: pc}
	_, err := a.Upload(path)
	if code(err) != upload.CodeCancelled {
		t.Fatalf("upload stopped by the app closing: got %v, want it cancelled", err)
	}
}

func sha(b []byte) [32]byte { return sha256.Sum256(b) }

// An upload cut off by the app closing is offered again by the next start
// of the app, over the same XDG folders, and resumed from where the server
// stands: the rest of the file is sent, not all of it, and the server stores
// the file whole. On both storage backends.
func TestResumeAfterRestart(t *testing.T) {
	for _, backend := range apptest.Backends {
		t.Run(backend, func(t *testing.T) {
			dir := isolateXDG(t)
			remote := apptest.Start(t, backend)
			const size = 40 << 20
			clip := filepath.Join(dir, "clip.mp4")
			apptest.WriteVideoFile(t, clip, size, 7)
			want, _ := os.ReadFile(clip)

			interrupted(t, remote.URL, clip, size/2)

			// The state file keeps the upload, readable by the user alone.
			statePath, _ := upload.StateFile()
			fi, err := os.Stat(statePath)
			if err != nil || fi.Mode().Perm() != 0o600 {
				t.Fatalf("state file %s: %v, %v; want mode 0600", statePath, fi, err)
			}
			var doc struct {
				Uploads []map[string]any `json:"uploads"`
			}
			b, _ := os.ReadFile(statePath)
			if err := json.Unmarshal(b, &doc); err != nil || len(doc.Uploads) != 1 {
				t.Fatalf("state file: got %s, want one upload", b)
			}
			for _, k := range []string{"url", "path", "size", "mtime", "head_tail_sha256"} {
				if doc.Uploads[0][k] == nil || doc.Uploads[0][k] == "" {
					t.Errorf("state file has no %q: %s", k, b)
				}
			}

			// The app starts again: it offers the upload, with the server's
			// share of it.
			a := newApp(t, remote.URL)
			defer a.shutdown(context.Background())
			pending, err := a.PendingUploads()
			if err != nil || len(pending) != 1 {
				t.Fatalf("PendingUploads: got %+v, %v; want one", pending, err)
			}
			p := pending[0]
			if p.Name != "clip.mp4" || p.Path != clip || p.Size != size || p.Problem != "" {
				t.Errorf("PendingUploads: got %+v, want clip.mp4 of %d bytes, no problem", p, size)
			}
			if p.Percent < 20 || p.Percent > 55 || p.Sent <= 0 {
				t.Errorf("PendingUploads: got %.1f%% (%d bytes) sent, want about half", p.Percent, p.Sent)
			}

			pc := &patchCounter{}
			a.client = &http.Client{Transport: pc}
			progress := recordProgress(a)
			res, err := a.ResumeUpload(p.URL)
			if err != nil {
				t.Fatalf("ResumeUpload: %v", err)
			}
			if got := pc.sent.Load(); got != size-p.Sent {
				t.Errorf("resume sent %d bytes, want the rest: %d (of %d)", got, size-p.Sent, size)
			}
			if events := progress(); len(events) == 0 || events[0].Sent < p.Sent || events[len(events)-1].Percent != 100 {
				t.Errorf("progress events %v, want them from %d bytes to 100%%", events, p.Sent)
			}

			var orig struct {
				URL string `json:"url"`
			}
			if code := remote.GetInto("/api/video/"+res.ID, &orig); code != 200 {
				t.Fatalf("GET /api/video/%s: %d", res.ID, code)
			}
			if got := apptest.Fetch(t, orig.URL); sha(got) != sha(want) {
				t.Errorf("stored original: %d bytes, SHA-256 differs from the file's (%d bytes)", len(got), len(want))
			}
			if pending, _ := a.PendingUploads(); len(pending) != 0 {
				t.Errorf("PendingUploads after the upload finished: %+v, want none", pending)
			}
		})
	}
}

// A file changed since its upload began is not resumed: the app says so
// (file_changed), ends the upload on the server and forgets it. An upload
// the server no longer has is reported (upload_gone) and forgotten.
func TestResumeRefused(t *testing.T) {
	dir := isolateXDG(t)
	remote := apptest.Start(t, "local")
	const size = 24 << 20
	clip := filepath.Join(dir, "clip.mp4")
	apptest.WriteVideoFile(t, clip, size, 3)

	// Changed, then resumed.
	interrupted(t, remote.URL, clip, size/2)
	a := newApp(t, remote.URL)
	pending, _ := a.PendingUploads()
	if len(pending) != 1 {
		t.Fatalf("PendingUploads: got %+v, want one", pending)
	}
	later := time.Now().Add(time.Minute)
	if err := os.Chtimes(clip, later, later); err != nil {
		t.Fatal(err)
	}
	_, err := a.ResumeUpload(pending[0].URL)
	if code(err) != upload.CodeFileChanged || !strings.Contains(err.Error(), "clip.mp4") {
		t.Errorf("ResumeUpload of a changed file: got %v, want file_changed naming the file", err)
	}
	assertEnded(t, pending[0].URL)
	if again, _ := a.PendingUploads(); len(again) != 0 {
		t.Errorf("PendingUploads after file_changed: %+v, want none", again)
	}

	// Changed, then listed at start: reported once, with its reason.
	interrupted(t, remote.URL, clip, size/2)
	os.WriteFile(clip, append(apptest.VideoBytes(1<<20), make([]byte, size-(1<<20))...), 0o644)
	pending, _ = newApp(t, remote.URL).PendingUploads()
	if len(pending) != 1 || pending[0].Code != upload.CodeFileChanged || pending[0].Problem == "" {
		t.Fatalf("PendingUploads with a changed file: got %+v, want it reported as file_changed", pending)
	}
	assertEnded(t, pending[0].URL)

	// Gone from the server (expired, say).
	interrupted(t, remote.URL, clip, size/2)
	a = newApp(t, remote.URL)
	pending, _ = a.PendingUploads()
	if len(pending) != 1 {
		t.Fatalf("PendingUploads: got %+v, want one", pending)
	}
	del, _ := http.NewRequest(http.MethodDelete, pending[0].URL, nil)
	del.Header.Set("Tus-Resumable", "1.0.0")
	del.Header.Set("Authorization", "Bearer "+apptest.Token)
	if resp, err := http.DefaultClient.Do(del); err != nil || resp.StatusCode != http.StatusNoContent {
		t.Fatalf("DELETE the upload: %v %v", resp, err)
	}
	if got, _ := a.PendingUploads(); len(got) != 1 || got[0].Code != upload.CodeUploadGone {
		t.Errorf("PendingUploads of an upload the server dropped: got %+v, want upload_gone", got)
	}
	if got, _ := a.PendingUploads(); len(got) != 0 {
		t.Errorf("PendingUploads, asked again: got %+v, want none", got)
	}

	// Discarded.
	interrupted(t, remote.URL, clip, size/2)
	a = newApp(t, remote.URL)
	pending, _ = a.PendingUploads()
	if len(pending) != 1 {
		t.Fatalf("PendingUploads: got %+v, want one", pending)
	}
	if err := a.DiscardUpload(pending[0].URL); err != nil {
		t.Fatalf("DiscardUpload: %v", err)
	}
	assertEnded(t, pending[0].URL)
	if got, _ := a.PendingUploads(); len(got) != 0 {
		t.Errorf("PendingUploads after DiscardUpload: %+v, want none", got)
	}
	assertNothingLeft(t, remote)
}

// assertNothingLeft checks that the server keeps nothing of the uploads
// ended: no original, no partial upload, no unfinished write. The documents
// of their locks (uploads/locks/) are left aside: the server does not yet
// remove them when a client ends an upload (DELETE).
func assertNothingLeft(t *testing.T, remote *apptest.Env) {
	t.Helper()
	var left, locks []string
	if !apptest.Within(10*time.Second, func() bool {
		left, locks = nil, nil
		for _, k := range append(remote.Objects(), remote.InFlight()...) {
			if strings.HasPrefix(k, "uploads/locks/") {
				locks = append(locks, k)
			} else {
				left = append(left, k)
			}
		}
		return len(left) == 0
	}) {
		t.Errorf("the server keeps %v of ended uploads, want nothing", left)
	}
	if len(locks) > 0 {
		t.Logf("lock documents left by the server: %d", len(locks))
	}
}

// assertEnded checks that the server no longer has the upload at u.
func assertEnded(t *testing.T, u string) {
	t.Helper()
	head, _ := http.NewRequest(http.MethodHead, u, nil)
	head.Header.Set("Tus-Resumable", "1.0.0")
	head.Header.Set("Authorization", "Bearer "+apptest.Token)
	resp, err := http.DefaultClient.Do(head)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound && resp.StatusCode != http.StatusGone {
		t.Errorf("HEAD %s: got %d, want the upload gone (404 or 410)", u, resp.StatusCode)
	}
}

// A server that does not say it takes resumable uploads (an older one) gets
// the plain POST /api/upload, as before.
func TestUploadWithoutResumable(t *testing.T) {
	isolateXDG(t)
	remote := apptest.Start(t, "local")
	target, _ := url.Parse(remote.URL)
	proxy := httputil.NewSingleHostReverseProxy(target)
	var tus atomic.Int64
	older := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/api/config":
			io.WriteString(w, `{"max_upload_bytes": 1073741824, "features": {"resumable_uploads": false}}`)
		case strings.HasPrefix(r.URL.Path, "/api/uploads/"):
			tus.Add(1)
			http.NotFound(w, r)
		default:
			proxy.ServeHTTP(w, r)
		}
	}))
	defer older.Close()
	a := newApp(t, older.URL)
	defer a.shutdown(context.Background())
	clip := filepath.Join(t.TempDir(), "clip.mp4")
	apptest.WriteVideoFile(t, clip, 3<<20, 1)
	res, err := a.Upload(clip)
	if err != nil {
		t.Fatal(err)
	}
	if tus.Load() != 0 || !strings.HasPrefix(res.Key, "originals/"+res.ID) {
		t.Errorf("got %d tus requests and result %+v, want a plain upload", tus.Load(), res)
	}
	if code, _ := remote.Get("/api/video/" + res.ID + "/status"); code != 200 {
		t.Errorf("the upload did not reach the server: %d", code)
	}
}
