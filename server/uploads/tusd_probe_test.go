package uploads

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/assetlab/assetlab/server/storage"
	"github.com/assetlab/assetlab/server/storage/s3test"
	"github.com/tus/tusd/v2/pkg/handler"
	"github.com/tus/tusd/v2/pkg/s3store"
)

// tusd's s3store against versitygw: an upload created, sent in two PATCHes
// through two handlers (two API servers) sharing the storage lock, ends as
// one object under the key the hook chose, with the file's bytes.
func TestTusdS3StoreOnVersitygw(t *testing.T) {
	gw := s3test.Start(t)
	st := gw.CreateBucket(t, "raw")
	ctx := context.Background()
	newServer := func(name string) *httptest.Server {
		store := s3store.New("raw", gw.Client(t))
		store.ObjectPrefix = "originals/"
		store.MetadataObjectPrefix = "uploads/tus/"
		store.TemporaryDirectory = t.TempDir()
		store.MinPartSize = 5 << 20
		store.PreferredPartSize = 8 << 20
		store.MaxBufferedParts = 2
		composer := handler.NewStoreComposer()
		store.UseIn(composer)
		composer.UseLocker(&Locker{Store: st, Holder: name, Lease: 5 * time.Second, Poll: 100 * time.Millisecond})
		h, err := handler.NewHandler(handler.Config{
			BasePath: "/api/uploads/", StoreComposer: composer, MaxSize: 1 << 30,
			PreUploadCreateCallback: func(hook handler.HookEvent) (handler.HTTPResponse, handler.FileInfoChanges, error) {
				return handler.HTTPResponse{}, handler.FileInfoChanges{ID: "0b5e7c1e-0000-4000-8000-000000000001.mp4"}, nil
			},
		})
		if err != nil {
			t.Fatal(err)
		}
		mux := http.NewServeMux()
		mux.Handle("/api/uploads/", http.StripPrefix("/api/uploads/", h))
		return httptest.NewServer(mux)
	}
	a, b := newServer("a"), newServer("b")
	defer a.Close()
	defer b.Close()

	data := make([]byte, 13<<20)
	rand.Read(data)
	do := func(method, url string, body []byte, hdr map[string]string) *http.Response {
		req, _ := http.NewRequest(method, url, bytes.NewReader(body))
		req.Header.Set("Tus-Resumable", "1.0.0")
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp
	}
	resp := do("POST", a.URL+"/api/uploads/", nil, map[string]string{"Upload-Length": strconv.Itoa(len(data))})
	if resp.StatusCode != 201 {
		t.Fatalf("create: %d", resp.StatusCode)
	}
	loc := resp.Header.Get("Location")
	t.Logf("upload at %s", loc)
	path := loc[len("http://"+resp.Request.Host):]
	half := 7 << 20
	resp = do("PATCH", a.URL+path, data[:half], map[string]string{"Content-Type": "application/offset+octet-stream", "Upload-Offset": "0"})
	if resp.StatusCode != 204 {
		t.Fatalf("patch 1: %d", resp.StatusCode)
	}
	resp = do("HEAD", b.URL+path, nil, nil)
	off, _ := strconv.Atoi(resp.Header.Get("Upload-Offset"))
	t.Logf("offset seen by server b: %d", off)
	resp = do("PATCH", b.URL+path, data[off:], map[string]string{"Content-Type": "application/offset+octet-stream", "Upload-Offset": strconv.Itoa(off)})
	if resp.StatusCode != 204 {
		t.Fatalf("patch 2: %d", resp.StatusCode)
	}
	got, err := storage.ReadAll(ctx, st, "originals/0b5e7c1e-0000-4000-8000-000000000001.mp4")
	if err != nil {
		t.Fatal(err)
	}
	if sha256.Sum256(got) != sha256.Sum256(data) {
		t.Fatalf("stored %d bytes differ from the %d sent", len(got), len(data))
	}
	if open := gw.OpenUploads(t, "raw"); len(open) != 0 {
		t.Errorf("open multipart uploads left: %v", open)
	}
	// tusd keeps the upload's .info object after it finishes: the
	// completion hook has to remove it.
	left, _ := st.List(ctx, "uploads/tus/")
	t.Logf("left under uploads/tus/: %d object(s)", len(left))
}
