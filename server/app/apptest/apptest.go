// Package apptest runs a real AssetLab server, on the local backend or on a
// versitygw it starts, for tests of the server and of the workers.
package apptest

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/assetlab/assetlab/server/app"
	"github.com/assetlab/assetlab/server/config"
	"github.com/assetlab/assetlab/server/storage"
	"github.com/assetlab/assetlab/server/storage/s3test"
)

// Token is the admin token of every test server.
const Token = "test-token-0123456789abcdef"

// Env is a running server on one backend.
type Env struct {
	t       *testing.T
	backend string
	URL     string
	Server  *app.Server
	Config  config.Config
	S3      *s3test.Server // S3 backend only
	// Stop stops the server (it is also stopped when the test ends).
	Stop func()
	// Log is where the server logs (warnings and up, unless LOG_LEVEL says).
	Log *slog.Logger
}

// Backends are the storage backends a test can run on.
var Backends = []string{"local", "s3"}

// Options are what a test may change of its server.
type Options struct {
	// Env holds extra environment variables, "NAME=value". The server runs
	// no transcode worker unless it sets ASSETLAB_WORKERS.
	Env []string
	// Log replaces the server's logger.
	Log *slog.Logger
}

// Start starts a server on the backend ("local" or "s3") with the given extra
// environment, and stops it when the test ends.
func Start(t *testing.T, backend string, extra ...string) *Env {
	t.Helper()
	return StartWith(t, backend, Options{Env: extra})
}

// StartWith starts a server with options.
func StartWith(t *testing.T, backend string, o Options) *Env {
	t.Helper()
	vars := map[string]string{
		"ADMIN_TOKEN":        Token,
		"PORT":               "0",
		"HOST":               "127.0.0.1",
		"ASSETLAB_DATA_DIR":  t.TempDir(),
		"ASSETLAB_WORKERS":   "0",
		"ASSETLAB_LOG_LEVEL": "warn",
	}
	e := &Env{t: t, backend: backend, Log: o.Log}
	if backend == "s3" {
		e.S3 = s3test.Start(t, "raw", "videos")
		for _, kv := range e.S3.Env("raw", "videos") {
			k, v, _ := strings.Cut(kv, "=")
			vars[k] = v
		}
	}
	for _, kv := range o.Env {
		k, v, _ := strings.Cut(kv, "=")
		vars[k] = v
	}
	cfg, err := config.FromEnv(func(k string) string { return vars[k] })
	if err != nil {
		t.Fatal(err)
	}
	e.Config = cfg
	ctx, cancel := context.WithCancel(context.Background())
	if e.Log == nil {
		e.Log = config.NewLogger(cfg)
	}
	// Failed aborts are retried quickly, so tests see storage cleaned soon.
	cfg.AbortRetryInterval = 200 * time.Millisecond
	srv, err := app.New(ctx, app.Options{Config: cfg, Log: e.Log})
	if err != nil {
		t.Fatal(err)
	}
	e.Server = srv
	e.URL = fmt.Sprintf("http://127.0.0.1:%d", srv.Port())
	done := make(chan error, 1)
	go func() { done <- srv.Run(ctx) }()
	var stopOnce sync.Once
	e.Stop = func() {
		stopOnce.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("server stopped with %v", err)
			}
		})
	}
	t.Cleanup(e.Stop)
	return e
}

// Objects lists every object in both stores.
func (e *Env) Objects() []string {
	e.t.Helper()
	seen := map[string]bool{}
	for _, s := range []storage.Store{e.Server.Stores().Raw, e.Server.Stores().Videos} {
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

// InFlight lists unfinished writes: open multipart uploads, or temp files.
func (e *Env) InFlight() []string {
	e.t.Helper()
	if e.S3 != nil {
		return append(e.S3.OpenUploads(e.t, "raw"), e.S3.OpenUploads(e.t, "videos")...)
	}
	var names []string
	for _, d := range []string{"raw", "videos"} {
		entries, _ := os.ReadDir(filepath.Join(e.Config.DataDir, d, ".tmp"))
		for _, en := range entries {
			names = append(names, en.Name())
		}
	}
	return names
}

// AssertClean fails unless storage holds exactly the objects in want and no
// unfinished write, waiting up to wait for background clean-up.
func (e *Env) AssertClean(want []string, wait time.Duration) {
	e.t.Helper()
	var objs, open []string
	clean := func() bool {
		objs, open = e.Objects(), e.InFlight()
		return strings.Join(objs, ",") == strings.Join(want, ",") && len(open) == 0
	}
	if !Within(wait, clean) {
		e.t.Fatalf("storage not clean: objects %v (want %v), unfinished writes %v", objs, want, open)
	}
}

// MP4Head is the start of an MP4 file: enough for the server to accept it.
var MP4Head = []byte("\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2")

// VideoBytes returns n bytes that start like an MP4 file.
func VideoBytes(n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	copy(b, MP4Head)
	return b
}

// MultipartBody builds a form with one file field.
func MultipartBody(field, filename string, content []byte) (string, *bytes.Buffer) {
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	fw, _ := mw.CreateFormFile(field, filename)
	fw.Write(content)
	mw.Close()
	return mw.FormDataContentType(), &buf
}

// Upload posts content as the field "file" with the token.
func (e *Env) Upload(token string, content []byte) (int, map[string]any) {
	e.t.Helper()
	ct, body := MultipartBody("file", "clip.mp4", content)
	return e.Do("POST", "/api/upload", token, ct, body)
}

// Do sends a request and returns its status code and JSON answer, untyped;
// DoInto decodes into a typed body.
func (e *Env) Do(method, path, token, contentType string, body io.Reader) (int, map[string]any) {
	e.t.Helper()
	var m map[string]any
	code := e.DoInto(method, path, token, contentType, body, &m)
	return code, m
}

func (e *Env) Get(path string) (int, map[string]any) {
	e.t.Helper()
	return e.Do("GET", path, "", "", nil)
}

func Fetch(t *testing.T, url string) []byte {
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
