package app_test

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/assetlab/assetlab/server/app/apptest"
	"github.com/assetlab/assetlab/server/storage/s3test"
	"github.com/assetlab/assetlab/worker/mediatest"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// tusClip is a real video of about 12 MiB (lossless, noisy frames), so that
// its halves span several of s3store's parts.
func tusClip(t *testing.T) []byte {
	t.Helper()
	path := mediatest.MakeNamed(t, mediatest.Clip{Width: 480, Height: 270, Seconds: 2,
		VideoArgs: []string{"-c:v", "libx264", "-preset", "ultrafast", "-qp", "0", "-pix_fmt", "yuv420p"},
		Extra:     []string{"-vf", "noise=alls=60:allf=t"}}, "clip.mp4")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) < 10<<20 {
		t.Fatalf("clip: got %d bytes, want at least 10 MiB", len(b))
	}
	return b
}

// tusCreate creates an upload of size bytes named filename at base and
// returns its path (/api/uploads/{id}).
func tusCreate(t *testing.T, base, filename string, size int) string {
	t.Helper()
	resp, body := tusDo(t, "POST", base+"/api/uploads/", apptest.Token, nil, map[string]string{
		"Upload-Length": strconv.Itoa(size), "Upload-Metadata": tusMeta(filename)})
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("create: got %d %s, want 201", resp.StatusCode, body)
	}
	loc := resp.Header.Get("Location")
	return loc[strings.Index(loc, "/api/uploads/"):]
}

// tusPatch sends chunk at offset and returns the answer.
func tusPatch(t *testing.T, base, path string, offset int, chunk []byte) (*http.Response, string) {
	t.Helper()
	return tusDo(t, "PATCH", base+path, apptest.Token, chunk, map[string]string{
		"Content-Type": "application/offset+octet-stream", "Upload-Offset": strconv.Itoa(offset)})
}

// tusOffset asks base for the upload's offset, as a tus client does when it
// resumes: a 423 (the lock of a process that died has not lapsed yet) is
// tried again.
func tusOffset(t *testing.T, base, path string) int {
	t.Helper()
	var resp *http.Response
	if !apptest.Within(2*time.Minute, func() bool {
		resp, _ = tusDo(t, "HEAD", base+path, apptest.Token, nil, nil)
		return resp.StatusCode != http.StatusLocked
	}) {
		t.Fatalf("head: still 423 after 2 minutes")
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("head: got %d, want 200", resp.StatusCode)
	}
	n, err := strconv.Atoi(resp.Header.Get("Upload-Offset"))
	if err != nil {
		t.Fatalf("head: offset %q: %v", resp.Header.Get("Upload-Offset"), err)
	}
	return n
}

// tusStorage is a backend for server processes: the env that points them at
// it, and how to read what they stored.
type tusStorage struct {
	env     []string
	gw      *s3test.Server
	dataDir string
}

func newTusStorage(t *testing.T, backend string) *tusStorage {
	t.Helper()
	if backend == "s3" {
		gw := s3test.Start(t, "raw", "videos")
		return &tusStorage{env: gw.Env("raw", "videos"), gw: gw}
	}
	dir := t.TempDir()
	return &tusStorage{env: []string{"ASSETLAB_DATA_DIR=" + dir}, dataDir: dir}
}

// original reads the stored original of video id.
func (st *tusStorage) original(t *testing.T, id string) []byte {
	t.Helper()
	key := "originals/" + id + ".mp4"
	if st.gw != nil {
		out, err := st.gw.Client(t).GetObject(context.Background(), &s3.GetObjectInput{Bucket: aws.String("raw"), Key: aws.String(key)})
		if err != nil {
			t.Fatalf("read %s: %v", key, err)
		}
		defer out.Body.Close()
		b, err := io.ReadAll(out.Body)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	b, err := os.ReadFile(filepath.Join(st.dataDir, "raw", filepath.FromSlash(key)))
	if err != nil {
		t.Fatalf("read %s: %v", key, err)
	}
	return b
}

// waitDone waits until the video transcodes, failing on an error status.
func waitDone(t *testing.T, base, id string) {
	t.Helper()
	var st apptest.StatusBody
	if !apptest.Within(4*time.Minute, func() bool {
		resp, body := tusDo(t, "GET", base+"/api/video/"+id+"/status", apptest.Token, nil, nil)
		if resp.StatusCode != http.StatusOK {
			return false
		}
		json.Unmarshal([]byte(body), &st)
		return st.Final()
	}) {
		t.Fatalf("video %s: not transcoded within 4 minutes (status %q)", id, st.Status)
	}
	if st.Status != "done" {
		t.Fatalf("video %s: got status %q (%s), want done", id, st.Status, st.Error)
	}
}

// slowBody streams b in 256 KiB pieces, one every pause.
type slowBody struct {
	b     []byte
	pause time.Duration
}

func (s *slowBody) Read(p []byte) (int, error) {
	if len(s.b) == 0 {
		return 0, io.EOF
	}
	time.Sleep(s.pause)
	n := copy(p[:min(len(p), 256<<10)], s.b)
	s.b = s.b[n:]
	return n, nil
}

// A server killed with SIGKILL in the middle of a resumable upload loses
// nothing it had stored: started again on the same storage, it answers the
// offset, takes the rest, and the original is the file, byte for byte, and
// transcodes.
func TestTusResumeAfterKill(t *testing.T) {
	bin := apptest.BuildServer(t)
	data := tusClip(t)
	for _, backend := range apptest.Backends {
		t.Run(backend, func(t *testing.T) {
			start := time.Now()
			st := newTusStorage(t, backend)
			// Where s3store buffers parts, to see what a killed process leaves.
			tmp := t.TempDir()
			st.env = append(st.env, "TMPDIR="+tmp)
			a := apptest.StartProcess(t, bin, st.env...)
			path := tusCreate(t, a.URL, "clip.mp4", len(data))
			half := len(data) / 2
			if resp, body := tusPatch(t, a.URL, path, 0, data[:half]); resp.StatusCode != http.StatusNoContent {
				t.Fatalf("first half: got %d %s, want 204", resp.StatusCode, body)
			}

			// The next PATCH is under way, its body still coming, when the
			// server is killed.
			pr, pw := io.Pipe()
			req, _ := http.NewRequest("PATCH", a.URL+path, pr)
			req.Header.Set("Tus-Resumable", "1.0.0")
			req.Header.Set("Authorization", "Bearer "+apptest.Token)
			req.Header.Set("Content-Type", "application/offset+octet-stream")
			req.Header.Set("Upload-Offset", strconv.Itoa(half))
			req.ContentLength = int64(len(data) - half)
			sent := make(chan struct{})
			go func() {
				if resp, err := http.DefaultClient.Do(req); err == nil {
					resp.Body.Close()
				}
				close(sent)
			}()
			pw.Write(data[half : half+2<<20])
			time.Sleep(time.Second) // let the server take in what it was sent
			a.Kill()
			pw.CloseWithError(io.ErrUnexpectedEOF)
			<-sent

			b := apptest.StartProcess(t, bin, append(st.env, "ASSETLAB_WORKERS=1", "ASSETLAB_JANITOR_INTERVAL=1s")...)
			asked := time.Now()
			off := tusOffset(t, b.URL, path)
			t.Logf("the first HEAD after the restart was answered in %v", time.Since(asked).Round(100*time.Millisecond))
			if off < half || off > len(data) {
				t.Fatalf("offset after the restart: got %d, want from %d to %d", off, half, len(data))
			}
			t.Logf("offset after the restart: %d (%d sent before the kill)", off, half+2<<20)
			resp, body := tusPatch(t, b.URL, path, off, data[off:])
			if resp.StatusCode != http.StatusNoContent {
				t.Fatalf("the rest: got %d %s, want 204", resp.StatusCode, body)
			}
			id := resp.Header.Get("Upload-Video-Id")
			if id == "" {
				t.Fatal("the rest: got no Upload-Video-Id")
			}
			if got := st.original(t, id); sha256.Sum256(got) != sha256.Sum256(data) {
				t.Fatalf("original: got %d bytes that differ from the %d of the file", len(got), len(data))
			}
			waitDone(t, b.URL, id)
			// The part buffers the killed process left are removed.
			var buffers []string
			if !apptest.Within(30*time.Second, func() bool {
				buffers = nil
				filepath.WalkDir(tmp, func(p string, d os.DirEntry, err error) error {
					if err == nil && !d.IsDir() && strings.HasPrefix(d.Name(), "tusd-") {
						buffers = append(buffers, p)
					}
					return nil
				})
				return len(buffers) == 0
			}) {
				t.Errorf("part buffers left: %v", buffers)
			}
			t.Logf("%s: kill, resume and transcode took %v", backend, time.Since(start).Round(100*time.Millisecond))
		})
	}
}

// Two API servers on one versitygw (or one data folder) serve one resumable
// upload: half through one, the rest through the other. Two PATCHes to one
// upload at the same offset at once, one through each server: exactly one is
// stored, the other refused (409 or 423), and the upload's bytes are the
// file's.
func TestTusTwoServers(t *testing.T) {
	bin := apptest.BuildServer(t)
	data := tusClip(t)
	for _, backend := range apptest.Backends {
		t.Run(backend, func(t *testing.T) { testTusTwoServers(t, bin, backend, data) })
	}
}

func testTusTwoServers(t *testing.T, bin, backend string, data []byte) {
	start := time.Now()
	st := newTusStorage(t, backend)
	a := apptest.StartProcess(t, bin, st.env...)
	b := apptest.StartProcess(t, bin, append(st.env, "ASSETLAB_WORKERS=1")...)

	t.Run("half through each", func(t *testing.T) {
		path := tusCreate(t, a.URL, "clip.mp4", len(data))
		half := len(data) / 2
		if resp, body := tusPatch(t, a.URL, path, 0, data[:half]); resp.StatusCode != http.StatusNoContent {
			t.Fatalf("first half through A: got %d %s, want 204", resp.StatusCode, body)
		}
		if off := tusOffset(t, b.URL, path); off != half {
			t.Fatalf("offset through B: got %d, want %d", off, half)
		}
		resp, body := tusPatch(t, b.URL, path, half, data[half:])
		if resp.StatusCode != http.StatusNoContent {
			t.Fatalf("the rest through B: got %d %s, want 204", resp.StatusCode, body)
		}
		id := resp.Header.Get("Upload-Video-Id")
		if got := st.original(t, id); sha256.Sum256(got) != sha256.Sum256(data) {
			t.Fatalf("original: got %d bytes that differ from the %d of the file", len(got), len(data))
		}
		waitDone(t, b.URL, id)
	})

	t.Run("concurrent PATCHes", func(t *testing.T) {
		path := tusCreate(t, a.URL, "clip.mp4", len(data))
		chunk := data[:6<<20]
		codes := make([]int, 2)
		bodies := make([]string, 2)
		var wg sync.WaitGroup
		ready := make(chan struct{})
		for i, base := range []string{a.URL, b.URL} {
			wg.Go(func() {
				// Slow enough that both are in flight together.
				req, _ := http.NewRequest("PATCH", base+path, &slowBody{b: chunk, pause: 40 * time.Millisecond})
				req.ContentLength = int64(len(chunk))
				req.Header.Set("Tus-Resumable", "1.0.0")
				req.Header.Set("Authorization", "Bearer "+apptest.Token)
				req.Header.Set("Content-Type", "application/offset+octet-stream")
				req.Header.Set("Upload-Offset", "0")
				<-ready
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					bodies[i] = err.Error()
					return
				}
				bb, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				codes[i], bodies[i] = resp.StatusCode, string(bb)
			})
		}
		close(ready)
		wg.Wait()
		t.Logf("through A: %d %s; through B: %d %s", codes[0], strings.TrimSpace(bodies[0]), codes[1], strings.TrimSpace(bodies[1]))
		accepted, refused := 0, 0
		for _, c := range codes {
			switch c {
			case http.StatusNoContent:
				accepted++
			case http.StatusConflict, http.StatusLocked:
				refused++
			}
		}
		if accepted != 1 || refused != 1 {
			t.Fatalf("got %v, want one 204 and one 409 or 423", codes)
		}
		off := tusOffset(t, a.URL, path)
		if off != len(chunk) {
			t.Fatalf("offset after the two PATCHes: got %d, want %d", off, len(chunk))
		}
		resp, body := tusPatch(t, b.URL, path, off, data[off:])
		if resp.StatusCode != http.StatusNoContent {
			t.Fatalf("the rest: got %d %s, want 204", resp.StatusCode, body)
		}
		id := resp.Header.Get("Upload-Video-Id")
		if got := st.original(t, id); sha256.Sum256(got) != sha256.Sum256(data) {
			t.Fatalf("original: got %d bytes that differ from the %d of the file", len(got), len(data))
		}
		waitDone(t, b.URL, id)
	})
	t.Logf("%s: two servers took %v", backend, time.Since(start).Round(100*time.Millisecond))
}
