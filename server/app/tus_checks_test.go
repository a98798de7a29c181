package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"io/fs"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/assetlab/assetlab/server/api"
	"github.com/assetlab/assetlab/server/app/apptest"
	"github.com/assetlab/assetlab/server/storage"
)

// webmHead is the start of a WebM file's EBML header.
var webmHead = []byte("\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x42\xf7\x81\x01\x42\xf2\x81\x04\x42\xf3\x81\x08\x42\x82\x84webm\x42\x87\x81\x04\x42\x85\x81\x02")

// errorOf decodes an error answer and checks its shape: JSON, with a
// message and one of the API's codes.
func errorOf(t *testing.T, what string, resp *http.Response, body string) string {
	t.Helper()
	var e struct{ Error, Code string }
	if err := json.Unmarshal([]byte(body), &e); err != nil || e.Error == "" {
		t.Errorf("%s: got body %q (%s), want a JSON error", what, body, resp.Header.Get("Content-Type"))
		return ""
	}
	if !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		t.Errorf("%s: got Content-Type %q, want application/json", what, resp.Header.Get("Content-Type"))
	}
	known := false
	for _, c := range api.Codes {
		known = known || string(c) == e.Code
	}
	if !known {
		t.Errorf("%s: got code %q, not one of api.Codes", what, e.Code)
	}
	return e.Code
}

// assertNothingLeft fails if an upload left anything in storage: tusd's
// state, lock documents, a partial or whole original, an open multipart
// upload.
func assertNothingLeft(t *testing.T, e *apptest.Env) {
	t.Helper()
	for _, k := range e.Objects() {
		if strings.HasPrefix(k, "uploads/") || strings.HasPrefix(k, "originals/") || strings.HasPrefix(k, "videos/") {
			t.Errorf("left behind: %s", k)
		}
	}
	if e.S3 != nil {
		if open := e.S3.OpenUploads(t, "raw"); len(open) != 0 {
			t.Errorf("open multipart uploads left: %v", open)
		}
	}
}

// The container is checked from the first bytes that arrive: a file that is
// not a video, or another family of container than its name says, is
// refused with 415 on its first PATCH (or its creation with a body), and
// nothing of it is left.
func TestTusChecksTheFirstBytes(t *testing.T) {
	for _, backend := range apptest.Backends {
		t.Run(backend, func(t *testing.T) {
			e := apptest.Start(t, backend)
			text := []byte(strings.Repeat("just some notes, not a video\n", 40000))
			webm := append(append([]byte{}, webmHead...), make([]byte, 1<<20)...)
			tests := []struct {
				name, filename string
				data           []byte
				has            string
			}{
				{"text named .mp4", "notes.mp4", text, "not a supported video"},
				{"webm named .mp4", "clip.mp4", webm, "WebM or Matroska"},
				{"mp4 named .mkv", "clip.mkv", apptest.VideoBytes(1 << 20), "MP4 or QuickTime"},
			}
			for _, tt := range tests {
				path := tusCreate(t, e.URL, tt.filename, len(tt.data))
				resp, body := tusPatch(t, e.URL, path, 0, tt.data[:512<<10])
				if resp.StatusCode != http.StatusUnsupportedMediaType {
					t.Fatalf("%s: first patch: got %d %s, want 415", tt.name, resp.StatusCode, body)
				}
				if code := errorOf(t, tt.name, resp, body); code != "unsupported_type" || !strings.Contains(body, tt.has) {
					t.Errorf("%s: got %s, want unsupported_type saying %q", tt.name, body, tt.has)
				}
				resp, _ = tusDo(t, "HEAD", e.URL+path, apptest.Token, nil, nil)
				if resp.StatusCode != http.StatusNotFound {
					t.Errorf("%s: head after the refusal: got %d, want 404", tt.name, resp.StatusCode)
				}
				assertNothingLeft(t, e)

				// The same file in the creation request itself.
				resp, body = tusDo(t, "POST", e.URL+"/api/uploads/", apptest.Token, tt.data, map[string]string{
					"Upload-Length": strconv.Itoa(len(tt.data)), "Upload-Metadata": tusMeta(tt.filename),
					"Content-Type": "application/offset+octet-stream"})
				if resp.StatusCode != http.StatusUnsupportedMediaType {
					t.Fatalf("%s: creation with upload: got %d %s, want 415", tt.name, resp.StatusCode, body)
				}
				errorOf(t, tt.name+" (creation)", resp, body)
				assertNothingLeft(t, e)
			}

			// A first PATCH too short to tell is refused; the upload stays,
			// and takes a proper first PATCH afterwards.
			data := apptest.VideoBytes(1 << 20)
			path := tusCreate(t, e.URL, "clip.mp4", len(data))
			resp, body := tusPatch(t, e.URL, path, 0, data[:10])
			if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, "first 64 bytes") {
				t.Fatalf("short first patch: got %d %s, want 400 saying it needs the first 64 bytes", resp.StatusCode, body)
			}
			errorOf(t, "short first patch", resp, body)
			resp, body = tusPatch(t, e.URL, path, 0, data)
			if resp.StatusCode != http.StatusNoContent || resp.Header.Get("Upload-Video-Id") == "" {
				t.Fatalf("whole file after a short patch: got %d %s, want 204 with a video ID", resp.StatusCode, body)
			}
			// A video sent with its creation request is stored.
			resp, body = tusDo(t, "POST", e.URL+"/api/uploads/", apptest.Token, data, map[string]string{
				"Upload-Length": strconv.Itoa(len(data)), "Upload-Metadata": tusMeta("clip.mp4"),
				"Content-Type": "application/offset+octet-stream"})
			if resp.StatusCode != http.StatusCreated || resp.Header.Get("Upload-Video-Id") == "" {
				t.Fatalf("creation with a whole video: got %d %s, want 201 with a video ID", resp.StatusCode, body)
			}
		})
	}
}

// The client learns its video from GET on the upload URL, and from HEAD
// once the upload is finished (a client that lost the final answer).
func TestTusUploadStatus(t *testing.T) {
	for _, backend := range apptest.Backends {
		t.Run(backend, func(t *testing.T) {
			e := apptest.Start(t, backend)
			var cfg api.ClientConfig
			if code := e.GetInto("/api/config", &cfg); code != http.StatusOK || !cfg.Features.ResumableUploads {
				t.Errorf("config: got %d, resumable_uploads %v; want 200, true", code, cfg.Features.ResumableUploads)
			}

			data := apptest.VideoBytes(6 << 20)
			path := tusCreate(t, e.URL, "clip.mp4", len(data))
			half := 3 << 20
			if resp, body := tusPatch(t, e.URL, path, 0, data[:half]); resp.StatusCode != http.StatusNoContent {
				t.Fatalf("patch 1: got %d %s", resp.StatusCode, body)
			}
			var st struct {
				UploadID string `json:"upload_id"`
				Offset   int64  `json:"offset"`
				Length   int64  `json:"length"`
				Complete bool   `json:"complete"`
				VideoID  string `json:"video_id"`
			}
			get := func() int {
				t.Helper()
				st.VideoID = ""
				resp, body := tusDo(t, "GET", e.URL+path, apptest.Token, nil, nil)
				if resp.StatusCode == http.StatusOK {
					if err := json.Unmarshal([]byte(body), &st); err != nil {
						t.Fatalf("get: %v in %q", err, body)
					}
				}
				return resp.StatusCode
			}
			uploadID := path[strings.LastIndex(path, "/")+1:]
			if code := get(); code != http.StatusOK || st.UploadID != uploadID || st.Offset != int64(half) ||
				st.Length != int64(len(data)) || st.Complete || st.VideoID != "" {
				t.Errorf("get in progress: got %d %+v, want 200 {%s %d %d false}", code, st, uploadID, half, len(data))
			}
			resp, _ := tusPatch(t, e.URL, path, half, data[half:])
			id := resp.Header.Get("Upload-Video-Id")
			if resp.StatusCode != http.StatusNoContent || id == "" {
				t.Fatalf("patch 2: got %d, video %q", resp.StatusCode, id)
			}
			if code := get(); code != http.StatusOK || !st.Complete || st.VideoID != id || st.Offset != int64(len(data)) {
				t.Errorf("get finished: got %d %+v, want 200 complete with video %s", code, st, id)
			}
			resp, _ = tusDo(t, "HEAD", e.URL+path, apptest.Token, nil, nil)
			if resp.StatusCode != http.StatusOK || resp.Header.Get("Upload-Offset") != strconv.Itoa(len(data)) ||
				resp.Header.Get("Upload-Length") != strconv.Itoa(len(data)) || resp.Header.Get("Upload-Video-Id") != id {
				t.Errorf("head finished: got %d offset %q length %q video %q, want 200 %d %d %s", resp.StatusCode,
					resp.Header.Get("Upload-Offset"), resp.Header.Get("Upload-Length"), resp.Header.Get("Upload-Video-Id"),
					len(data), len(data), id)
			}

			unknown := "/api/uploads/0b5e7c1e-0000-4000-8000-00000000abcd.mp4"
			resp, body := tusDo(t, "GET", e.URL+unknown, apptest.Token, nil, nil)
			if resp.StatusCode != http.StatusNotFound || errorOf(t, "get unknown", resp, body) != "upload_not_found" {
				t.Errorf("get unknown: got %d %s, want 404 upload_not_found", resp.StatusCode, body)
			}
			resp, _ = tusDo(t, "GET", e.URL+path, "", nil, nil)
			if resp.StatusCode != http.StatusUnauthorized {
				t.Errorf("get without token: got %d, want 401", resp.StatusCode)
			}
		})
	}
}

// tusd's own refusals come in the API's JSON shape, with tusd's status and
// tus headers.
func TestTusErrorsAreJSON(t *testing.T) {
	for _, backend := range apptest.Backends {
		t.Run(backend, func(t *testing.T) {
			e := apptest.Start(t, backend, "ASSETLAB_MAX_UPLOAD_BYTES=8MiB")
			data := apptest.VideoBytes(1 << 20)
			path := tusCreate(t, e.URL, "clip.mp4", len(data))
			if resp, body := tusPatch(t, e.URL, path, 0, data[:1000]); resp.StatusCode != http.StatusNoContent {
				t.Fatalf("patch: got %d %s", resp.StatusCode, body)
			}
			unknown := "/api/uploads/0b5e7c1e-0000-4000-8000-00000000abcd.mp4"
			tests := []struct {
				name, method, path string
				body               []byte
				hdr                map[string]string
				status             int
				code               string
			}{
				{"offset mismatch", "PATCH", path, data[:10], map[string]string{"Content-Type": "application/offset+octet-stream", "Upload-Offset": "5"},
					http.StatusConflict, "offset_mismatch"},
				{"unknown upload", "PATCH", unknown, data[:100], map[string]string{"Content-Type": "application/offset+octet-stream", "Upload-Offset": "0"},
					http.StatusNotFound, "upload_not_found"},
				{"wrong content type", "PATCH", path, data[:10], map[string]string{"Content-Type": "text/plain", "Upload-Offset": "1000"},
					http.StatusBadRequest, "bad_request"},
				{"over tusd's max size", "POST", "/api/uploads/", nil, map[string]string{"Upload-Length": strconv.Itoa(9 << 20), "Upload-Metadata": tusMeta("a.mp4")},
					http.StatusRequestEntityTooLarge, "file_too_large"},
				{"no Tus-Resumable", "POST", "/api/uploads/", nil, map[string]string{"Tus-Resumable": "", "Upload-Length": "1000"},
					http.StatusPreconditionFailed, "bad_request"},
				{"delete unknown", "DELETE", unknown, nil, nil, http.StatusNotFound, "upload_not_found"},
				{"deferred length", "POST", "/api/uploads/", nil, map[string]string{"Upload-Defer-Length": "1", "Upload-Metadata": tusMeta("a.mp4")},
					http.StatusNotImplemented, "bad_request"},
			}
			for _, tt := range tests {
				resp, body := tusDo(t, tt.method, e.URL+tt.path, apptest.Token, tt.body, tt.hdr)
				if resp.StatusCode != tt.status {
					t.Errorf("%s: got %d %s, want %d", tt.name, resp.StatusCode, body, tt.status)
					continue
				}
				if code := errorOf(t, tt.name, resp, body); code != tt.code {
					t.Errorf("%s: got code %q, want %q", tt.name, code, tt.code)
				}
				if resp.Header.Get("Tus-Resumable") != "1.0.0" {
					t.Errorf("%s: got Tus-Resumable %q, want 1.0.0", tt.name, resp.Header.Get("Tus-Resumable"))
				}
			}
			// The extensions offered are those the checks above cover.
			req, _ := http.NewRequest("OPTIONS", e.URL+"/api/uploads/", nil)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if got, want := resp.Header.Get("Tus-Extension"), "creation,creation-with-upload,termination,expiration"; got != want {
				t.Errorf("Tus-Extension: got %q, want %q", got, want)
			}
			// A HEAD has no body, and keeps its status.
			if resp, _ := tusDo(t, "HEAD", e.URL+unknown, apptest.Token, nil, nil); resp.StatusCode != http.StatusNotFound {
				t.Errorf("head unknown: got %d, want 404", resp.StatusCode)
			}
		})
	}
}

// A PATCH counts against ASSETLAB_MAX_UPLOADS with POST /api/upload: over
// the cap, either is refused with 503 and Retry-After.
func TestTusCountsAgainstMaxUploads(t *testing.T) {
	for _, backend := range apptest.Backends {
		t.Run(backend, func(t *testing.T) {
			e := apptest.Start(t, backend, "ASSETLAB_MAX_UPLOADS=1")
			data := apptest.VideoBytes(2 << 20)
			path := tusCreate(t, e.URL, "clip.mp4", len(data))

			// A PATCH whose body is still coming holds the one slot.
			pr, pw := io.Pipe()
			req, _ := http.NewRequest("PATCH", e.URL+path, pr)
			req.ContentLength = int64(len(data))
			req.Header.Set("Tus-Resumable", "1.0.0")
			req.Header.Set("Authorization", "Bearer "+apptest.Token)
			req.Header.Set("Content-Type", "application/offset+octet-stream")
			req.Header.Set("Upload-Offset", "0")
			done := make(chan *http.Response, 1)
			go func() {
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Errorf("slow patch: %v", err)
				}
				done <- resp
			}()
			if _, err := pw.Write(data[:1<<20]); err != nil {
				t.Fatal(err)
			}
			other := tusCreate(t, e.URL, "other.mp4", len(data))
			busy := func() bool {
				resp, body := tusPatch(t, e.URL, other, 0, data)
				if resp.StatusCode != http.StatusServiceUnavailable {
					t.Errorf("second patch: got %d %s, want 503", resp.StatusCode, body)
					return false
				}
				if resp.Header.Get("Retry-After") == "" || errorOf(t, "second patch", resp, body) != "too_many_uploads" {
					t.Errorf("second patch: got Retry-After %q, %s; want it set, too_many_uploads", resp.Header.Get("Retry-After"), body)
				}
				return true
			}
			busy()
			if code, body := e.Upload(apptest.Token, data); code != http.StatusServiceUnavailable {
				t.Errorf("plain upload while a patch runs: got %d %v, want 503", code, body)
			}

			pw.Write(data[1<<20:])
			pw.Close()
			select {
			case resp := <-done:
				if resp == nil || resp.StatusCode != http.StatusNoContent {
					t.Fatalf("slow patch: got %v, want 204", resp)
				}
				resp.Body.Close()
			case <-time.After(60 * time.Second):
				t.Fatal("slow patch: no answer")
			}
			// The slot is free again.
			if resp, body := tusPatch(t, e.URL, other, 0, data); resp.StatusCode != http.StatusNoContent {
				t.Errorf("patch after the slot is free: got %d %s, want 204", resp.StatusCode, body)
			}
		})
	}
}

// A DELETE on a finished upload leaves its video, even when the server
// stopped after storing the video but before removing the upload's state
// (a stale .info: on S3, tusd's termination would delete the object at the
// upload's key, the original).
func TestTusDeleteOfFinishedUploadKeepsTheVideo(t *testing.T) {
	for _, backend := range apptest.Backends {
		t.Run(backend, func(t *testing.T) {
			e := apptest.Start(t, backend)
			ctx := context.Background()
			raw := e.Server.Stores().Raw
			data := apptest.VideoBytes(6 << 20)
			path := tusCreate(t, e.URL, "clip.mp4", len(data))
			uploadID := path[strings.LastIndex(path, "/")+1:]
			object, _, _ := strings.Cut(uploadID, "+")
			infoKey := "uploads/tus/" + object + ".info"
			if resp, body := tusPatch(t, e.URL, path, 0, data[:3<<20]); resp.StatusCode != http.StatusNoContent {
				t.Fatalf("patch 1: got %d %s", resp.StatusCode, body)
			}
			info, err := storage.ReadAll(ctx, raw, infoKey)
			if err != nil {
				t.Fatalf("read the upload's state: %v", err)
			}
			resp, _ := tusPatch(t, e.URL, path, 3<<20, data[3<<20:])
			id := resp.Header.Get("Upload-Video-Id")
			if resp.StatusCode != http.StatusNoContent || id == "" {
				t.Fatalf("patch 2: got %d, video %q", resp.StatusCode, id)
			}
			// The state as a server that stopped before removing it left it.
			if _, err := raw.Put(ctx, infoKey, bytes.NewReader(info), "application/json"); err != nil {
				t.Fatal(err)
			}

			resp, body := tusDo(t, "DELETE", e.URL+path, apptest.Token, nil, nil)
			if resp.StatusCode != http.StatusNotFound || errorOf(t, "delete finished", resp, body) != "upload_not_found" {
				t.Errorf("delete finished: got %d %s, want 404 upload_not_found", resp.StatusCode, body)
			}
			got, err := storage.ReadAll(ctx, raw, "originals/"+id+".mp4")
			if err != nil || !bytes.Equal(got, data) {
				t.Fatalf("original after the delete: got %d bytes, %v; want the %d sent", len(got), err, len(data))
			}
			if d := e.Details(id); d.Size != int64(len(data)) {
				t.Errorf("details after the delete: got size %d, want %d", d.Size, len(data))
			}
			for _, k := range e.Objects() {
				if strings.HasPrefix(k, "uploads/") {
					t.Errorf("left behind: %s", k)
				}
			}
		})
	}
}

// On S3, the part buffers' folder is made when the first bytes of a
// resumable upload come, and removed when the server stops.
func TestTusPartBuffersFolder(t *testing.T) {
	tmp := t.TempDir()
	e := apptest.Start(t, "s3", "ASSETLAB_TMP_DIR="+tmp)
	names := func() []string {
		var out []string
		filepath.WalkDir(tmp, func(p string, d fs.DirEntry, err error) error {
			if err == nil && p != tmp {
				out = append(out, strings.TrimPrefix(p, tmp+"/"))
			}
			return nil
		})
		return out
	}
	if got := names(); len(got) != 0 {
		t.Errorf("before any resumable upload: got %v in the temp folder, want nothing", got)
	}
	data := apptest.VideoBytes(6 << 20)
	path := tusCreate(t, e.URL, "clip.mp4", len(data))
	if resp, body := tusPatch(t, e.URL, path, 0, data); resp.StatusCode != http.StatusNoContent {
		t.Fatalf("patch: got %d %s, want 204", resp.StatusCode, body)
	}
	if got := names(); len(got) != 3 { // assetlab-tus/, {holder}/, {holder}.owner
		t.Errorf("after an upload: got %v in the temp folder, want the server's folder of parts and its owner file", got)
	}
	e.Stop()
	if got := names(); len(got) != 0 {
		t.Errorf("once the server stopped: got %v in the temp folder, want nothing", got)
	}
}
