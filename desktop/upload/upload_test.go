package upload_test

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
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
	cases := []struct {
		name, server, token, path string
		status                    int
		message                   string
	}{
		{"wrong token", e.URL, "nope-nope-nope-nope", small, 401, "token was refused"},
		{"over the server's limit", e.URL, apptest.Token, videoFile(t, 9<<20, false), 413, "too large: the limit is 8 MiB"},
		{"not a video", e.URL, apptest.Token, text, 0, "is not a video"},
		{"empty", e.URL, apptest.Token, empty, 0, "is empty"},
		{"missing", e.URL, apptest.Token, "/no/such/file.mp4", 0, "cannot be opened"},
		{"over 1 GiB", e.URL, apptest.Token, videoFile(t, 1<<30+1, false), 0, "the limit is 1 GB"},
		{"server unreachable", closed, apptest.Token, small, 0, "cannot be reached"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := upload.Upload(context.Background(), http.DefaultClient, c.server, c.token, c.path, nil)
			var ue *upload.Error
			if !errors.As(err, &ue) || ue.Status != c.status || !strings.Contains(ue.Message, c.message) {
				t.Errorf("got %#v, want status %d saying %q", err, c.status, c.message)
			}
			e.AssertClean(nil, 5*time.Second)
		})
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
	if !errors.As(err, &ue) || ue.Status != -1 || ue.Message != "Upload cancelled." {
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
