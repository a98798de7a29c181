package worker_test

import (
	"context"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/assetlab/assetlab/server/app/apptest"
	"github.com/assetlab/assetlab/server/jobs"
	"github.com/assetlab/assetlab/server/storage"
	"github.com/assetlab/assetlab/worker/mediatest"
)

// leftovers lists what is stored or running for video id: objects in either
// store whose key names it, unfinished writes, files in the temp folder, and
// FFmpeg processes reading it.
func leftovers(t *testing.T, e *apptest.Env, id, tmp string) []string {
	t.Helper()
	var left []string
	for _, k := range e.Objects() {
		if strings.Contains(k, id) {
			left = append(left, k)
		}
	}
	left = append(left, e.InFlight()...)
	if entries, _ := os.ReadDir(tmp); len(entries) > 0 {
		for _, en := range entries {
			left = append(left, "temp folder "+en.Name())
		}
	}
	for _, p := range ffmpegProcesses(id) {
		left = append(left, "process "+p)
	}
	return left
}

// ffmpegProcesses lists the FFmpeg processes whose command line names id.
func ffmpegProcesses(id string) []string {
	dirs, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	var out []string
	for _, d := range dirs {
		b, err := os.ReadFile(d)
		if err != nil {
			continue
		}
		cmd := strings.ReplaceAll(string(b), "\x00", " ")
		if strings.Contains(cmd, id) && (strings.Contains(cmd, "ffmpeg") || strings.Contains(cmd, "ffprobe")) {
			out = append(out, filepath.Base(filepath.Dir(d))+": "+cmd[:min(len(cmd), 80)])
		}
	}
	return out
}

// waitProcessing waits until a worker has made progress on video id, and
// returns its attempt.
func waitProcessing(t *testing.T, e *apptest.Env, id string) *jobs.Attempt {
	t.Helper()
	var at *jobs.Attempt
	apptest.Eventually(t, 90*time.Second, "the transcode to make progress", func() bool {
		var err error
		at, err = jobs.LatestAttempt(context.Background(), e.Server.Stores().Videos, id)
		return err == nil && at != nil && at.Progress > 0
	})
	return at
}

// waitGone waits until nothing of video id is left, and fails saying what is.
func waitGone(t *testing.T, e *apptest.Env, id, tmp string, timeout time.Duration) {
	t.Helper()
	start := time.Now()
	var left []string
	if !apptest.Within(timeout, func() bool { left = leftovers(t, e, id, tmp); return len(left) == 0 }) {
		t.Fatalf("%v after the delete, still left: %v", timeout, left)
	}
	t.Logf("nothing left %.1f s after the delete", time.Since(start).Seconds())
}

// Deleting a video while it is being transcoded wins: FFmpeg stops, nothing
// of the video is left in storage or in the temp folder, and the worker goes
// on to transcode the next upload.
func TestDeleteDuringTranscode(t *testing.T) {
	long := mediatest.Make(t, mediatest.Clip{Width: 1280, Height: 720, Seconds: 20, Audio: true})
	short := mediatest.Make(t, mediatest.Clip{Width: 320, Height: 240, Seconds: 1, Audio: true})
	for _, backend := range apptest.Backends {
		t.Run(backend, func(t *testing.T) {
			tmp := t.TempDir()
			e := startInProcess(t, backend, "ASSETLAB_TMP_DIR="+tmp)
			id := uploadClip(t, e, long)
			waitProcessing(t, e, id)
			if len(ffmpegProcesses(id)) == 0 {
				t.Fatal("no FFmpeg is running for the video: the test would prove nothing")
			}
			if code, body := e.Do("DELETE", "/api/videos/"+id, apptest.Token, "", nil); code != http.StatusNoContent {
				t.Fatalf("delete: got %d %v, want 204", code, body)
			}
			if code, _ := e.Get("/api/videos/" + id); code != http.StatusNotFound {
				t.Errorf("details after delete: got %d, want 404", code)
			}
			waitGone(t, e, id, tmp, time.Minute)
			// It stays gone: nothing was still on its way.
			time.Sleep(2 * time.Second)
			if left := leftovers(t, e, id, tmp); len(left) != 0 {
				t.Fatalf("reappeared after the delete: %v", left)
			}

			next := uploadClip(t, e, short)
			if st := e.WaitFinal(next, 2*time.Minute); st.Status != "done" {
				t.Fatalf("next upload: status %v, want done", st)
			}
			checkRenditions(t, e, next, "240p", 1) // 320x240
			if left := leftovers(t, e, id, tmp); len(left) != 0 {
				t.Errorf("left of the deleted video: %v", left)
			}
		})
	}
}

// A worker that dies during the transcode of a video being deleted leaves
// its job behind; the next worker that scans the queue finishes the
// deletion once the dead worker's lease has expired.
func TestDeleteWhileWorkerDies(t *testing.T) {
	b := startBusyWorker(t, 20, "10s")
	e, tmp, env, a, id := b.e, b.tmp, b.env, b.worker, b.id
	// Frozen, it cannot notice the delete; its lease is still live, so the
	// delete leaves the tombstone and queue marker for it.
	a.signal(syscall.SIGSTOP)
	if code, body := e.Do("DELETE", "/api/videos/"+id, apptest.Token, "", nil); code != http.StatusNoContent {
		t.Fatalf("delete: got %d %v, want 204", code, body)
	}
	a.signal(syscall.SIGKILL)
	a.cmd.Wait()
	if _, err := e.Server.Stores().Videos.Stat(context.Background(), jobs.QueueKey(id)); err != nil {
		t.Fatalf("queue marker after the delete: %v, want it kept for the running attempt", err)
	}

	// It also removes the dead worker's temp folder.
	startWorker(t, e, env...)
	waitGone(t, e, id, tmp, time.Minute)
}

// Deleting again finishes a deletion that was cut short after the video
// already answered 404.
func TestDeleteAgainFinishes(t *testing.T) {
	for _, backend := range apptest.Backends {
		t.Run(backend, func(t *testing.T) {
			e := apptest.Start(t, backend)
			id := e.UploadID(apptest.VideoBytes(1 << 20))
			// Cut short by a store that cannot list: tombstone written,
			// metadata gone, the rest still there.
			stores := e.Server.Stores()
			if err := jobs.Delete(context.Background(), stores.Raw, unlistable{stores.Videos}, id); err == nil {
				t.Fatal("a delete whose store cannot list succeeded: the test would prove nothing")
			}
			if len(e.Objects()) == 0 {
				t.Fatal("the cut-short delete left nothing: the test would prove nothing")
			}
			if code, _ := e.Get("/api/video/" + id + "/status"); code != http.StatusNotFound {
				t.Errorf("status of a half-deleted video: got %d, want 404", code)
			}
			if code, body := e.Do("DELETE", "/api/videos/"+id, apptest.Token, "", nil); code != http.StatusNoContent {
				t.Fatalf("delete again: got %d %v, want 204", code, body)
			}
			e.AssertClean(nil, 0)
			if code, _ := e.Do("DELETE", "/api/videos/"+id, apptest.Token, "", nil); code != http.StatusNotFound {
				t.Errorf("delete once more: got %d, want 404", code)
			}
		})
	}
}

// unlistable is a store whose listings fail, as an unreachable one's would.
type unlistable struct{ storage.Store }

func (unlistable) List(context.Context, string) ([]storage.Info, error) {
	return nil, errors.New("list refused")
}
