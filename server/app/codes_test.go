package app_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/assetlab/assetlab/server/api"
	"github.com/assetlab/assetlab/server/app/apptest"
	"github.com/assetlab/assetlab/server/video"
)

// form is a multipart body with one file field.
func form(field string, content []byte) func() (string, io.Reader) {
	return func() (string, io.Reader) {
		ct, b := apptest.MultipartBody(field, "x.mp4", content)
		return ct, b
	}
}

// Every error path of the API answers with a JSON body holding the human
// "error" and a machine "code" from the list, the right one for the path;
// between them, the paths below give every code there is.
func TestEveryErrorCode(t *testing.T) {
	seen := map[string]bool{}
	groups := 0

	for _, backend := range apptest.Backends {
		t.Run(backend, func(t *testing.T) {
			groups++
			e := apptest.Start(t, backend, "ASSETLAB_MAX_UPLOAD_BYTES=8MiB")
			upload := func() string { return e.UploadID(apptest.VideoBytes(1000)) }
			ctx := context.Background()
			id := upload()
			// A video whose original is gone with no rendition to stand in.
			gone := upload()
			if err := e.Server.Stores().Raw.Delete(ctx, video.OriginalKey(gone, ".mp4")); err != nil {
				t.Fatal(err)
			}
			// A video whose metadata cannot be read: an unexpected failure.
			broken := video.NewID()
			if err := e.Server.Stores().Videos.Create(ctx, video.MetaKey(broken), []byte("{not json"), "application/json"); err != nil {
				t.Fatal(err)
			}
			png := append([]byte("\x89PNG\r\n\x1a\n"), make([]byte, 1000)...)
			vars := map[string]string{"id": id, "gone": gone, "broken": broken, "unknown": video.NewID()}
			tok := apptest.Token
			runAll(t, e.URL, vars, seen, []scenario{
				{name: "no token", method: "POST", path: "/api/upload", body: form("file", apptest.VideoBytes(1000)),
					status: 401, code: "missing_token", has: []string{`"error":"missing bearer token"`}},
				{name: "wrong token", method: "POST", path: "/api/upload", token: "nope-nope-nope-nope", body: form("file", apptest.VideoBytes(1000)),
					status: 401, code: "invalid_token", has: []string{`"error":"invalid token"`}},
				{name: "not multipart", method: "POST", path: "/api/upload", token: tok,
					body:   func() (string, io.Reader) { return "video/mp4", bytes.NewReader(apptest.VideoBytes(1000)) },
					status: 400, code: "bad_request"},
				{name: "no boundary", method: "POST", path: "/api/upload", token: tok,
					body:   func() (string, io.Reader) { return "multipart/form-data", strings.NewReader("x") },
					status: 400, code: "bad_request", has: []string{"no boundary"}},
				{name: "no file field", method: "POST", path: "/api/upload", token: tok, body: form("video", apptest.VideoBytes(1000)),
					status: 400, code: "bad_request", has: []string{`missing the field \"file\"`}},
				{name: "empty file", method: "POST", path: "/api/upload", token: tok, body: form("file", nil),
					status: 400, code: "empty_file"},
				{name: "not a video", method: "POST", path: "/api/upload", token: tok, body: form("file", png),
					status: 415, code: "unsupported_type"},
				{name: "too large", method: "POST", path: "/api/upload", token: tok, body: form("file", apptest.VideoBytes(8<<20+1)),
					status: 413, code: "file_too_large", has: []string{"the limit is 8 MiB"}},
				{name: "interrupted", method: "POST", path: "/api/upload", token: tok,
					body: func() (string, io.Reader) {
						ct, b := apptest.MultipartBody("file", "x.mp4", apptest.VideoBytes(6<<20))
						return ct, io.LimitReader(b, int64(b.Len()-100))
					},
					status: 400, code: "upload_interrupted"},
				{name: "malformed id", method: "GET", path: "/api/video/not-a-uuid", status: 400, code: "malformed_id"},
				{name: "malformed id in details", method: "GET", path: "/api/videos/not-a-uuid/", status: 400, code: "malformed_id"},
				{name: "malformed path", method: "GET", path: "/api/video/{id}/720p/extra", status: 400, code: "malformed_id"},
				{name: "no such endpoint", method: "GET", path: "/api/nothing", status: 404, code: "not_found"},
				{name: "unknown video", method: "GET", path: "/api/video/{unknown}", status: 404, code: "video_not_found"},
				{name: "unknown video status", method: "GET", path: "/api/video/{unknown}/status", status: 404, code: "video_not_found"},
				{name: "unknown video details", method: "GET", path: "/api/videos/{unknown}", status: 404, code: "video_not_found"},
				{name: "delete unknown video", method: "DELETE", path: "/api/videos/{unknown}", token: tok, status: 404, code: "video_not_found"},
				{name: "rendition not made yet", method: "GET", path: "/api/video/{id}/720p", status: 404, code: "rendition_not_available"},
				{name: "not a quality", method: "GET", path: "/api/video/{id}/4k", status: 400, code: "unknown_quality"},
				{name: "wrong method", method: "PUT", path: "/api/video/{id}", status: 405, code: "method_not_allowed"},
				{name: "original gone", method: "GET", path: "/api/video/{gone}", status: 404, code: "original_gone"},
				{name: "unreadable metadata", method: "GET", path: "/api/video/{broken}", status: 500, code: "internal",
					has: []string{`"error":"internal error"`}},
			})
		})
	}

	t.Run("storage down", func(t *testing.T) {
		groups++
		e := apptest.Start(t, "s3")
		id := e.UploadID(apptest.VideoBytes(1000))
		e.S3.Stop()
		defer e.S3.Restart()
		runAll(t, e.URL, map[string]string{"id": id}, seen, []scenario{
			{name: "video", method: "GET", path: "/api/video/{id}", status: 503, code: "storage_unavailable"},
			{name: "readyz", method: "GET", path: "/readyz", status: 503, code: "storage_unavailable"},
		})
	})

	t.Run("storage full", func(t *testing.T) {
		groups++
		dir := t.TempDir()
		mountTmpfs(t, dir, "8m")
		e := apptest.Start(t, "local", "ASSETLAB_DATA_DIR="+dir)
		runAll(t, e.URL, nil, seen, []scenario{
			{name: "upload", method: "POST", path: "/api/upload", token: apptest.Token, body: form("file", apptest.VideoBytes(12<<20)),
				status: 507, code: "storage_full"},
		})
	})

	t.Run("too many uploads", func(t *testing.T) {
		groups++
		e := apptest.Start(t, "local", "ASSETLAB_MAX_UPLOADS=1")
		// One upload holds the only slot, sending part of its file and then
		// nothing, until the test ends.
		pr, pw := io.Pipe()
		held := newStreamingForm(pw)
		done := make(chan response, 1)
		go func() { done <- post(e.URL, held.contentType(), pr) }()
		go held.file("clip.mp4").Write(apptest.VideoBytes(1 << 20))
		defer func() { pw.CloseWithError(io.ErrClosedPipe); <-done }()
		apptest.Eventually(t, 30*time.Second, "the first upload under way", func() bool { return len(e.InFlight()) > 0 })
		runAll(t, e.URL, nil, seen, []scenario{
			{name: "second upload", method: "POST", path: "/api/upload", token: apptest.Token, body: form("file", apptest.VideoBytes(1000)),
				status: 503, code: "too_many_uploads", headers: map[string]string{"Retry-After": "5"}},
		})
	})

	t.Run("resumable uploads", func(t *testing.T) {
		groups++
		e := apptest.Start(t, "local")
		data := apptest.VideoBytes(1000)
		upload := tusCreate(t, e.URL, "clip.mp4", len(data))
		octets := func() (string, io.Reader) { return "application/offset+octet-stream", bytes.NewReader(data) }
		runAll(t, e.URL, map[string]string{"upload": upload}, seen, []scenario{
			{name: "unknown upload", method: "GET", path: "/api/uploads/" + video.NewID() + ".mp4", token: apptest.Token,
				status: 404, code: "upload_not_found"},
			{name: "wrong offset", method: "PATCH", path: "{upload}", token: apptest.Token, body: octets,
				header: map[string]string{"Tus-Resumable": "1.0.0", "Upload-Offset": "7"}, status: 409, code: "offset_mismatch"},
		})
	})

	t.Run("transcoder off", func(t *testing.T) {
		groups++
		e := apptest.Start(t, "local", "ASSETLAB_WORKERS=1", "ASSETLAB_FFMPEG=/nonexistent/ffmpeg")
		apptest.Eventually(t, 30*time.Second, "/readyz to say a worker without FFmpeg is not ready", func() bool {
			return e.GetInto("/readyz", nil) == http.StatusServiceUnavailable
		})
		runAll(t, e.URL, nil, seen, []scenario{
			{name: "readyz", method: "GET", path: "/readyz", status: 503, code: "transcoder_off", has: []string{"the transcoder is off"}},
		})
	})

	t.Run("resumable uploads expired and busy", func(t *testing.T) {
		groups++
		// Two servers on one data folder: to the first, whose expiry is a
		// second, the upload is soon expired; to the second it is not.
		dir := t.TempDir()
		short := apptest.Start(t, "local", "ASSETLAB_DATA_DIR="+dir, "ASSETLAB_UPLOAD_EXPIRY=1s", "ASSETLAB_JANITOR_INTERVAL=1h")
		long := apptest.Start(t, "local", "ASSETLAB_DATA_DIR="+dir, "ASSETLAB_JANITOR_INTERVAL=1h")
		path := tusCreate(t, long.URL, "clip.mp4", 1<<20)
		// A PATCH holds the upload's lock, its body still coming.
		pr, pw := io.Pipe()
		req, _ := http.NewRequest("PATCH", long.URL+path, pr)
		for k, v := range map[string]string{"Tus-Resumable": "1.0.0", "Authorization": "Bearer " + apptest.Token,
			"Content-Type": "application/offset+octet-stream", "Upload-Offset": "0"} {
			req.Header.Set(k, v)
		}
		req.ContentLength = 1 << 20
		held := make(chan struct{})
		go func() {
			if resp, err := http.DefaultClient.Do(req); err == nil {
				resp.Body.Close()
			}
			close(held)
		}()
		defer func() { pw.CloseWithError(io.ErrClosedPipe); <-held }()
		pw.Write(apptest.VideoBytes(1000))
		time.Sleep(1500 * time.Millisecond) // past the short expiry; the PATCH has the lock
		chunk := func() (string, io.Reader) {
			return "application/offset+octet-stream", bytes.NewReader(apptest.VideoBytes(1000))
		}
		tusHeader := map[string]string{"Tus-Resumable": "1.0.0", "Upload-Offset": "0"}
		runAll(t, short.URL, map[string]string{"up": strings.TrimPrefix(path, "/api/uploads/")}, seen, []scenario{
			{name: "expired", method: "PATCH", path: "/api/uploads/{up}", token: apptest.Token, header: tusHeader, body: chunk,
				status: 410, code: "upload_expired"},
		})
		// A second PATCH waits for the lock (tusd waits 20 s), then is refused.
		runAll(t, long.URL, map[string]string{"up": strings.TrimPrefix(path, "/api/uploads/")}, seen, []scenario{
			{name: "locked", method: "PATCH", path: "/api/uploads/{up}", token: apptest.Token, header: tusHeader, body: chunk,
				status: 423, code: "upload_locked"},
		})
	})

	if groups == 6+len(apptest.Backends) { // not when -run picked some
		var missing []string
		for _, c := range api.Codes {
			if !seen[string(c)] {
				missing = append(missing, string(c))
			}
		}
		if len(missing) > 0 {
			t.Errorf("no error path gave the codes %v: add them here", missing)
		}
	}
}
