package app_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/assetlab/assetlab/server/app"
	"github.com/assetlab/assetlab/server/config"
	"github.com/assetlab/assetlab/server/storage"
	"github.com/assetlab/assetlab/server/storage/s3test"
)

const testToken = "test-token-0123456789abcdef"

// env is a running server on one backend.
type env struct {
	t       *testing.T
	backend string
	url     string
	srv     *app.Server
	cfg     config.Config
	gw      *s3test.Server // S3 backend only
	stop    func()
}

var backends = []string{"local", "s3"}

// newEnv starts a server on the backend ("local" or "s3") with the given extra
// environment, and stops it when the test ends.
func newEnv(t *testing.T, backend string, extra ...string) *env {
	t.Helper()
	vars := map[string]string{
		"ADMIN_TOKEN":        testToken,
		"PORT":               "0",
		"HOST":               "127.0.0.1",
		"ASSETLAB_DATA_DIR":  t.TempDir(),
		"ASSETLAB_WORKERS":   "0",
		"ASSETLAB_LOG_LEVEL": "warn",
	}
	e := &env{t: t, backend: backend}
	if backend == "s3" {
		e.gw = s3test.Start(t, "raw", "videos")
		for _, kv := range e.gw.Env("raw", "videos") {
			k, v, _ := strings.Cut(kv, "=")
			vars[k] = v
		}
	}
	for _, kv := range extra {
		k, v, _ := strings.Cut(kv, "=")
		vars[k] = v
	}
	cfg, err := config.FromEnv(func(k string) string { return vars[k] })
	if err != nil {
		t.Fatal(err)
	}
	e.cfg = cfg
	ctx, cancel := context.WithCancel(context.Background())
	srv, err := app.New(ctx, app.Options{Config: cfg, JanitorInterval: 200 * time.Millisecond, Log: app.NewLogger(cfg)})
	if err != nil {
		t.Fatal(err)
	}
	e.srv = srv
	e.url = fmt.Sprintf("http://127.0.0.1:%d", srv.Port())
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	e.stop = func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("server stopped with %v", err)
		}
	}
	t.Cleanup(e.stop)
	return e
}

// objects lists every object in both stores.
func (e *env) objects() []string {
	e.t.Helper()
	seen := map[string]bool{}
	for _, s := range []storage.Store{e.srv.Stores().Raw, e.srv.Stores().Videos} {
		list, err := s.List(context.Background(), "")
		if err != nil {
			e.t.Fatalf("list: %v", err)
		}
		for _, o := range list {
			seen[o.Key] = true
		}
	}
	var keys []string
	for k := range seen {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// inFlight lists unfinished writes: open multipart uploads, or temp files.
func (e *env) inFlight() []string {
	e.t.Helper()
	if e.gw != nil {
		return append(e.gw.OpenUploads(e.t, "raw"), e.gw.OpenUploads(e.t, "videos")...)
	}
	var names []string
	for _, d := range []string{"raw", "videos"} {
		entries, _ := os.ReadDir(filepath.Join(e.cfg.DataDir, d, ".tmp"))
		for _, en := range entries {
			names = append(names, en.Name())
		}
	}
	return names
}

// assertClean fails unless storage holds exactly the objects in want and no
// unfinished write, waiting up to wait for background clean-up.
func (e *env) assertClean(want []string, wait time.Duration) {
	e.t.Helper()
	deadline := time.Now().Add(wait)
	for {
		objs, open := e.objects(), e.inFlight()
		if strings.Join(objs, ",") == strings.Join(want, ",") && len(open) == 0 {
			return
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("storage not clean: objects %v (want %v), unfinished writes %v", objs, want, open)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// mp4Head is the start of an MP4 file: enough for the server to accept it.
var mp4Head = []byte("\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2")

// videoBytes returns n bytes that start like an MP4 file.
func videoBytes(n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	copy(b, mp4Head)
	return b
}

// multipartBody builds a form with one file field.
func multipartBody(field, filename string, content []byte) (string, *bytes.Buffer) {
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	fw, _ := mw.CreateFormFile(field, filename)
	fw.Write(content)
	mw.Close()
	return mw.FormDataContentType(), &buf
}

// upload posts content as the field "file" with the token.
func (e *env) upload(token string, content []byte) (int, map[string]any) {
	e.t.Helper()
	ct, body := multipartBody("file", "clip.mp4", content)
	return e.do("POST", "/api/upload", token, ct, body)
}

func (e *env) do(method, path, token, contentType string, body io.Reader) (int, map[string]any) {
	e.t.Helper()
	req, err := http.NewRequest(method, e.url+path, body)
	if err != nil {
		e.t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var m map[string]any
	if len(raw) > 0 && strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		if err := json.Unmarshal(raw, &m); err != nil {
			e.t.Fatalf("%s %s: bad JSON %q", method, path, raw)
		}
	}
	return resp.StatusCode, m
}

func (e *env) get(path string) (int, map[string]any) {
	e.t.Helper()
	return e.do("GET", path, "", "", nil)
}

func fetch(t *testing.T, url string) []byte {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %s", url, resp.StatusCode, b)
	}
	return b
}
