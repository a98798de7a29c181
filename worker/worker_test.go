package worker_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/assetlab/assetlab/server/app/apptest"
	"github.com/assetlab/assetlab/server/jobs"
	"github.com/assetlab/assetlab/server/storage"
	"github.com/assetlab/assetlab/server/video"
	"github.com/assetlab/assetlab/worker/mediatest"
)

var workerBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "assetlab-worker-bin-")
	if err != nil {
		panic(err)
	}
	workerBin = filepath.Join(dir, "assetlab-worker")
	if out, err := exec.Command("go", "build", "-o", workerBin, "github.com/assetlab/assetlab/worker/cmd/assetlab-worker").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "build worker: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	mediatest.Cleanup()
	os.Exit(code)
}

// ffmpegProgram is the FFmpeg the wrappers below run: the one
// ASSETLAB_FFMPEG names, as for the worker, else the one on PATH.
func ffmpegProgram() string {
	if p := os.Getenv("ASSETLAB_FFMPEG"); p != "" {
		return p
	}
	return "ffmpeg"
}

// countingFFmpeg writes a wrapper around ffmpeg that logs each run's input, so
// a test can count transcodes across processes.
func countingFFmpeg(t *testing.T) (path, logFile string) {
	dir := t.TempDir()
	logFile = filepath.Join(dir, "runs.log")
	path = filepath.Join(dir, "ffmpeg")
	script := fmt.Sprintf("#!/bin/sh\nfor a; do case \"$a\" in *originals/*) echo \"$a\" >> %q;; esac; done\nexec %q \"$@\"\n", logFile, ffmpegProgram())
	if err := os.WriteFile(path, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return path, logFile
}

// runsPerVideo counts the transcodes logged by countingFFmpeg, per video ID.
func runsPerVideo(t *testing.T, logFile string) map[string]int {
	b, _ := os.ReadFile(logFile)
	counts := map[string]int{}
	for _, line := range strings.Fields(string(b)) {
		_, after, _ := strings.Cut(line, "originals/")
		counts[after[:36]]++
	}
	return counts
}

// process is a standalone worker process.
type process struct {
	cmd *exec.Cmd
	log *os.File
}

func startWorker(t *testing.T, e *apptest.Env, env ...string) *process {
	t.Helper()
	cmd := exec.Command(workerBin)
	cmd.Env = append(os.Environ(), "ASSETLAB_DATA_DIR="+e.Config.DataDir, "ASSETLAB_LOG_LEVEL=info",
		"ASSETLAB_POLL_INTERVAL=100ms", "ASSETLAB_POLL_MAX=500ms", "ASSETLAB_WORKERS=1")
	if e.S3 != nil {
		cmd.Env = append(cmd.Env, e.S3.Env("raw", "videos")...)
	}
	cmd.Env = append(cmd.Env, env...)
	logf, err := os.CreateTemp(t.TempDir(), "worker-*.log")
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	// Its own process group, so that a kill takes its FFmpeg too, as a
	// machine or container dying would.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &process{cmd: cmd, log: logf}
	t.Cleanup(func() { p.signal(syscall.SIGKILL); cmd.Wait() })
	return p
}

func (p *process) signal(sig syscall.Signal) { syscall.Kill(-p.cmd.Process.Pid, sig) }

func (p *process) logText() string {
	b, _ := os.ReadFile(p.log.Name())
	return string(b)
}

func uploadClip(t *testing.T, e *apptest.Env, clip string) string {
	t.Helper()
	data, err := os.ReadFile(clip)
	if err != nil {
		t.Fatal(err)
	}
	return e.UploadID(data)
}

func attempts(t *testing.T, e *apptest.Env, id string) []jobs.Attempt {
	t.Helper()
	list, err := jobs.Attempts(context.Background(), e.Server.Stores().Videos, id)
	if err != nil {
		t.Fatal(err)
	}
	return list
}

// result reads the result of a job, which must have ended.
func result(t *testing.T, e *apptest.Env, id string) jobs.Result {
	t.Helper()
	st, err := jobs.Load(context.Background(), e.Server.Stores().Videos, id)
	if err != nil || st.Result == nil {
		t.Fatalf("read result: %+v %v", st, err)
	}
	return *st.Result
}

// checkRenditions fetches every rendition through the API and checks it with ffprobe.
func checkRenditions(t *testing.T, e *apptest.Env, id string, want string, seconds float64) {
	t.Helper()
	d := e.Details(id)
	var got []string
	for _, r := range d.Renditions {
		got = append(got, string(r.Quality))
		info := mediatest.Probe(t, r.URL)
		if info.VideoCodec != "h264" || info.Width != r.Width || info.Height != r.Height ||
			info.Duration < seconds-0.3 || info.Duration > seconds+0.3 {
			t.Errorf("%s: %+v, want h264 %vx%v lasting %.1f s", r.Quality, info, r.Width, r.Height, seconds)
		}
	}
	if strings.Join(got, ",") != want {
		t.Errorf("renditions %v, want %s", got, want)
	}
	if d.Poster == "" {
		t.Error("no poster")
	}
}

// busyWorker is a local server with one standalone worker transcoding a video.
type busyWorker struct {
	e       *apptest.Env
	tmp     string   // the worker's temp folder
	env     []string // the worker's environment, for another like it
	worker  *process
	id      string        // the video being transcoded
	attempt *jobs.Attempt // its attempt, once it made progress
}

// startBusyWorker starts a worker with the given job lease, uploads a 720p
// clip lasting seconds, and returns once the worker has made progress on it.
func startBusyWorker(t *testing.T, seconds float64, lease string) busyWorker {
	t.Helper()
	clip := mediatest.Make(t, mediatest.Clip{Width: 1280, Height: 720, Seconds: seconds, Audio: true})
	b := busyWorker{e: apptest.Start(t, "local"), tmp: t.TempDir()}
	b.env = []string{"ASSETLAB_JOB_LEASE=" + lease, "ASSETLAB_TMP_DIR=" + b.tmp}
	b.worker = startWorker(t, b.e, b.env...)
	b.id = uploadClip(t, b.e, clip)
	b.attempt = waitProcessing(t, b.e, b.id)
	return b
}

// Four worker processes share twenty jobs: each is transcoded exactly once.
func TestManyWorkersManyJobs(t *testing.T) {
	const workers, jobsN = 4, 20
	clip := mediatest.Make(t, mediatest.Clip{Width: 320, Height: 240, Seconds: 1, Audio: true})
	for _, backend := range apptest.Backends {
		t.Run(backend, func(t *testing.T) {
			e := apptest.Start(t, backend)
			ffmpeg, runs := countingFFmpeg(t)
			for range workers {
				startWorker(t, e, "ASSETLAB_FFMPEG="+ffmpeg)
			}
			var ids []string
			for range jobsN {
				ids = append(ids, uploadClip(t, e, clip))
			}
			for _, id := range ids {
				if st := e.WaitFinal(id, 2*time.Minute); st.Status != "done" {
					t.Fatalf("%s: status %v, want done", id, st)
				}
			}
			counts := runsPerVideo(t, runs)
			for _, id := range ids {
				if counts[id] != 1 {
					t.Errorf("%s transcoded %d times, want once", id, counts[id])
				}
				if a := attempts(t, e, id); len(a) != 1 {
					t.Errorf("%s: attempts %v, want one", id, a)
				}
			}
			if len(counts) != jobsN {
				t.Errorf("%d videos transcoded, want %d", len(counts), jobsN)
			}
			checkRenditions(t, e, ids[0], "240p", 1) // a 320x240 clip: one rendition, named by its size
			// Nothing is left in the queue.
			if q, _ := jobs.Queued(context.Background(), e.Server.Stores().Videos); len(q) != 0 {
				t.Errorf("queue still holds %d markers", len(q))
			}
		})
	}
}

// A worker killed mid-transcode loses nothing: another takes the job over once
// the lease expires, and no partial output is left visible.
func TestKillWorkerMidTranscode(t *testing.T) {
	clip := mediatest.Make(t, mediatest.Clip{Width: 1280, Height: 720, Seconds: 12, Audio: true})
	for _, backend := range apptest.Backends {
		t.Run(backend, func(t *testing.T) {
			e := apptest.Start(t, backend)
			ffmpeg, runs := countingFFmpeg(t)
			tmp := t.TempDir()
			env := []string{"ASSETLAB_FFMPEG=" + ffmpeg, "ASSETLAB_JOB_LEASE=2s", "ASSETLAB_TMP_DIR=" + tmp}
			a := startWorker(t, e, env...)
			id := uploadClip(t, e, clip)
			waitProcessing(t, e, id)
			// Killed once its stream is playable: a viewer has started.
			apptest.Eventually(t, 60*time.Second, "the stream to become playable", func() bool {
				at, err := jobs.LatestAttempt(context.Background(), e.Server.Stores().Videos, id)
				return err == nil && at != nil && at.Playable > 0
			})
			a.signal(syscall.SIGKILL)
			a.cmd.Wait()
			if entries, _ := os.ReadDir(tmp); len(entries) == 0 {
				t.Fatal("worker A left no temp folder: it was not killed mid-transcode")
			}
			// What the dead attempt published stays whole: its playlists
			// name only segments that are there.
			checkStreamWhole(t, e, id, 1)
			if d := e.Details(id); !strings.Contains(d.HLSURL, "/hls/1/") {
				t.Errorf("hls_url %q after the kill, want attempt 1's stream until another is published", d.HLSURL)
			}
			if e.Status(id).Status == "done" {
				t.Fatal("done before the kill took effect")
			}

			startWorker(t, e, env...)
			st := e.WaitFinal(id, 2*time.Minute)
			if st.Status != "done" {
				t.Fatalf("status %v, want done", st)
			}
			if r := result(t, e, id); r.Attempt != 2 {
				t.Errorf("result from attempt %d, want 2", r.Attempt)
			}
			if n := runsPerVideo(t, runs)[id]; n != 2 {
				t.Errorf("%d transcodes, want 2 (the killed one and the takeover)", n)
			}
			checkRenditions(t, e, id, "360p,720p", 12)
			if d := e.Details(id); !strings.Contains(d.HLSURL, "/hls/2/") {
				t.Errorf("hls_url %q once done, want the takeover's stream", d.HLSURL)
			}
			checkStreamWhole(t, e, id, 2)
			left, _ := e.Server.Stores().Videos.List(context.Background(), video.AttemptPrefix(id, 1))
			if len(left) != 0 {
				t.Errorf("outputs of the killed attempt remain: %v", left)
			}
			if entries, _ := os.ReadDir(tmp); len(entries) != 0 {
				t.Errorf("temp folders remain: %v", entries)
			}
		})
	}
}

// A worker stopped with SIGTERM mid-transcode hands its job back: another
// worker takes it at once, not when the lease would have expired, and it does
// not count as a failed attempt.
func TestGracefulStopHandsJobBack(t *testing.T) {
	b := startBusyWorker(t, 12, "60s")
	e, tmp, env, a, id, first := b.e, b.tmp, b.env, b.worker, b.id, b.attempt
	leaseEnd := first.ExpiresAt
	a.cmd.Process.Signal(syscall.SIGTERM)
	if err := a.cmd.Wait(); err != nil {
		t.Errorf("worker A exited with %v after SIGTERM", err)
	}
	released, _ := jobs.LatestAttempt(context.Background(), e.Server.Stores().Videos, id)
	if released.N != 1 || released.State != jobs.AttemptReleased {
		t.Fatalf("attempt after SIGTERM: %+v, want attempt 1 released", released)
	}
	if entries, _ := os.ReadDir(tmp); len(entries) != 0 {
		t.Errorf("worker A left temp folders: %v", entries)
	}

	startWorker(t, e, env...)
	if st := e.WaitFinal(id, 2*time.Minute); st.Status != "done" {
		t.Fatalf("status %v, want done", st)
	}
	second, _ := jobs.LatestAttempt(context.Background(), e.Server.Stores().Videos, id)
	if second.N != 2 || second.Failures != 0 {
		t.Errorf("second attempt %+v, want attempt 2 with no failures counted", second)
	}
	if !second.StartedAt.Before(leaseEnd) {
		t.Errorf("attempt 2 started at %v, not before attempt 1's lease would have ended (%v)", second.StartedAt, leaseEnd)
	}
}

// A worker whose lease was taken while it ran (a "zombie") cannot overwrite
// the winner's outputs or result.
func TestZombieCannotOverwrite(t *testing.T) {
	clip := mediatest.Make(t, mediatest.Clip{Width: 1280, Height: 720, Seconds: 10, Audio: true})
	e := apptest.Start(t, "s3")
	env := []string{"ASSETLAB_JOB_LEASE=2s"}
	zombie := startWorker(t, e, env...)
	id := uploadClip(t, e, clip)
	waitProcessing(t, e, id)
	zombie.signal(syscall.SIGSTOP) // frozen: its lease runs out

	startWorker(t, e, env...)
	if st := e.WaitFinal(id, 2*time.Minute); st.Status != "done" {
		t.Fatalf("status %v, want done", st)
	}
	res := result(t, e, id)
	if res.Attempt != 2 {
		t.Fatalf("result from attempt %d, want 2", res.Attempt)
	}
	etags := func() map[string]string {
		m := map[string]string{}
		list, _ := e.Server.Stores().Videos.List(context.Background(), video.AttemptPrefix(id, 2))
		for _, o := range list {
			m[o.Key] = o.ETag
		}
		return m
	}
	winner := etags()

	zombie.signal(syscall.SIGCONT)
	apptest.Eventually(t, 60*time.Second, "the zombie to notice", func() bool {
		return strings.Contains(zombie.logText(), "another worker took the job over") ||
			strings.Contains(zombie.logText(), "another attempt ended the job first")
	})
	time.Sleep(500 * time.Millisecond)
	if after := result(t, e, id); !reflect.DeepEqual(after, res) {
		t.Errorf("result changed:\n%+v\n%+v", res, after)
	}
	if got := etags(); fmt.Sprint(got) != fmt.Sprint(winner) {
		t.Errorf("winner's outputs changed: %v, were %v", got, winner)
	}
	apptest.Eventually(t, 10*time.Second, "the zombie's outputs to be removed", func() bool {
		left, _ := e.Server.Stores().Videos.List(context.Background(), video.AttemptPrefix(id, 1))
		return len(left) == 0
	})
	checkRenditions(t, e, id, "360p,720p", 10)
}

// startInProcess runs the server with one in-process worker.
func startInProcess(t *testing.T, backend string, env ...string) *apptest.Env {
	return apptest.Start(t, backend, append([]string{"ASSETLAB_WORKERS=1"}, env...)...)
}

// The in-process worker starts the moment an upload completes, without
// waiting for its next poll.
func TestInProcessWorkerWakesOnUpload(t *testing.T) {
	e := startInProcess(t, "local", "ASSETLAB_POLL_INTERVAL=1h", "ASSETLAB_POLL_MAX=1h")
	clip := mediatest.Make(t, mediatest.Clip{Width: 640, Height: 360, Seconds: 2, Audio: true})
	// The worker announces itself as it starts its loop, just before its
	// first (empty) scan; from then on only a wake-up or the hour-long poll
	// can make it look again.
	apptest.Eventually(t, 30*time.Second, "the worker's announcement", func() bool { return len(workersOf(t, e)) == 1 })
	id := uploadClip(t, e, clip)
	if st := e.WaitFinal(id, 30*time.Second); st.Status != "done" {
		t.Fatalf("status %v, want done within 30 s (the poll interval is an hour)", st)
	}
	checkRenditions(t, e, id, "360p", 2)
}

// Bad input ends in error with a reason, after one attempt, and the worker
// carries on with the next job.
func TestBadInputEndsInError(t *testing.T) {
	for _, backend := range apptest.Backends {
		t.Run(backend, func(t *testing.T) {
			e := startInProcess(t, backend, "ASSETLAB_RETRY_BACKOFF=10ms")
			good := mediatest.Make(t, mediatest.Clip{Width: 320, Height: 240, Seconds: 6, Audio: true, Extra: []string{"-movflags", "+faststart"}})
			data, _ := os.ReadFile(good)
			garbage := make([]byte, 100000)
			for i := range garbage {
				garbage[i] = byte(i * 7919 >> 3)
			}
			cases := map[string]struct {
				data   []byte
				reason string
			}{
				"corrupt":    {append(append([]byte{}, apptest.MP4Head...), garbage...), "not a readable video"},
				"truncated":  {data[:len(data)/2], "truncated"},
				"audio only": {mustRead(t, mediatest.Make(t, mediatest.Clip{AudioOnly: true})), "audio only"},
			}
			for name, c := range cases {
				id := e.UploadID(c.data)
				st := e.WaitFinal(id, time.Minute)
				if st.Status != "error" || !strings.Contains(st.Error, c.reason) {
					t.Errorf("%s: status %v, want error saying %q", name, st, c.reason)
				}
				if a := attempts(t, e, id); len(a) != 1 {
					t.Errorf("%s: attempts %v, want one: bad input is not retried", name, a)
				}
			}
			id := uploadClip(t, e, good)
			if st := e.WaitFinal(id, time.Minute); st.Status != "done" {
				t.Errorf("good video after bad ones: %v, want done", st)
			}
		})
	}
}

// A failure that is not the input's fault is retried up to the cap, then the
// job ends in error saying so.
func TestRetriesUpToTheCap(t *testing.T) {
	broken := fakeFFmpeg(t, "echo 'Connection reset by peer' >&2\nexit 1")
	e := startInProcess(t, "local", "ASSETLAB_FFMPEG="+broken, "ASSETLAB_RETRY_BACKOFF=50ms",
		"ASSETLAB_POLL_INTERVAL=50ms", "ASSETLAB_POLL_MAX=100ms")
	id := uploadClip(t, e, mediatest.Make(t, mediatest.Clip{Width: 320, Height: 240, Seconds: 1}))
	st := e.WaitFinal(id, time.Minute)
	if st.Status != "error" || !strings.Contains(st.Error, "failed 3 times") ||
		!strings.Contains(st.Error, "storage could not be reached") {
		t.Errorf("status %v, want an error after 3 attempts that says why", st)
	}
	if a := attempts(t, e, id); len(a) != 3 {
		t.Errorf("attempts %v, want 3", a)
	}
}

// With ASSETLAB_DELETE_ORIGINAL the original goes once the renditions are
// stored, and the original URL then plays the best rendition.
func TestDeleteOriginal(t *testing.T) {
	e := startInProcess(t, "s3", "ASSETLAB_DELETE_ORIGINAL=true")
	id := uploadClip(t, e, mediatest.Make(t, mediatest.Clip{Width: 640, Height: 360, Seconds: 1, Audio: true}))
	if st := e.WaitFinal(id, time.Minute); st.Status != "done" {
		t.Fatalf("status %v", st)
	}
	// The worker removes the original just after it marks the job done.
	apptest.Eventually(t, 10*time.Second, "the original to be removed", func() bool {
		_, err := e.Server.Stores().Raw.Stat(context.Background(), video.OriginalKey(id, ".mp4"))
		return errors.Is(err, storage.ErrNotFound)
	})
	var orig apptest.URLBody
	if code := e.GetInto("/api/video/"+id, &orig); code != 200 {
		t.Fatalf("original URL: got %d, want 200", code)
	}
	if info := mediatest.Probe(t, orig.URL); info.Height != 360 {
		t.Errorf("original URL plays %+v, want the 360p rendition", info)
	}
}

func mustRead(t *testing.T, path string) []byte {
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
