package app_test

import (
	"net/http"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/assetlab/assetlab/server/app/apptest"
)

// mountTmpfs mounts a tmpfs of the given size (e.g. "8m") over dir until the
// test ends, or skips the test where mounting is not permitted.
func mountTmpfs(t *testing.T, dir, size string) {
	t.Helper()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+size, "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a tmpfs (needs root or CAP_SYS_ADMIN): %v: %s", err, out)
	}
	t.Cleanup(func() {
		// Lazy: a server still holding files there must not keep it mounted.
		if out, err := exec.Command("umount", "-l", dir).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v: %s", dir, err, out)
		}
	})
}

// An upload into full storage is a 507 that says so, leaves nothing behind,
// and the next upload that fits succeeds.
func TestUploadIntoFullStorage(t *testing.T) {
	for _, backend := range apptest.Backends {
		t.Run(backend, func(t *testing.T) {
			var e *apptest.Env
			if backend == "local" {
				dir := t.TempDir()
				mountTmpfs(t, dir, "8m")
				e = apptest.Start(t, backend, "ASSETLAB_DATA_DIR="+dir)
			} else {
				e = apptest.Start(t, backend)
				// Put versitygw's directory on a small disk of its own.
				e.S3.Stop()
				mountTmpfs(t, e.S3.Dir, "16m")
				e.S3.Restart()
				e.S3.CreateBucket(t, "raw")
				e.S3.CreateBucket(t, "videos")
			}

			// Streamed, as a browser sends it: the server finds the disk full
			// while the client is still sending.
			code, b := postStreamed(t, e, "big.mp4", 40<<20+int64(len(apptest.MP4Head)))
			if code != http.StatusInsufficientStorage || !strings.Contains(string(b), `"error":"storage is full: `) {
				t.Errorf("upload into full storage: got %d %s, want 507 saying storage is full", code, b)
			}
			e.AssertClean(nil, 15*time.Second)

			code, body := e.Upload(apptest.Token, apptest.VideoBytes(100<<10))
			if code != http.StatusCreated {
				t.Fatalf("upload after the refusal: got %d %v, want 201", code, body)
			}
		})
	}
}
