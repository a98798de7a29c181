package worker_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/assetlab/assetlab/server/app/apptest"
	"github.com/assetlab/assetlab/server/jobs"
	"github.com/assetlab/assetlab/worker/mediatest"
	"github.com/assetlab/assetlab/worker/transcode"
)

// trap is an HTTP server on loopback that counts the connections made to it
// and serves a real clip, so that FFmpeg, if it ever followed a reference to
// it, would get something it can transcode.
type trap struct {
	URL   string
	conns atomic.Int64
}

type countingListener struct {
	net.Listener
	n *atomic.Int64
}

func (l countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err == nil {
		l.n.Add(1)
	}
	return c, err
}

func startTrap(t *testing.T, clip string) *trap {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	tr := &trap{URL: "http://" + ln.Addr().String()}
	srv := &http.Server{
		Handler:           http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { http.ServeFile(w, r, clip) }),
		ReadHeaderTimeout: 10 * time.Second,
	}
	go srv.Serve(countingListener{ln, &tr.conns})
	t.Cleanup(func() { srv.Close() })
	return tr
}

// leak finds what a public message must not show: a filesystem path, a URL
// (a presigned one carries a signature), an FFmpeg command line or its words.
var leak = regexp.MustCompile(`(?i)(^|[\s'"=:(])/[\w.@-]+/|[a-z]+://|x-amz|signature|originals/|ffmpeg|ffprobe|-filter_complex|-i |-f |libx264|\.(mp4|mov|mkv|webm)\b|exit status|invalid data found`)

// checkPlain fails if a video's public status, or the error in its details,
// says more than plain words.
func checkPlain(t *testing.T, e *apptest.Env, id, name string) {
	t.Helper()
	code, st := e.Get("/api/video/" + id + "/status")
	if code != 200 {
		t.Errorf("%s: status %d %v", name, code, st)
	}
	if m := leak.FindString(fmt.Sprint(st)); m != "" || strings.Contains(fmt.Sprint(st), e.Config.DataDir) {
		t.Errorf("%s: status body %v shows internals (%q)", name, st, m)
	}
	if d := e.Details(id); leak.FindString(d.Error) != "" {
		t.Errorf("%s: details error %q shows internals (%q)", name, d.Error, leak.FindString(d.Error))
	}
}

// uploadBytes uploads data and waits for its job to end.
// The server must accept it for the test to mean anything.
func uploadBytes(t *testing.T, e *apptest.Env, name string, data []byte) (string, apptest.StatusBody) {
	t.Helper()
	id := e.UploadID(data)
	return id, e.WaitFinal(id, 2*time.Minute)
}

// lastAttempt reads the newest attempt document of a job.
func lastAttempt(t *testing.T, e *apptest.Env, id string) *jobs.Attempt {
	t.Helper()
	a, err := jobs.LatestAttempt(context.Background(), e.Server.Stores().Videos, id)
	if err != nil || a == nil {
		t.Fatalf("latest attempt of %s: %v %v", id, a, err)
	}
	return a
}

// A file that is, or hides, a playlist or manifest (DASH, HLS, a concat list)
// is opened only as the container the server accepted it as: it ends in
// error after one attempt, and FFmpeg follows none of its references, to a
// URL, to a file on the worker's disk, or to another upload.
func TestReferencesInsideUploadsAreNotFollowed(t *testing.T) {
	clip := mediatest.Make(t, mediatest.Clip{Width: 640, Height: 360, Seconds: 2, Audio: true, Extra: []string{"-movflags", "+faststart"}})
	for _, backend := range apptest.Backends {
		t.Run(backend, func(t *testing.T) {
			e := startInProcess(t, backend, "ASSETLAB_RETRY_BACKOFF=10ms", "ASSETLAB_POLL_INTERVAL=50ms", "ASSETLAB_POLL_MAX=200ms")
			tr := startTrap(t, clip)
			// Another upload, which a relative reference would reach.
			neighbour := uploadClip(t, e, clip)
			if st := e.WaitFinal(neighbour, time.Minute); st.Status != "done" {
				t.Fatalf("neighbour: %v, want done", st)
			}
			shells := mediatest.Shells(tr.URL + "/clip.mp4")
			for _, sh := range mediatest.Shells("file://" + clip) {
				shells = append(shells, mediatest.Shell{Name: sh.Name + " to a file outside the data folder", Data: sh.Data})
			}
			shells = append(shells, mediatest.Shell{Name: "dash to another upload", Data: []byte(mediatest.DashInMOV(neighbour + ".mp4"))})
			for _, sh := range shells {
				id, st := uploadBytes(t, e, sh.Name, sh.Data)
				if st.Status != "error" || st.Error != transcode.ReasonUnreadable {
					t.Errorf("%s: status %v, want error saying %q", sh.Name, st, transcode.ReasonUnreadable)
				}
				if a := attempts(t, e, id); len(a) != 1 {
					t.Errorf("%s: attempts %v, want one", sh.Name, a)
				}
				checkPlain(t, e, id, sh.Name)
			}
			if n := tr.conns.Load(); n != 0 {
				t.Errorf("the listener on loopback accepted %d connections, want none", n)
			}
		})
	}
}

// fakeFFmpeg writes a program that passes the worker's start-up check (it
// hands -version, -encoders and -filters to the real FFmpeg) and fails every
// transcode the way body says: with its command line (paths, the presigned
// URL) in its message, say, or by crashing.
func fakeFFmpeg(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "ffmpeg")
	script := "#!/bin/sh\ncase \"$1$2\" in -hide_banner-version|-hide_banner-encoders|-hide_banner-filters|-hide_banner-muxers) exec " + strconv.Quote(ffmpegProgram()) + " \"$@\";; esac\n" + body + "\n"
	if err := os.WriteFile(p, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

// What a viewer sees of a failed video is a plain reason: no path, no URL,
// no command line. Bad input ends the job after one attempt, classed input.
func TestPublicErrorsArePlain(t *testing.T) {
	good := mediatest.Make(t, mediatest.Clip{Width: 320, Height: 240, Seconds: 6, Audio: true, Extra: []string{"-movflags", "+faststart"}})
	data := mustRead(t, good)
	garbage := make([]byte, 100000)
	for i := range garbage {
		garbage[i] = byte(i * 7919 >> 3)
	}
	cases := []struct {
		name, reason string
		data         []byte
	}{
		{"corrupt", transcode.ReasonUnreadable, append(append([]byte{}, apptest.MP4Head...), garbage...)},
		{"truncated", "the file is truncated or damaged", data[:len(data)/2]},
		{"audio only", "the file has no video stream (audio only)", mustRead(t, mediatest.Make(t, mediatest.Clip{AudioOnly: true}))},
		{"dash shell", transcode.ReasonUnreadable, []byte(mediatest.DashInMOV("http://127.0.0.1:9/clip.mp4"))},
		{"declared size mismatches frames", transcode.ReasonUnreadable, mustRead(t, mediatest.DeclaredSizeMismatch(t))},
	}
	for _, backend := range apptest.Backends {
		t.Run(backend, func(t *testing.T) {
			e := startInProcess(t, backend, "ASSETLAB_RETRY_BACKOFF=10ms", "ASSETLAB_POLL_INTERVAL=50ms", "ASSETLAB_POLL_MAX=200ms")
			for _, c := range cases {
				id, st := uploadBytes(t, e, c.name, c.data)
				if st.Status != "error" || !strings.HasPrefix(st.Error, c.reason) {
					t.Errorf("%s: status %v, want error saying %q", c.name, st, c.reason)
				}
				if a := attempts(t, e, id); len(a) != 1 {
					t.Errorf("%s: attempts %v, want one", c.name, a)
				}
				if a := lastAttempt(t, e, id); a.ErrorClass != string(transcode.ClassInput) {
					t.Errorf("%s: attempt class %q, want input", c.name, a.ErrorClass)
				}
				if r := result(t, e, id); r.ErrorClass != string(transcode.ClassInput) {
					t.Errorf("%s: result class %q, want input", c.name, r.ErrorClass)
				}
				checkPlain(t, e, id, c.name)
			}

			// FFmpeg failing with its command line in its message.
			failing := fakeFFmpeg(t, `echo "ffmpeg $*: Conversion failed!" >&2; exit 1`)
			e2 := startInProcess(t, backend, "ASSETLAB_FFMPEG="+failing, "ASSETLAB_MAX_ATTEMPTS=2",
				"ASSETLAB_RETRY_BACKOFF=10ms", "ASSETLAB_POLL_INTERVAL=50ms", "ASSETLAB_POLL_MAX=200ms")
			id, st := uploadBytes(t, e2, "ffmpeg failing", data)
			want := "transcoding failed 2 times because of a problem on the server, not with the file; last: " + transcode.ReasonFailed
			if st.Status != "error" || st.Error != want {
				t.Errorf("ffmpeg failing: status %v, want error saying %q", st, want)
			}
			checkPlain(t, e2, id, "ffmpeg failing")
		})
	}
}

// Failures that are not the file's are retried up to the cap, and the reason
// says they are the server's: FFmpeg crashing, storage that cannot be reached.
func TestServerSideFailuresAreRetried(t *testing.T) {
	clip := mediatest.Make(t, mediatest.Clip{Width: 320, Height: 240, Seconds: 1})
	closed, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	unreachable := "http://" + closed.Addr().String()
	closed.Close()
	cases := []struct {
		name, backend string
		env           []string
		class         transcode.Class
		reason        string
	}{
		{"ffmpeg crashes", "local", []string{"ASSETLAB_FFMPEG=" + fakeFFmpeg(t, "kill -SEGV $$")}, transcode.ClassEnvironment, transcode.ReasonCrashed},
		// FFmpeg gone after the worker's start-up check (a missing one at
		// start keeps the worker off: TestInProcessWorkerWithoutFFmpeg).
		{"ffmpeg gone", "local", []string{"ASSETLAB_FFMPEG=" + fakeFFmpeg(t, `exec /nonexistent/ffmpeg "$@"`)}, transcode.ClassEnvironment, transcode.ReasonMissing},
		{"storage unreachable", "s3", []string{"S3_PUBLIC_ENDPOINT=" + unreachable}, transcode.ClassTransient, transcode.ReasonStorage},
	}
	const backoff = 300 * time.Millisecond
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := startInProcess(t, c.backend, append(c.env, "ASSETLAB_RETRY_BACKOFF="+backoff.String(),
				"ASSETLAB_POLL_INTERVAL=50ms", "ASSETLAB_POLL_MAX=100ms")...)
			id, st := uploadBytes(t, e, c.name, mustRead(t, clip))
			want := "transcoding failed 3 times because of a problem on the server, not with the file; last: " + c.reason
			if st.Status != "error" || st.Error != want {
				t.Errorf("status %v, want error saying %q", st, want)
			}
			if a := attempts(t, e, id); len(a) != 3 {
				t.Errorf("attempts %v, want 3", a)
			}
			if r := result(t, e, id); r.ErrorClass != string(c.class) {
				t.Errorf("result class %q, want %s", r.ErrorClass, c.class)
			}
			// Each retry waits for its backoff (doubling) after the failure.
			var prev *jobs.Attempt
			for _, a := range attempts(t, e, id) {
				n := a.N
				if a.ErrorClass != string(c.class) || a.Error != c.reason {
					t.Errorf("attempt %d: %s %q, want %s %q", n, a.ErrorClass, a.Error, c.class, c.reason)
				}
				if prev != nil {
					wait := backoff << (n - 2)
					if gap := a.StartedAt.Sub(prev.HeartbeatAt); gap < wait {
						t.Errorf("attempt %d started %v after attempt %d failed, want at least %v", n, gap, n-1, wait)
					}
				}
				prev = &a
			}
			checkPlain(t, e, id, c.name)
		})
	}
}

// A transcode that runs out of temp space ends in error saying so, as the
// server's fault, and leaves no temp folder behind.
func TestTempDiskFull(t *testing.T) {
	tmp := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", tmp).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a tmpfs here (needs root): %v %s", err, out)
	}
	t.Cleanup(func() {
		if err := syscall.Unmount(tmp, 0); err != nil {
			t.Errorf("unmount %s: %v", tmp, err)
		}
	})
	clip := mediatest.Make(t, mediatest.Clip{Width: 1280, Height: 720, Seconds: 4, Audio: true})
	for _, backend := range apptest.Backends {
		t.Run(backend, func(t *testing.T) {
			e := startInProcess(t, backend, "ASSETLAB_TMP_DIR="+tmp, "ASSETLAB_RETRY_BACKOFF=10ms",
				"ASSETLAB_POLL_INTERVAL=50ms", "ASSETLAB_POLL_MAX=100ms")
			id, st := uploadBytes(t, e, "temp disk full", mustRead(t, clip))
			want := "transcoding failed 3 times because of a problem on the server, not with the file; last: " + transcode.ReasonNoSpace
			if st.Status != "error" || st.Error != want {
				t.Errorf("status %v, want error saying %q", st, want)
			}
			if r := result(t, e, id); r.ErrorClass != string(transcode.ClassEnvironment) {
				t.Errorf("result class %q, want environment", r.ErrorClass)
			}
			checkPlain(t, e, id, "temp disk full")
			if entries, _ := os.ReadDir(tmp); len(entries) != 0 {
				t.Errorf("temp folder not emptied: %v", entries)
			}
		})
	}
}
