package uploads

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/assetlab/assetlab/server/api"
	"github.com/assetlab/assetlab/server/storage"
	"github.com/assetlab/assetlab/server/storage/s3test"
	"github.com/assetlab/assetlab/server/video"
)

// commitEnv is a tus endpoint on one backend whose Commit is commit.
type commitEnv struct {
	url string
	raw storage.Store
	gw  *s3test.Server // S3 only
}

func startCommitEnv(t *testing.T, backend string, commit func(context.Context, video.Meta) error) *commitEnv {
	t.Helper()
	e := &commitEnv{}
	o := Options{MaxSize: 1 << 30, Stall: time.Minute, Commit: commit, TempDir: t.TempDir()}
	if backend == "s3" {
		e.gw = s3test.Start(t)
		st := e.gw.CreateBucket(t, "raw")
		e.raw, o.S3 = st, st
	} else {
		st, err := storage.NewLocal("raw", t.TempDir(), []byte("0123456789abcdef0123456789abcdef"), "http://127.0.0.1")
		if err != nil {
			t.Fatal(err)
		}
		e.raw = st
	}
	o.Raw = storage.Compose(e.raw)
	s, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	// Quick tries, so that the test does not wait the real backoff.
	s.commitWaits = []time.Duration{10 * time.Millisecond, 20 * time.Millisecond, 40 * time.Millisecond}
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	e.url = srv.URL
	return e
}

func (e *commitEnv) do(t *testing.T, method, url string, body []byte, hdr map[string]string) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest(method, url, bytes.NewReader(body))
	req.Header.Set("Tus-Resumable", "1.0.0")
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp, string(b)
}

// upload sends data as one upload and returns the final PATCH's answer.
func (e *commitEnv) upload(t *testing.T, data []byte) (*http.Response, string) {
	t.Helper()
	resp, body := e.do(t, "POST", e.url+BasePath, nil, map[string]string{
		"Upload-Length": strconv.Itoa(len(data)), "Upload-Metadata": "filename Y2xpcC5tcDQ="}) // clip.mp4
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("create: got %d %s, want 201", resp.StatusCode, body)
	}
	loc := resp.Header.Get("Location")
	return e.do(t, "PATCH", e.url+loc[strings.Index(loc, BasePath):], data, map[string]string{
		"Content-Type": "application/offset+octet-stream", "Upload-Offset": "0"})
}

func (e *commitEnv) keys(t *testing.T) []string {
	t.Helper()
	list, err := e.raw.List(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, o := range list {
		keys = append(keys, o.Key)
	}
	return keys
}

// A finished upload whose video cannot be stored at once is tried again:
// a storage blip does not cost the client its upload.
func TestFinishRetriesTheCommit(t *testing.T) {
	for _, backend := range []string{"local", "s3"} {
		t.Run(backend, func(t *testing.T) {
			var tries atomic.Int32
			e := startCommitEnv(t, backend, func(ctx context.Context, m video.Meta) error {
				if tries.Add(1) <= 2 {
					return errors.New("storage blip")
				}
				return nil
			})
			data := make([]byte, 1<<20)
			copy(data, "\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2")
			resp, body := e.upload(t, data)
			id := resp.Header.Get(VideoIDHeader)
			if resp.StatusCode != http.StatusNoContent || id == "" {
				t.Fatalf("final patch: got %d %s (video %q), want 204 with a video ID", resp.StatusCode, body, id)
			}
			if got := tries.Load(); got != 3 {
				t.Errorf("commit tries: got %d, want 3", got)
			}
			if keys := e.keys(t); !slices.Equal(keys, []string{"originals/" + id + ".mp4"}) {
				t.Errorf("stored: got %v, want only the original", keys)
			}
		})
	}
}

// A finished upload whose video cannot be stored at all leaves nothing: no
// original, no tusd state, no lock, no open multipart upload; the answer is
// a JSON 5xx.
func TestFinishGivesUpCleanly(t *testing.T) {
	for _, backend := range []string{"local", "s3"} {
		t.Run(backend, func(t *testing.T) {
			var tries atomic.Int32
			e := startCommitEnv(t, backend, func(ctx context.Context, m video.Meta) error {
				tries.Add(1)
				return storage.ErrUnavailable
			})
			data := make([]byte, 1<<20)
			copy(data, "\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2")
			resp, body := e.upload(t, data)
			if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(body, `"code":"storage_unavailable"`) {
				t.Errorf("final patch: got %d %s, want 503 storage_unavailable", resp.StatusCode, body)
			}
			if got := tries.Load(); got != 4 {
				t.Errorf("commit tries: got %d, want 4", got)
			}
			if keys := e.keys(t); len(keys) != 0 {
				t.Errorf("left behind: %v", keys)
			}
			if e.gw != nil {
				if open := e.gw.OpenUploads(t, "raw"); len(open) != 0 {
					t.Errorf("open multipart uploads: %v", open)
				}
			}
		})
	}
}

// Every code the endpoint answers is one of the API's.
func TestCodesAreTheAPIs(t *testing.T) {
	codes := []string{codeBadRequest, codeNotFound, codeLocked, codeOffsetMismatch, codeTooLarge,
		codeUnsupported, codeEmpty, codeInterrupted, codeMethodNotAllowed, codeStorageUnavailable, codeInternal}
	for _, t2 := range tusdCodes {
		codes = append(codes, t2.code)
	}
	for _, c := range codes {
		if !slices.Contains(api.Codes, api.Code(c)) {
			t.Errorf("code %q is not in api.Codes", c)
		}
	}
}

// tusd's errors get the API's codes, also from a HEAD (status only).
func TestTranslate(t *testing.T) {
	tests := []struct {
		status  int
		tusCode string
		want    string
	}{
		{423, "ERR_UPLOAD_LOCKED", codeLocked},
		{500, "ERR_LOCK_TIMEOUT", codeLocked},
		{409, "ERR_MISMATCHED_OFFSET", codeOffsetMismatch},
		{413, "ERR_MAX_SIZE_EXCEEDED", codeTooLarge},
		{404, "", codeNotFound},
		{423, "", codeLocked},
		{409, "", codeOffsetMismatch},
		{400, "ERR_INVALID_OFFSET", codeBadRequest},
		{500, "ERR_INTERNAL_SERVER_ERROR", codeInternal},
		{400, "ERR_UNEXPECTED_EOF", codeInterrupted},
	}
	for _, tt := range tests {
		if got, _ := translate(tt.status, tt.tusCode, "m"); got != tt.want {
			t.Errorf("translate(%d, %q): got %q, want %q", tt.status, tt.tusCode, got, tt.want)
		}
	}
}
