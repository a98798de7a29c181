package upload_test

import (
	"context"
	"errors"
	"fmt"
	"golang.org/x/exp/slog"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/adrg/xdg"
	"github.com/tus/tusd/v2/pkg/filestore"
	"github.com/tus/tusd/v2/pkg/handler"
	"github.com/tus/tusd/v2/pkg/memorylocker"

	"github.com/assetlab/assetlab/desktop/upload"
)

const tusToken = "secret"

// tusServer is a tusd server on the local disk at /api/uploads/, with the
// server's Bearer check and GET /api/config, that names the video of a
// finished upload "vid-" + its upload ID.
type tusServer struct {
	URL string
	Dir string
	// patches counts PATCH requests; onPatch, if set, may answer one itself
	// (returning true) instead of tusd.
	patches   atomic.Int64
	patchBody atomic.Int64 // bytes declared by PATCH requests
	onPatch   func(n int64, w http.ResponseWriter, r *http.Request) bool
}

func startTus(t *testing.T) *tusServer {
	t.Helper()
	s := &tusServer{Dir: t.TempDir()}
	composer := handler.NewStoreComposer()
	filestore.New(s.Dir).UseIn(composer)
	memorylocker.New().UseIn(composer)
	h, err := handler.NewHandler(handler.Config{
		BasePath:      "/api/uploads/",
		StoreComposer: composer,
		Logger:        slog.New(slog.NewTextHandler(io.Discard, nil)),
		PreFinishResponseCallback: func(ev handler.HookEvent) (handler.HTTPResponse, error) {
			return handler.HTTPResponse{Header: handler.HTTPHeader{upload.VideoIDHeader: "vid-" + ev.Upload.ID}}, nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	uploads := http.StripPrefix("/api/uploads/", h)
	mux := http.NewServeMux()
	mux.HandleFunc("/api/config", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, `{"max_upload_bytes": 1073741824}`)
	})
	mux.HandleFunc("/api/uploads/", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer "+tusToken {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusUnauthorized)
			io.WriteString(w, `{"error":"invalid token","code":"invalid_token"}`)
			return
		}
		if r.Method == http.MethodPatch {
			n := s.patches.Add(1)
			s.patchBody.Add(r.ContentLength)
			if s.onPatch != nil && s.onPatch(n, w, r) {
				return
			}
		}
		uploads.ServeHTTP(w, r)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	s.URL = srv.URL
	return s
}

// stored is the SHA-256 of what the server holds of the upload at url.
func (s *tusServer) stored(t *testing.T, url string) [32]byte {
	t.Helper()
	f, err := os.Open(filepath.Join(s.Dir, path.Base(url)))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	return sum(t, f)
}

func fileSum(t *testing.T, p string) [32]byte {
	t.Helper()
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	return sum(t, f)
}

// stateHome gives the test its own XDG state folder, as a fresh app start.
func stateHome(t *testing.T) string {
	dir := t.TempDir()
	t.Setenv("XDG_STATE_HOME", dir)
	xdg.Reload()
	t.Cleanup(xdg.Reload)
	return filepath.Join(dir, "assetlab", "uploads.json")
}

func TestTusUploadCompletes(t *testing.T) {
	state := stateHome(t)
	s := startTus(t)
	const size = 5<<20 + 12345
	file := videoFile(t, size, true)
	r := &upload.Resumable{Server: s.URL, Token: tusToken, ChunkSize: 1 << 20}
	var reports []upload.Progress
	res, err := r.Upload(context.Background(), file, func(p upload.Progress) { reports = append(reports, p) })
	if err != nil {
		t.Fatal(err)
	}
	if got := s.patches.Load(); got != 6 {
		t.Errorf("got %d PATCHes, want 6 (1 MiB chunks)", got)
	}
	entries, _ := os.ReadDir(s.Dir)
	var id string
	for _, e := range entries {
		if filepath.Ext(e.Name()) == "" {
			id = e.Name()
		}
	}
	if res.ID != "vid-"+id {
		t.Errorf("got video ID %q, want %q", res.ID, "vid-"+id)
	}
	if got, want := s.stored(t, id), fileSum(t, file); got != want {
		t.Error("the server's bytes differ from the file's")
	}
	if len(reports) == 0 || reports[len(reports)-1].Sent != size || reports[len(reports)-1].Percent != 100 {
		t.Errorf("got reports %v, want the last at 100%%", reports)
	}
	if p, err := r.Pending(); err != nil || len(p) != 0 {
		t.Errorf("got pending %v, %v; want none after completion", p, err)
	}
	if _, err := os.Stat(state); err != nil {
		t.Errorf("got %v, want a state file", err)
	}
}

func TestTusWrongToken(t *testing.T) {
	stateHome(t)
	s := startTus(t)
	r := &upload.Resumable{Server: s.URL, Token: "wrong"}
	_, err := r.Upload(context.Background(), videoFile(t, 1<<20, false), nil)
	var ue *upload.Error
	if !errors.As(err, &ue) || ue.Code != "invalid_token" || ue.Status != http.StatusUnauthorized {
		t.Fatalf("got %v, want invalid_token", err)
	}
}

// cutProxy forwards TCP to target and, once, closes the connection after
// cutAt bytes have gone to the server in all. It counts every byte sent.
type cutProxy struct {
	URL   string
	sent  atomic.Int64
	cut   atomic.Bool
	cutAt int64
}

func startCutProxy(t *testing.T, target string, cutAt int64) *cutProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &cutProxy{URL: "http://" + ln.Addr().String(), cutAt: cutAt}
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		conns []net.Conn
	)
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for _, c := range conns { // idle keep-alive connections
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	addr := target[len("http://"):]
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			wg.Add(1)
			go func() {
				defer wg.Done()
				p.serve(c, addr)
			}()
		}
	}()
	return p
}

func (p *cutProxy) serve(c net.Conn, addr string) {
	defer c.Close()
	up, err := net.Dial("tcp", addr)
	if err != nil {
		return
	}
	defer up.Close()
	go func() { io.Copy(c, up); c.Close() }()
	buf := make([]byte, 32<<10)
	for {
		n, err := c.Read(buf)
		if n > 0 {
			total := p.sent.Add(int64(n))
			if total >= p.cutAt && p.cut.CompareAndSwap(false, true) {
				up.Write(buf[:n-int(total-p.cutAt)])
				return // both ends closed mid-request
			}
			if _, err := up.Write(buf[:n]); err != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

func TestTusRetriesFromServerOffset(t *testing.T) {
	stateHome(t)
	s := startTus(t)
	const size, chunk = 6 << 20, 2 << 20
	proxy := startCutProxy(t, s.URL, 3<<20) // in the second chunk
	file := videoFile(t, size, true)
	r := &upload.Resumable{Server: proxy.URL, Token: tusToken, ChunkSize: chunk, Backoff: 10 * time.Millisecond}
	res, err := r.Upload(context.Background(), file, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !proxy.cut.Load() {
		t.Fatal("the connection was never cut")
	}
	if res.ID == "" {
		t.Error("got no video ID")
	}
	id := res.ID[len("vid-"):]
	if got, want := s.stored(t, id), fileSum(t, file); got != want {
		t.Error("the server's bytes differ from the file's")
	}
	// Requests and their headers are a few KiB; a client that started over
	// would send 3 MiB more.
	if got, limit := proxy.sent.Load(), int64(size+chunk+64<<10); got > limit {
		t.Errorf("sent %d bytes in all, want at most %d (size + one chunk)", got, limit)
	}
	if got := s.patches.Load(); got < 4 {
		t.Errorf("got %d PATCHes, want at least 4 (one retried)", got)
	}
}

// interrupt makes the n-th PATCH cancel the client's context, as an app
// closing mid-upload: the server keeps what came before.
func interrupt(s *tusServer, n int64, cancel context.CancelFunc) {
	s.onPatch = func(i int64, w http.ResponseWriter, r *http.Request) bool {
		if i != n {
			return false
		}
		cancel()
		io.Copy(io.Discard, r.Body) // ends when the client gives up
		w.WriteHeader(http.StatusServiceUnavailable)
		return true
	}
}

func TestTusResumeAfterRestart(t *testing.T) {
	state := stateHome(t)
	s := startTus(t)
	const size, chunk = 5<<20 + 7, 1 << 20
	file := videoFile(t, size, true)

	ctx, cancel := context.WithCancel(context.Background())
	interrupt(s, 3, cancel)
	first := &upload.Resumable{Server: s.URL, Token: tusToken, ChunkSize: chunk}
	_, err := first.Upload(ctx, file, nil)
	var ue *upload.Error
	if !errors.As(err, &ue) || ue.Code != "cancelled" {
		t.Fatalf("got %v, want cancelled", err)
	}
	fi, err := os.Stat(state)
	if err != nil {
		t.Fatal(err)
	}
	if got := fi.Mode().Perm(); got != 0o600 {
		t.Errorf("got state file mode %o, want 600", got)
	}

	// A new app over the same XDG folders.
	s.onPatch = nil
	s.patchBody.Store(0)
	xdg.Reload()
	second := &upload.Resumable{Server: s.URL, Token: tusToken, ChunkSize: chunk}
	pending, err := second.Pending()
	if err != nil || len(pending) != 1 {
		t.Fatalf("got pending %v, %v; want one upload", pending, err)
	}
	if abs, _ := filepath.Abs(file); pending[0].Path != abs || pending[0].Size != size {
		t.Errorf("got pending %+v, want %s of %d bytes", pending[0], abs, size)
	}
	var reports []upload.Progress
	res, err := second.Resume(context.Background(), pending[0].URL, func(p upload.Progress) { reports = append(reports, p) })
	if err != nil {
		t.Fatal(err)
	}
	if got, want := s.patchBody.Load(), int64(size-2*chunk); got != want {
		t.Errorf("resumed with %d bytes sent, want %d (from the server's offset)", got, want)
	}
	if len(reports) == 0 || reports[0].Sent < 2*chunk || reports[len(reports)-1].Sent != size {
		t.Errorf("got reports %v, want them from %d to %d", reports, 2*chunk, size)
	}
	id := path.Base(pending[0].URL)
	if res.ID != "vid-"+id {
		t.Errorf("got video ID %q, want %q", res.ID, "vid-"+id)
	}
	if got, want := s.stored(t, id), fileSum(t, file); got != want {
		t.Error("the server's bytes differ from the file's")
	}
	if p, _ := second.Pending(); len(p) != 0 {
		t.Errorf("got pending %v after completion, want none", p)
	}
}

func TestTusResumeRefusesChangedFile(t *testing.T) {
	const size, chunk = 3<<20 + 5, 1 << 20
	for _, tc := range []struct {
		name   string
		change func(t *testing.T, file string)
	}{
		{"touched", func(t *testing.T, file string) {
			later := time.Now().Add(time.Hour)
			os.Chtimes(file, later, later)
		}},
		{"last byte, same mtime", func(t *testing.T, file string) {
			fi, _ := os.Stat(file)
			f, _ := os.OpenFile(file, os.O_WRONLY, 0)
			f.WriteAt([]byte{0xAA ^ lastByte(t, file)}, size-1)
			f.Close()
			os.Chtimes(file, fi.ModTime(), fi.ModTime())
		}},
		{"longer", func(t *testing.T, file string) {
			f, _ := os.OpenFile(file, os.O_WRONLY|os.O_APPEND, 0)
			f.Write([]byte("more"))
			f.Close()
		}},
		{"gone", func(t *testing.T, file string) { os.Remove(file) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			stateHome(t)
			s := startTus(t)
			file := videoFile(t, size, true)
			ctx, cancel := context.WithCancel(context.Background())
			interrupt(s, 2, cancel)
			r := &upload.Resumable{Server: s.URL, Token: tusToken, ChunkSize: chunk}
			r.Upload(ctx, file, nil)
			s.onPatch = nil
			pending, _ := r.Pending()
			if len(pending) != 1 {
				t.Fatalf("got pending %v, want one", pending)
			}
			tc.change(t, file)
			before := s.patches.Load()
			_, err := r.Resume(context.Background(), pending[0].URL, nil)
			var ue *upload.Error
			want := "file_changed"
			if tc.name == "gone" {
				want = "unreadable"
			}
			if !errors.As(err, &ue) || ue.Code != want {
				t.Fatalf("got %v, want %s", err, want)
			}
			if got := s.patches.Load(); got != before {
				t.Errorf("got %d PATCHes for a changed file, want none", got-before)
			}
			// Cancel ends it on the server and forgets it.
			if err := r.Cancel(context.Background(), pending[0].URL); err != nil {
				t.Fatal(err)
			}
			if _, err := os.Stat(filepath.Join(s.Dir, path.Base(pending[0].URL))); !os.IsNotExist(err) {
				t.Errorf("got %v, want the upload gone from the server", err)
			}
			if p, _ := r.Pending(); len(p) != 0 {
				t.Errorf("got pending %v after Cancel, want none", p)
			}
		})
	}
}

func lastByte(t *testing.T, file string) byte {
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	return b[len(b)-1]
}

func TestTusResumeOfExpiredUpload(t *testing.T) {
	stateHome(t)
	s := startTus(t)
	file := videoFile(t, 3<<20, true)
	ctx, cancel := context.WithCancel(context.Background())
	interrupt(s, 2, cancel)
	r := &upload.Resumable{Server: s.URL, Token: tusToken, ChunkSize: 1 << 20}
	r.Upload(ctx, file, nil)
	pending, _ := r.Pending()
	if len(pending) != 1 {
		t.Fatalf("got pending %v, want one", pending)
	}
	id := path.Base(pending[0].URL)
	os.Remove(filepath.Join(s.Dir, id))
	os.Remove(filepath.Join(s.Dir, id+".info"))
	_, err := r.Resume(context.Background(), pending[0].URL, nil)
	var ue *upload.Error
	if !errors.As(err, &ue) || ue.Code != "upload_gone" {
		t.Fatalf("got %v, want upload_gone", err)
	}
	if p, _ := r.Pending(); len(p) != 0 {
		t.Errorf("got pending %v, want the gone upload forgotten", p)
	}
}

// An upload the server no longer has, answered as AssetLab's server does
// (JSON, upload_not_found) to a PATCH, is gone and forgotten too.
func TestTusUploadGoneMidway(t *testing.T) {
	stateHome(t)
	s := startTus(t)
	s.onPatch = func(n int64, w http.ResponseWriter, r *http.Request) bool {
		if n < 2 {
			return false
		}
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Tus-Resumable", "1.0.0")
		w.WriteHeader(http.StatusNotFound)
		io.WriteString(w, `{"error":"upload not found","code":"upload_not_found"}`)
		return true
	}
	file := videoFile(t, 3<<20, true)
	r := &upload.Resumable{Server: s.URL, Token: tusToken, ChunkSize: 1 << 20}
	_, err := r.Upload(context.Background(), file, nil)
	var ue *upload.Error
	if !errors.As(err, &ue) || ue.Code != "upload_gone" {
		t.Fatalf("got %v, want upload_gone", err)
	}
	if p, _ := r.Pending(); len(p) != 0 {
		t.Errorf("got pending %v, want the gone upload forgotten", p)
	}
}

// Two uploads at once keep both their entries.
func TestTusStateKeepsConcurrentUploads(t *testing.T) {
	stateHome(t)
	s := startTus(t)
	var mu sync.Mutex
	seen := map[string]bool{}
	s.onPatch = func(n int64, w http.ResponseWriter, r *http.Request) bool {
		mu.Lock()
		defer mu.Unlock()
		seen[r.URL.Path] = true
		w.WriteHeader(http.StatusInternalServerError) // keep both pending
		return true
	}
	r := &upload.Resumable{Server: s.URL, Token: tusToken, Retries: 1, Backoff: time.Millisecond}
	var wg sync.WaitGroup
	for range 4 {
		f := videoFile(t, 1000, false)
		wg.Add(1)
		go func() {
			defer wg.Done()
			r.Upload(context.Background(), f, nil)
		}()
	}
	wg.Wait()
	if p, _ := r.Pending(); len(p) != 4 {
		t.Errorf("got %d pending, want 4", len(p))
	}
}

// The file streams chunk by chunk: sending 256 MiB in 16 MiB chunks
// allocates a few MiB at most, not a chunk.
func TestTusMemoryStaysFlat(t *testing.T) {
	stateHome(t)
	var offset atomic.Int64
	sink := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.Method {
		case http.MethodPost:
			w.Header().Set("Location", "/api/uploads/x")
			w.WriteHeader(http.StatusCreated)
		case http.MethodPatch:
			n, _ := io.Copy(io.Discard, r.Body)
			w.Header().Set("Upload-Offset", fmt.Sprint(offset.Add(n)))
			w.WriteHeader(http.StatusNoContent)
		default:
			w.WriteHeader(http.StatusNotFound) // GET /api/config: an older server's defaults
		}
	}))
	defer sink.Close()
	const size = 256 << 20
	file := videoFile(t, size, false)
	r := &upload.Resumable{Client: sink.Client(), Server: sink.URL, Token: "t"}
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	if _, err := r.Upload(context.Background(), file, func(upload.Progress) {}); err != nil {
		t.Fatal(err)
	}
	runtime.ReadMemStats(&after)
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 8<<20 {
		t.Errorf("allocated %d MiB to upload %d MiB, want a few: the file must stream", alloc>>20, size>>20)
	}
	if got := offset.Load(); got != size {
		t.Errorf("got %d bytes at the server, want %d", got, size)
	}
}

// The user's Cancel while the file is sent: the sending stops, the server
// deletes what it had, the state file forgets it.
func TestTusCancelMidUpload(t *testing.T) {
	stateHome(t)
	s := startTus(t)
	file := videoFile(t, 4<<20, true)
	r := &upload.Resumable{Server: s.URL, Token: tusToken, ChunkSize: 1 << 20}
	p, err := r.Create(context.Background(), file)
	if err != nil {
		t.Fatal(err)
	}
	if pending, _ := r.Pending(); len(pending) != 1 || pending[0] != p {
		t.Fatalf("got pending %v, want %v", pending, p)
	}
	ctx, cancel := context.WithCancel(context.Background())
	interrupt(s, 3, cancel)
	_, err = r.Resume(ctx, p.URL, nil)
	var ue *upload.Error
	if !errors.As(err, &ue) || ue.Code != "cancelled" || ue.Status != -1 {
		t.Fatalf("got %v, want cancelled", err)
	}
	if _, err := os.Stat(filepath.Join(s.Dir, path.Base(p.URL))); err != nil {
		t.Fatalf("got %v, want the upload on the server before Cancel", err)
	}
	if err := r.Cancel(context.Background(), p.URL); err != nil {
		t.Fatal(err)
	}
	if entries, _ := os.ReadDir(s.Dir); len(entries) != 0 {
		t.Errorf("got %d files on the server after Cancel, want none", len(entries))
	}
	if pending, _ := r.Pending(); len(pending) != 0 {
		t.Errorf("got pending %v after Cancel, want none", pending)
	}
}
