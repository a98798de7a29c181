package worker_test

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/assetlab/assetlab/server/app/apptest"
	"github.com/assetlab/assetlab/server/jobs"
	"github.com/assetlab/assetlab/worker/mediatest"
)

// logBuffer collects a server's log lines.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func workersOf(t *testing.T, e *apptest.Env) []jobs.WorkerInfo {
	t.Helper()
	list, err := jobs.Workers(context.Background(), e.Server.Stores().Videos)
	if err != nil {
		t.Fatal(err)
	}
	return list
}

// An in-process worker without FFmpeg stays off and says why: in the log,
// in /readyz, and in the details of a pending video.
func TestInProcessWorkerWithoutFFmpeg(t *testing.T) {
	for _, backend := range apptest.Backends {
		t.Run(backend, func(t *testing.T) {
			logs := &logBuffer{}
			e := apptest.StartWith(t, backend, apptest.Options{
				Env: []string{"ASSETLAB_WORKERS=1", "ASSETLAB_FFMPEG=/nonexistent/ffmpeg", "ASSETLAB_POLL_INTERVAL=50ms", "ASSETLAB_POLL_MAX=100ms"},
				Log: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelWarn})),
			})
			var ready apptest.ErrorBody
			apptest.Eventually(t, 30*time.Second, "/readyz to report the transcoder", func() bool {
				return e.GetInto("/readyz", &ready) == http.StatusServiceUnavailable
			})
			if msg := ready.Error; !strings.Contains(msg, "ffmpeg (/nonexistent/ffmpeg) cannot be run") {
				t.Errorf("/readyz says %q, want it to name the missing ffmpeg", msg)
			}
			if l := logs.String(); !strings.Contains(l, "transcoder off") || !strings.Contains(l, "/nonexistent/ffmpeg") {
				t.Errorf("log does not say the transcoder is off and why:\n%s", l)
			}

			id := uploadClip(t, e, mediatest.Make(t, mediatest.Clip{Width: 320, Height: 240, Seconds: 1}))
			time.Sleep(2 * time.Second) // many polls' worth
			// The whole body, untyped: nothing but the status may be in it.
			if _, st := e.Get("/api/video/" + id + "/status"); st["status"] != "pending" || len(st) != 1 {
				t.Errorf("status: got %v, want exactly {status: pending}", st)
			}
			if a := attempts(t, e, id); len(a) != 0 {
				t.Errorf("attempts %v, want none: a worker without FFmpeg claims nothing", a)
			}
			if d := e.Details(id); d.Status != "pending" || d.Waiting != "no_worker" {
				t.Errorf("details: status %v, waiting %v; want pending, no_worker", d.Status, d.Waiting)
			}
			if w := workersOf(t, e); len(w) != 0 {
				t.Errorf("announced workers %+v, want none", w)
			}
		})
	}
}

// A working worker announces itself; a video waiting behind another one is
// in line; the details of the one being transcoded say processing.
func TestWorkerAnnouncesItself(t *testing.T) {
	// A short lease rewrites the announcement every second, so that it is
	// seen naming the job however quickly the transcode runs.
	e := startInProcess(t, "s3", "ASSETLAB_JOB_LEASE=3s")
	var me jobs.WorkerInfo
	apptest.Eventually(t, 30*time.Second, "the worker's announcement", func() bool {
		w := workersOf(t, e)
		if len(w) == 1 {
			me = w[0]
		}
		return len(w) == 1
	})
	if !strings.HasPrefix(me.FFmpeg, "ffmpeg version ") || me.Name == "" || me.Host == "" || me.PID == 0 ||
		!me.Live(time.Now()) || me.Job != "" {
		t.Errorf("announcement %+v, want a live, idle worker with its FFmpeg version", me)
	}

	long := uploadClip(t, e, mediatest.Make(t, mediatest.Clip{Width: 1280, Height: 720, Seconds: 20, Audio: true}))
	waitProcessing(t, e, long)
	next := uploadClip(t, e, mediatest.Make(t, mediatest.Clip{Width: 320, Height: 240, Seconds: 1}))
	if d := e.Details(next); d.Status != "pending" || d.Waiting != "in_line" {
		t.Errorf("video behind another: status %v, waiting %v; want pending, in_line", d.Status, d.Waiting)
	}
	if d := e.Details(long); d.Status != "processing" || d.Waiting != "" {
		t.Errorf("video being transcoded: status %v, waiting %q; want processing and no waiting", d.Status, d.Waiting)
	}
	apptest.Eventually(t, 30*time.Second, "the announcement to name the job", func() bool {
		w := workersOf(t, e)
		return len(w) == 1 && w[0].Job == long && w[0].Progress > 0 && w[0].HeartbeatAt.After(me.HeartbeatAt)
	})
	for _, id := range []string{long, next} {
		if st := e.WaitFinal(id, 3*time.Minute); st.Status != "done" {
			t.Fatalf("%s: status %v, want done", id, st)
		}
	}
}

// A standalone worker announces itself while it runs, removes its
// announcement when stopped, and without FFmpeg refuses to start.
func TestStandaloneWorkerTools(t *testing.T) {
	e := apptest.Start(t, "local")
	t.Run("announces", func(t *testing.T) {
		p := startWorker(t, e)
		apptest.Eventually(t, 30*time.Second, "the announcement", func() bool { return len(workersOf(t, e)) == 1 })
		p.cmd.Process.Signal(syscall.SIGTERM)
		if err := p.cmd.Wait(); err != nil {
			t.Errorf("worker exited with %v after SIGTERM", err)
		}
		if w := workersOf(t, e); len(w) != 0 {
			t.Errorf("announcements after a clean stop: %+v, want none", w)
		}
	})
	t.Run("no ffmpeg", func(t *testing.T) {
		p := startWorker(t, e, "PATH="+t.TempDir(), "ASSETLAB_FFMPEG=", "ASSETLAB_FFPROBE=")
		done := make(chan error, 1)
		go func() { done <- p.cmd.Wait() }()
		select {
		case err := <-done:
			if err == nil || p.cmd.ProcessState.ExitCode() == 0 {
				t.Errorf("exit: %v, want a non-zero exit", err)
			}
		case <-time.After(60 * time.Second):
			t.Fatal("the worker did not exit without ffmpeg")
		}
		for _, want := range []string{"ffmpeg (ffmpeg) cannot be run", "ffprobe (ffprobe) cannot be run", "assetlab-worker: cannot transcode"} {
			if !strings.Contains(p.logText(), want) {
				t.Errorf("log does not say %q:\n%s", want, p.logText())
			}
		}
		if w := workersOf(t, e); len(w) != 0 {
			t.Errorf("announcements: %+v, want none", w)
		}
	})
}
