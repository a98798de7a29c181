package api

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/assetlab/assetlab/server/storage"
)

// FuzzUploadForm sends arbitrary multipart bodies to POST /api/upload on the
// local backend. Whatever arrives, the answer is a client error or a stored
// video, never a 5xx or a panic, and a refused upload leaves nothing behind.
func FuzzUploadForm(f *testing.F) {
	mp4 := "\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2avc1mp41" + string(bytes.Repeat([]byte{7}, 200))
	part := func(name, filename, content string) string {
		return "--XB\r\nContent-Disposition: form-data; name=\"" + name + "\"; filename=\"" + filename +
			"\"\r\nContent-Type: video/mp4\r\n\r\n" + content + "\r\n"
	}
	for _, seed := range []struct{ ct, body string }{
		{"multipart/form-data; boundary=XB", part("file", "a.mp4", mp4) + "--XB--\r\n"},
		{"multipart/form-data; boundary=XB", part("title", "", "hello") + part("file", "a.mp4", mp4) + "--XB--\r\n"},
		{"multipart/form-data; boundary=XB", part("file", "../../etc/passwd", "not a video") + "--XB--\r\n"},
		{"multipart/form-data; boundary=XB", part("file", "a.mp4", "") + "--XB--\r\n"},
		{"multipart/form-data; boundary=XB", "--XB\r\nContent-Disposition: form-data; name=\"file\"\r\n\r\n" + mp4},
		{"multipart/form-data; boundary=XB", "--XB--\r\n"},
		{"multipart/form-data", part("file", "a.mp4", mp4)},
		{"text/plain", mp4},
		{"multipart/form-data; boundary=\"", ""},
	} {
		f.Add(seed.ct, []byte(seed.body))
	}

	dir := f.TempDir()
	secret := bytes.Repeat([]byte{1}, 32)
	raw, err := storage.NewLocal("raw", filepath.Join(dir, "raw"), secret, "http://127.0.0.1")
	if err != nil {
		f.Fatal(err)
	}
	videos, err := storage.NewLocal("videos", filepath.Join(dir, "videos"), secret, "http://127.0.0.1")
	if err != nil {
		f.Fatal(err)
	}
	const token = "fuzz-token-0123456789"
	h := New(Options{Raw: storage.Compose(raw), Videos: storage.Compose(videos), AdminToken: token, MaxUploadBytes: 4 << 10}).Handler()
	ctx := context.Background()

	f.Fuzz(func(t *testing.T, contentType string, body []byte) {
		req := httptest.NewRequest(http.MethodPost, "/api/upload", bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", contentType)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)

		switch rec.Code {
		case http.StatusCreated:
			// Stored whole: clear the stores for the next input.
			for _, s := range []storage.Store{raw, videos} {
				objs, _ := s.List(ctx, "")
				for _, o := range objs {
					s.Delete(ctx, o.Key)
				}
			}
			return
		case http.StatusBadRequest, http.StatusRequestEntityTooLarge, http.StatusUnsupportedMediaType:
		default:
			t.Fatalf("got %d %s, want 201, 400, 413 or 415", rec.Code, rec.Body)
		}
		for _, s := range []storage.Store{raw, videos} {
			if objs, err := s.List(ctx, ""); err != nil || len(objs) > 0 {
				t.Fatalf("a refused upload (%d) left %v (err %v)", rec.Code, objs, err)
			}
		}
		for _, tmp := range []string{filepath.Join(dir, "raw", ".tmp"), filepath.Join(dir, "videos", ".tmp")} {
			if ents, _ := os.ReadDir(tmp); len(ents) > 0 {
				t.Fatalf("a refused upload (%d) left temp files: %v", rec.Code, ents)
			}
		}
	})
}
