package upload_test

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/assetlab/assetlab/desktop/upload"
	"github.com/assetlab/assetlab/server/app/apptest"
)

// videoFile writes a file of size bytes that starts like an MP4.
func videoFile(t *testing.T, size int64, random bool) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "clip.mp4")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	f.Write(apptest.MP4Head)
	if random {
		io.CopyN(f, rand.Reader, size-int64(len(apptest.MP4Head)))
	} else if err := f.Truncate(size); err != nil { // sparse: quick to make
		t.Fatal(err)
	}
	return path
}

func sum(t *testing.T, r io.Reader) [32]byte {
	h := sha256.New()
	if _, err := io.Copy(h, r); err != nil {
		t.Fatal(err)
	}
	var s [32]byte
	copy(s[:], h.Sum(nil))
	return s
}

func TestUploadStreamsWithProgress(t *testing.T) {
	e := apptest.Start(t, "local")
	path := videoFile(t, 12<<20+99, true)
	var reports []upload.Progress
	res, err := upload.Upload(context.Background(), http.DefaultClient, e.URL, apptest.Token, path, func(p upload.Progress) {
		reports = append(reports, p)
	})
	if err != nil {
		t.Fatal(err)
	}
	_, body := e.Get("/api/video/" + res.ID)
	resp, err := http.Get(body["url"].(string))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	f, _ := os.Open(path)
	defer f.Close()
	if sum(t, resp.Body) != sum(t, f) {
		t.Error("the stored original differs from the file")
	}
	if len(reports) == 0 {
		t.Fatal("no progress reported")
	}
	last := reports[len(reports)-1]
	if last.Sent != 12<<20+99 || last.Total != 12<<20+99 || last.Percent != 100 {
		t.Errorf("last progress %+v, want all of the file", last)
	}
	for i := 1; i < len(reports); i++ {
		if reports[i].Sent < reports[i-1].Sent {
			t.Errorf("progress went back: %d then %d", reports[i-1].Sent, reports[i].Sent)
		}
	}
}

func TestUploadErrors(t *testing.T) {
	e := apptest.Start(t, "local", "ASSETLAB_MAX_UPLOAD_BYTES=8388608")
	small := videoFile(t, 100_000, true)
	text := filepath.Join(t.TempDir(), "notes.mp4")
	os.WriteFile(text, []byte(strings.Repeat("just text ", 100)), 0o644)
	empty := filepath.Join(t.TempDir(), "empty.mp4")
	os.WriteFile(empty, nil, 0o644)
	closed := func() string {
		l, _ := net.Listen("tcp", "127.0.0.1:0")
		defer l.Close()
		return "http://" + l.Addr().String()
	}()
	// From a server without GET /api/config the 9 MiB file is sent and
	// refused (413); one with it has the uploader refuse the file first
	// (status 0). Either way the words are the same.
	const eitherStatus = -99
	cases := []struct {
		name, server, token, path string
		status                    int
		code, message             string
	}{
		{"wrong token", e.URL, "nope-nope-nope-nope", small, 401, "invalid_token", "The upload token was refused"},
		{"over the server's limit", e.URL, apptest.Token, videoFile(t, 9<<20, false), eitherStatus, "file_too_large", "“clip.mp4” is 9 MiB; the limit is 8 MiB."},
		{"not a video", e.URL, apptest.Token, text, 0, "unsupported_type", "“notes.mp4” is not a video"},
		{"empty", e.URL, apptest.Token, empty, 0, "empty_file", "“empty.mp4” is empty."},
		{"missing", e.URL, apptest.Token, "/no/such/file.mp4", 0, "unreadable", "“file.mp4” cannot be opened"},
		{"server unreachable", closed, apptest.Token, small, 0, "unreachable", "cannot be reached"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := upload.Upload(context.Background(), http.DefaultClient, c.server, c.token, c.path, nil)
			var ue *upload.Error
			if !errors.As(err, &ue) || ue.Code != c.code || !strings.Contains(ue.Message, c.message) ||
				(c.status != eitherStatus && ue.Status != c.status) {
				t.Errorf("got %#v, want status %d, code %q, saying %q", err, c.status, c.code, c.message)
			}
			e.AssertClean(nil, 5*time.Second)
		})
	}
}

// A server without GET /api/config (an older one) takes up to 1 GiB: a file
// over that is refused before anything is sent.
func TestOlderServerLimit(t *testing.T) {
	var posts atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost {
			posts.Add(1)
		}
		w.WriteHeader(http.StatusNotFound)
		io.WriteString(w, `{"error":"no such endpoint"}`)
	}))
	defer srv.Close()
	_, err := upload.Upload(context.Background(), srv.Client(), srv.URL, "t", videoFile(t, 1<<30+1, false), nil)
	var ue *upload.Error
	want := "“clip.mp4” is 1.0 GiB; the limit is 1 GiB."
	if !errors.As(err, &ue) || ue.Code != "file_too_large" || ue.Message != want {
		t.Errorf("got %v, want %q", err, want)
	}
	if n := posts.Load(); n != 0 {
		t.Errorf("got %d uploads sent, want none", n)
	}
}

// The limit is the server's, from GET /api/config: below 1 GiB the file is
// refused before sending, above it a file over 1 GiB is sent.
func TestLimitFromServerConfig(t *testing.T) {
	for _, c := range []struct {
		name     string
		limit    int64
		size     int64
		wantSent bool
		message  string
	}{
		{"a 1 MiB limit refuses 2 MiB", 1 << 20, 2 << 20, false, "“clip.mp4” is 2 MiB; the limit is 1 MiB."},
		{"a 1.5 KiB limit refuses 1.6 KiB", 1536, 1640, false, "“clip.mp4” is 1.6 KiB; the limit is 1.5 KiB."},
		{"a 2 GiB limit takes 1 GiB and a byte", 2 << 30, 1<<30 + 1, true, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			var posts atomic.Int32
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				switch {
				case r.Method == http.MethodGet && r.URL.Path == "/api/config":
					fmt.Fprintf(w, `{"max_upload_bytes": %d, "accepted_types": ["video/mp4"], "accepted_extensions": [".mp4"]}`, c.limit)
				case r.Method == http.MethodPost && r.URL.Path == "/api/upload":
					// It was sent: that is all this test needs to see.
					posts.Add(1)
					cancel()
				default:
					http.NotFound(w, r)
				}
			}))
			defer srv.Close()
			_, err := upload.Upload(ctx, srv.Client(), srv.URL, "t", videoFile(t, c.size, false), nil)
			var ue *upload.Error
			if !errors.As(err, &ue) {
				t.Fatalf("got %v, want an *upload.Error", err)
			}
			if sent := posts.Load() > 0; sent != c.wantSent {
				t.Errorf("sent: got %v, want %v (%v)", sent, c.wantSent, err)
			}
			if !c.wantSent && (ue.Code != "file_too_large" || ue.Status != 0 || ue.Message != c.message) {
				t.Errorf("got %+v, want file_too_large, status 0, saying %q", ue, c.message)
			}
		})
	}
}

// The server's codes are said in the uploader's words, whatever the server's
// own text; an unknown code shows that text.
func TestServerCodesInWords(t *testing.T) {
	for _, c := range []struct {
		status  int
		body    string
		code    string
		message string
	}{
		{507, `{"error":"storage is full: free up space on the server, then try again","code":"storage_full"}`, "storage_full", "The server's storage is full: ask its admin to free up space, then try again."},
		{503, `{"error":"too many uploads in progress, try again shortly","code":"too_many_uploads"}`, "too_many_uploads", "The server is busy with other uploads. Try again in a moment."},
		{401, `{"error":"missing bearer token","code":"missing_token"}`, "missing_token", "Enter the upload token first."},
		{413, `{"error":"file too large: the limit is 5 MiB","code":"file_too_large"}`, "file_too_large", "“clip.mp4” is 98 KiB; the limit is 5 MiB."},
		{415, `{"error":"not a supported video file","code":"unsupported_type"}`, "unsupported_type", "“clip.mp4” is not a video AssetLab can take. Choose an MP4, MOV, WebM or MKV file."},
		{400, `{"error":"missing the field \"file\"","code":"bad_request"}`, "bad_request", `The server could not take the request: missing the field "file".`},
		{500, `{"error":"internal error","code":"internal"}`, "internal", "Something went wrong on the server. Try again; if it keeps failing, tell its admin."},
		{418, `{"error":"a newer server says so","code":"brand_new"}`, "brand_new", "a newer server says so"},
		// An older server sends no code.
		{401, `{"error":"invalid token"}`, "invalid_token", "The upload token was refused. Check it and try again."},
		{502, `bad gateway`, "", "The server answered 502."},
	} {
		t.Run(c.body, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.URL.Path == "/api/config" {
					http.NotFound(w, r)
					return
				}
				io.Copy(io.Discard, r.Body)
				w.WriteHeader(c.status)
				io.WriteString(w, c.body)
			}))
			defer srv.Close()
			_, err := upload.Upload(context.Background(), srv.Client(), srv.URL, "t", videoFile(t, 100_000, true), nil)
			var ue *upload.Error
			if !errors.As(err, &ue) || ue.Status != c.status || ue.Code != c.code || ue.Message != c.message {
				t.Errorf("got %#v, want status %d, code %q, saying %q", err, c.status, c.code, c.message)
			}
		})
	}
}

func TestFormatBytes(t *testing.T) {
	for _, c := range []struct {
		n    int64
		want string
	}{
		{0, "0 B"}, {1023, "1023 B"}, {1536, "1.5 KiB"}, {8 << 20, "8 MiB"},
		{9<<20 + 300<<10, "9.3 MiB"}, {100 << 20, "100 MiB"}, {1 << 30, "1 GiB"}, {1<<30 + 1, "1.0 GiB"}, {5 << 40, "5 TiB"},
	} {
		if got := upload.FormatBytes(c.n); got != c.want {
			t.Errorf("FormatBytes(%d): got %q, want %q", c.n, got, c.want)
		}
	}
}

func TestCancel(t *testing.T) {
	e := apptest.Start(t, "local")
	path := videoFile(t, 600<<20, false)
	ctx, cancel := context.WithCancel(context.Background())
	_, err := upload.Upload(ctx, http.DefaultClient, e.URL, apptest.Token, path, func(p upload.Progress) {
		if p.Sent > 20<<20 {
			cancel()
		}
	})
	var ue *upload.Error
	if !errors.As(err, &ue) || ue.Status != -1 || ue.Code != "cancelled" || ue.Message != "Upload cancelled." {
		t.Fatalf("got %v, want a cancelled upload", err)
	}
	e.AssertClean(nil, 10*time.Second)
}

// The file is streamed: uploading 512 MiB allocates a few MiB at most.
func TestMemoryStaysFlat(t *testing.T) {
	sink := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.WriteHeader(http.StatusCreated)
		io.WriteString(w, `{"id":"x","key":"y"}`)
	}))
	defer sink.Close()
	const size = 512 << 20
	path := videoFile(t, size, false)
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	if _, err := upload.Upload(context.Background(), sink.Client(), sink.URL, "t", path, func(upload.Progress) {}); err != nil {
		t.Fatal(err)
	}
	runtime.ReadMemStats(&after)
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 16<<20 {
		t.Errorf("allocated %d MiB to upload %d MiB, want a few: the file must stream", alloc>>20, size>>20)
	}
}
