package app_test

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/assetlab/assetlab/server/api"
	"github.com/assetlab/assetlab/server/app/apptest"
	"github.com/assetlab/assetlab/server/jobs"
	"github.com/assetlab/assetlab/server/video"
)

func TestUploadAndWatch(t *testing.T) {
	for _, backend := range apptest.Backends {
		t.Run(backend, func(t *testing.T) {
			e := apptest.Start(t, backend)
			content := apptest.VideoBytes(12<<20 + 777) // three parts
			up := e.UploadOK(content)
			id := up.ID
			if !video.ValidID(id) {
				t.Fatalf("upload: id %q is not a UUID", id)
			}
			if got, want := up.Key, video.OriginalKey(id, ".mp4"); got != want {
				t.Errorf("upload: key %v, want %v", got, want)
			}
			e.AssertClean([]string{jobs.QueueKey(id), video.OriginalKey(id, ".mp4"), video.MetaKey(id)}, 0)

			var orig apptest.URLBody
			if code := e.GetInto("/api/video/"+id, &orig); code != http.StatusOK {
				t.Fatalf("GET /api/video/{id}: got %d, want 200", code)
			}
			if got := apptest.Fetch(t, orig.URL); !bytes.Equal(got, content) {
				t.Errorf("original URL served %d bytes, want the %d uploaded", len(got), len(content))
			}

			if st := e.Status(id); st.Status != "pending" {
				t.Errorf("status: got %+v, want pending", st)
			}
			if code, _ := e.Get("/api/video/" + id + "/720p"); code != http.StatusNotFound {
				t.Errorf("rendition before transcoding: got %d, want 404", code)
			}

			if d := e.Details(id); d.Status != "pending" || d.Filename != "clip.mp4" ||
				d.Size != int64(len(content)) || d.ContentType != "video/mp4" || d.Original == "" {
				t.Errorf("details: got %+v, want pending clip.mp4 of %d bytes, video/mp4, with its URL", d, len(content))
			}

			if code, _ := e.Get("/api/videos"); code != http.StatusUnauthorized {
				t.Errorf("library without token: got %d, want 401", code)
			}
			var lib struct{ Videos []api.Details }
			if code := e.DoInto("GET", "/api/videos", apptest.Token, "", nil, &lib); code != http.StatusOK || len(lib.Videos) != 1 || lib.Videos[0].ID != id {
				t.Errorf("library: got %d %+v, want video %s alone", code, lib, id)
			}

			if code, _ := e.Do("DELETE", "/api/videos/"+id, "", "", nil); code != http.StatusUnauthorized {
				t.Errorf("delete without token: got %d, want 401", code)
			}
			if code, body := e.Do("DELETE", "/api/videos/"+id, apptest.Token, "", nil); code != http.StatusNoContent {
				t.Errorf("delete: got %d %v, want 204", code, body)
			}
			e.AssertClean(nil, 0)
			if code, _ := e.Get("/api/video/" + id + "/status"); code != http.StatusNotFound {
				t.Errorf("status after delete: got %d, want 404", code)
			}
		})
	}
}

func TestBadUploads(t *testing.T) {
	png := append([]byte("\x89PNG\r\n\x1a\n"), make([]byte, 1000)...)
	heic := append([]byte("\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic"), make([]byte, 1000)...)
	form := func(field string, content []byte) (string, io.Reader) {
		ct, b := apptest.MultipartBody(field, "x.mp4", content)
		return ct, b
	}
	cases := []struct {
		name    string
		token   string
		body    func() (string, io.Reader)
		status  int
		message string
	}{
		{"no token", "", func() (string, io.Reader) { return form("file", apptest.VideoBytes(1000)) }, 401, "missing bearer token"},
		{"wrong token", "nope-nope-nope-nope", func() (string, io.Reader) { return form("file", apptest.VideoBytes(1000)) }, 401, "invalid token"},
		{"not multipart", apptest.Token, func() (string, io.Reader) { return "video/mp4", bytes.NewReader(apptest.VideoBytes(1000)) }, 400, "multipart/form-data"},
		{"missing field", apptest.Token, func() (string, io.Reader) { return form("video", apptest.VideoBytes(1000)) }, 400, `missing the field "file"`},
		{"empty file", apptest.Token, func() (string, io.Reader) { return form("file", nil) }, 400, "empty"},
		{"png", apptest.Token, func() (string, io.Reader) { return form("file", png) }, 415, "not a supported video"},
		{"heic image", apptest.Token, func() (string, io.Reader) { return form("file", heic) }, 415, "not a supported video"},
		{"text", apptest.Token, func() (string, io.Reader) { return form("file", bytes.Repeat([]byte("hello "), 10000)) }, 415, "not a supported video"},
		{"over the limit", apptest.Token, func() (string, io.Reader) { return form("file", apptest.VideoBytes(8<<20+1)) }, 413, "file too large: the limit is 8 MiB"},
		{"truncated multipart", apptest.Token, func() (string, io.Reader) {
			ct, b := apptest.MultipartBody("file", "x.mp4", apptest.VideoBytes(6<<20))
			return ct, io.LimitReader(b, int64(b.Len()-100))
		}, 400, "interrupted"},
	}
	for _, backend := range apptest.Backends {
		t.Run(backend, func(t *testing.T) {
			e := apptest.Start(t, backend, "ASSETLAB_MAX_UPLOAD_BYTES=8388608")
			for _, c := range cases {
				t.Run(c.name, func(t *testing.T) {
					ct, body := c.body()
					var resp apptest.ErrorBody
					code := e.DoInto("POST", "/api/upload", c.token, ct, body, &resp)
					if code != c.status || !strings.Contains(resp.Error, c.message) {
						t.Errorf("got %d %q, want %d with %q", code, resp.Error, c.status, c.message)
					}
					e.AssertClean(nil, 5*time.Second)
				})
			}
			// Exactly at the limit is fine.
			if code, body := e.Upload(apptest.Token, apptest.VideoBytes(8<<20)); code != http.StatusCreated {
				t.Errorf("upload of exactly the limit: got %d %v, want 201", code, body)
			}
		})
	}
}

// A body that says it is over 1 GiB is refused before it is read.
func TestContentLengthOverLimit(t *testing.T) {
	e := apptest.Start(t, "local")
	req, _ := http.NewRequest("POST", e.URL+"/api/upload", io.MultiReader(bytes.NewReader(apptest.MP4Head), zeros{}))
	req.ContentLength = 1<<30 + 2<<20
	req.Header.Set("Authorization", "Bearer "+apptest.Token)
	req.Header.Set("Content-Type", "multipart/form-data; boundary=x")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("got %d, want 413", resp.StatusCode)
	}
	e.AssertClean(nil, 0)
}

// The real 1 GiB limit holds while streaming, with no Content-Length to go by.
func TestOneGiBLimitWhileStreaming(t *testing.T) {
	if testing.Short() {
		t.Skip("streams 1 GiB")
	}
	e := apptest.Start(t, "local")
	code, b := postStreamed(t, e, "big.mp4", 1<<30+1) // one byte over
	if code != http.StatusRequestEntityTooLarge || !strings.Contains(string(b), "1 GiB") {
		t.Errorf("got %d %s, want 413 naming the 1 GiB limit", code, b)
	}
	e.AssertClean(nil, 5*time.Second)
}

func TestMalformedIDs(t *testing.T) {
	e := apptest.Start(t, "local")
	id := video.NewID()
	cases := map[string]int{
		"/api/video/not-a-uuid":                     400,
		"/api/video/" + strings.ToUpper(id):         400,
		"/api/video/" + id + "x":                    400,
		"/api/video/" + strings.Repeat("a", 5000):   400,
		"/api/video/..%2F..%2Fsigning.key":          400,
		"/api/video/%2e%2e/status":                  400,
		"/api/video/" + id + "/..":                  400,
		"/api/video/" + id + "/..%2F..%2Fmeta.json": 400,
		"/api/video/" + id + "/4k":                  400,
		"/api/video/" + id + "/720p/extra":          400,
		"/api/video/" + id + "%2Fstatus":            400,
		"/api/videos/../../etc/passwd":              400,
		"/api/videos/" + id + "%00":                 400,
		"/api/video/" + id:                          404,
		"/api/video/" + id + "/status":              404,
		"/api/video/" + id + "/360p":                404,
		"/api/videos/" + id:                         404,
	}
	for path, want := range cases {
		req, err := http.NewRequest("GET", e.URL+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		req.URL.RawPath = "" // send the path exactly as written
		req.URL.Opaque = path
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != want || !strings.Contains(string(b), `"error"`) {
			t.Errorf("GET %s: got %d %s, want %d with a JSON error", path, resp.StatusCode, b, want)
		}
	}
}

// A client that goes away mid-upload leaves nothing behind.
func TestClientDisconnectMidUpload(t *testing.T) {
	for _, backend := range apptest.Backends {
		t.Run(backend, func(t *testing.T) {
			e := apptest.Start(t, backend, "ASSETLAB_LOG_LEVEL=info")
			conn, err := net.Dial("tcp", strings.TrimPrefix(e.URL, "http://"))
			if err != nil {
				t.Fatal(err)
			}
			w := bufio.NewWriter(conn)
			fmt.Fprintf(w, "POST /api/upload HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n"+
				"Content-Type: multipart/form-data; boundary=BOUNDARY\r\nContent-Length: 100000000\r\n\r\n"+
				"--BOUNDARY\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.mp4\"\r\n"+
				"Content-Type: video/mp4\r\n\r\n", apptest.Token)
			w.Write(apptest.VideoBytes(17 << 20))
			w.Flush()
			// Wait until the upload is under way in storage, then hang up.
			apptest.Eventually(t, 10*time.Second, "the upload to start", func() bool { return len(e.InFlight()) > 0 })
			conn.Close()
			e.AssertClean(nil, 30*time.Second)
			// The server carries on.
			if code, body := e.Upload(apptest.Token, apptest.VideoBytes(1000)); code != http.StatusCreated {
				t.Errorf("upload after a disconnect: got %d %v", code, body)
			}
		})
	}
}

// Storage going away mid-upload is a 503, leaves nothing behind once it is
// back, and the server recovers without a restart.
func TestStorageOutageMidUpload(t *testing.T) {
	e := apptest.Start(t, "s3")
	pr, pw := io.Pipe()
	mw := newStreamingForm(pw)
	wrote := make(chan error, 1)
	go func() {
		f := mw.file("a.mp4")
		f.Write(apptest.MP4Head)
		_, err := io.CopyN(f, zeros{}, 400<<20)
		wrote <- err
		pw.CloseWithError(err)
	}()
	req := apptest.UploadRequest(e.URL, mw.contentType(), pr)
	type result struct {
		code int
		body string
		err  error
	}
	done := make(chan result, 1)
	go func() {
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			done <- result{err: err}
			return
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		done <- result{code: resp.StatusCode, body: string(b)}
	}()
	apptest.Eventually(t, 10*time.Second, "the upload to start", func() bool { return len(e.S3.OpenUploads(t, "raw")) > 0 })
	e.S3.Stop()
	var r result
	select {
	case r = <-done:
	case <-time.After(60 * time.Second):
		t.Fatal("no answer 60 s after storage went away")
	}
	pr.CloseWithError(io.ErrClosedPipe)
	if r.err != nil || r.code != http.StatusServiceUnavailable || !strings.Contains(r.body, "storage is unavailable") {
		t.Errorf("upload during outage: got %d %q (%v), want 503", r.code, r.body, r.err)
	}
	if code, _ := e.Get("/readyz"); code != http.StatusServiceUnavailable {
		t.Errorf("/readyz during outage: got %d, want 503", code)
	}
	e.S3.Restart()
	if code, _ := e.Get("/readyz"); code != http.StatusOK {
		t.Errorf("/readyz after outage: got %d, want 200", code)
	}
	e.AssertClean(nil, 15*time.Second)
	code, body := e.Upload(apptest.Token, apptest.VideoBytes(6<<20))
	if code != http.StatusCreated {
		t.Fatalf("upload after outage: got %d %v", code, body)
	}
}

func TestHealthCORSAndSPA(t *testing.T) {
	e := apptest.Start(t, "local", "CORS_ORIGINS=https://app.example")
	if code, body := e.Get("/healthz"); code != 200 || body["status"] != "ok" {
		t.Errorf("/healthz: %d %v", code, body)
	}
	if code, body := e.Get("/readyz"); code != 200 || body["status"] != "ready" {
		t.Errorf("/readyz: %d %v", code, body)
	}
	for origin, allowed := range map[string]bool{"https://app.example": true, "https://evil.example": false} {
		req, _ := http.NewRequest("OPTIONS", e.URL+"/api/upload", nil)
		req.Header.Set("Origin", origin)
		req.Header.Set("Access-Control-Request-Method", "POST")
		req.Header.Set("Access-Control-Request-Headers", "authorization")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		got := resp.Header.Get("Access-Control-Allow-Origin") == origin
		if got != allowed {
			t.Errorf("preflight from %s: allowed %v, want %v", origin, got, allowed)
		}
	}
	if code, body := e.Get("/api/nothing"); code != 404 || body["error"] == nil {
		t.Errorf("unknown API path: %d %v, want a JSON 404", code, body)
	}
}

// zeros reads as an endless run of zero bytes.
type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

// streamingForm writes a multipart form with one file field to a stream.
type streamingForm struct {
	w        io.Writer
	boundary string
}

func newStreamingForm(w io.Writer) *streamingForm {
	return &streamingForm{w: w, boundary: "assetlabtestboundary"}
}

func (f *streamingForm) contentType() string {
	return "multipart/form-data; boundary=" + f.boundary
}

func (f *streamingForm) file(name string) io.Writer {
	fmt.Fprintf(f.w, "--%s\r\nContent-Disposition: form-data; name=\"file\"; filename=%q\r\nContent-Type: video/mp4\r\n\r\n", f.boundary, name)
	return f.w
}

func (f *streamingForm) close() error {
	_, err := fmt.Fprintf(f.w, "\r\n--%s--\r\n", f.boundary)
	return err
}

// postStreamed uploads a file of size bytes (an MP4 head, then zeros) in a
// form written while it is sent, as a browser sends it, and returns the
// answer's status and body.
func postStreamed(t *testing.T, e *apptest.Env, name string, size int64) (int, []byte) {
	t.Helper()
	pr, pw := io.Pipe()
	mw := newStreamingForm(pw)
	go func() {
		f := mw.file(name)
		f.Write(apptest.MP4Head)
		_, err := io.CopyN(f, zeros{}, size-int64(len(apptest.MP4Head)))
		if err == nil {
			err = mw.close()
		}
		pw.CloseWithError(err)
	}()
	req := apptest.UploadRequest(e.URL, mw.contentType(), pr)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("upload %s: %v", name, err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	pr.CloseWithError(io.ErrClosedPipe)
	return resp.StatusCode, b
}
