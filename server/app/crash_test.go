package app_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/json"
	"hash"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/assetlab/assetlab/server/app/apptest"
	"github.com/assetlab/assetlab/server/storage/s3test"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// Two server processes share storage. Process A is killed with SIGKILL in the
// middle of an upload: the janitor of process B removes A's partial upload
// (temp file, or open multipart upload) within the bound, while B's own
// upload, in progress all along, is never touched and completes intact.
func TestKilledServerPartialUploadReclaimed(t *testing.T) {
	const (
		interval = time.Second
		lease    = 8 * time.Second
	)
	bin := apptest.BuildServer(t)
	for _, backend := range apptest.Backends {
		t.Run(backend, func(t *testing.T) {
			env := []string{
				"ASSETLAB_LOG_LEVEL=info", "ASSETLAB_JANITOR_INTERVAL=" + interval.String(),
				"ASSETLAB_UPLOAD_LEASE=" + lease.String(),
			}
			dataDir := t.TempDir()
			var gw *s3test.Server
			if backend == "s3" {
				gw = s3test.Start(t, "raw", "videos")
				env = append(env, gw.Env("raw", "videos")...)
			} else {
				env = append(env, "ASSETLAB_DATA_DIR="+dataDir)
			}
			// inFlight lists the unfinished writes of originals: temp files,
			// or open multipart uploads.
			inFlight := func() []string {
				if gw != nil {
					return gw.OpenUploads(t, "raw")
				}
				entries, _ := os.ReadDir(filepath.Join(dataDir, "raw", ".tmp"))
				var names []string
				for _, e := range entries {
					names = append(names, e.Name())
				}
				return names
			}
			waitFor := func(what string, limit time.Duration, cond func() bool) {
				t.Helper()
				if !apptest.Within(limit, cond) {
					t.Fatalf("%s: not within %v (unfinished writes: %v)", what, limit, inFlight())
				}
			}

			a := apptest.StartProcess(t, bin, env...)
			b := apptest.StartProcess(t, bin, env...)
			upA := startSlowUpload(t, a.URL)
			waitFor("A's upload under way", 20*time.Second, func() bool { return len(inFlight()) == 1 })
			leftA := inFlight()[0]
			upB := startSlowUpload(t, b.URL)
			var leftB string
			waitFor("B's upload under way", 20*time.Second, func() bool {
				for _, n := range inFlight() {
					if n != leftA {
						leftB = n
					}
				}
				return leftB != ""
			})

			// Both processes' janitors run several times while both uploads
			// are in progress: neither touches the other's.
			time.Sleep(lease + 2*interval)
			if got := inFlight(); !slices.Contains(got, leftA) || !slices.Contains(got, leftB) {
				t.Fatalf("unfinished writes with both processes alive: got %v, want %s and %s", got, leftA, leftB)
			}

			a.Kill()
			killed := time.Now()
			// The bound is one janitor interval on the local backend, a lease
			// and an interval on S3; 10 s more allow for a loaded machine.
			bound := interval
			if gw != nil {
				bound += lease
			}
			waitFor("A's partial upload reclaimed", bound+10*time.Second, func() bool { return !slices.Contains(inFlight(), leftA) })
			t.Logf("A's partial upload was reclaimed %v after A was killed (interval %v, lease %v)",
				time.Since(killed).Round(100*time.Millisecond), interval, lease)
			if got := inFlight(); !slices.Contains(got, leftB) {
				t.Fatalf("B's upload in progress was removed with A's: unfinished writes %v", got)
			}

			code, key := upB.finish()
			if code != http.StatusCreated {
				t.Fatalf("B's upload: got %d, want 201", code)
			}
			var stored []byte
			if gw != nil {
				out, err := gw.Client(t).GetObject(context.Background(), &s3.GetObjectInput{Bucket: aws.String("raw"), Key: aws.String(key)})
				if err != nil {
					t.Fatal(err)
				}
				stored, _ = io.ReadAll(out.Body)
				out.Body.Close()
			} else {
				var err error
				if stored, err = os.ReadFile(filepath.Join(dataDir, "raw", filepath.FromSlash(key))); err != nil {
					t.Fatal(err)
				}
			}
			if got, want := sha256.Sum256(stored), upB.sum(); got != want || int64(len(stored)) != upB.n {
				t.Errorf("B's stored original: got %d bytes sha256 %x, want %d bytes %x", len(stored), got, upB.n, want)
			}
			upA.stop()

			// Nothing is left of A: no partial upload, no record of it.
			waitFor("nothing left unfinished", 30*time.Second, func() bool { return len(inFlight()) == 0 })
			if gw != nil {
				for prefix, want := range map[string]int{".tmp/inflight/": 0, ".tmp/owners/": 1} {
					waitFor("records under "+prefix+" cleared", 30*time.Second, func() bool {
						out, err := gw.Client(t).ListObjectsV2(context.Background(), &s3.ListObjectsV2Input{Bucket: aws.String("raw"), Prefix: aws.String(prefix)})
						return err == nil && len(out.Contents) == want
					})
				}
			} else {
				owners, _ := os.ReadDir(filepath.Join(dataDir, "raw", ".tmp-owners"))
				if len(owners) != 1 {
					t.Errorf("owner files left in raw/.tmp-owners: got %d, want 1 (B's)", len(owners))
				}
			}
		})
	}
}

// slowUpload sends a video in a trickle until told to finish.
type slowUpload struct {
	h      hash.Hash
	n      int64
	pw     *io.PipeWriter
	more   chan bool // true: send the end; false: give up
	result chan uploadResult
}

type uploadResult struct {
	code int
	key  string
}

// startSlowUpload posts a video to the server at url: 6 MiB at once (more
// than one part, so that S3 has a multipart upload open), then 64 KiB every
// 100 ms.
func startSlowUpload(t *testing.T, url string) *slowUpload {
	t.Helper()
	pr, pw := io.Pipe()
	u := &slowUpload{h: sha256.New(), pw: pw, more: make(chan bool, 1), result: make(chan uploadResult, 1)}
	mw := newStreamingForm(pw)
	send := func(w io.Writer, n int) error {
		b := make([]byte, n)
		rand.Read(b)
		if u.n == 0 {
			copy(b, apptest.MP4Head)
		}
		u.h.Write(b)
		u.n += int64(n)
		_, err := w.Write(b)
		return err
	}
	go func() {
		f := mw.file("slow.mp4")
		err := send(f, 6<<20)
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for err == nil {
			select {
			case <-tick.C:
				err = send(f, 64<<10)
				continue
			case end := <-u.more:
				if !end {
					pw.CloseWithError(io.ErrClosedPipe)
					return
				}
				if err = send(f, 1<<20+123); err == nil {
					err = mw.close()
				}
			}
			break
		}
		pw.CloseWithError(err)
	}()
	go func() {
		req := apptest.UploadRequest(url, mw.contentType(), pr)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			pr.CloseWithError(err)
			u.result <- uploadResult{}
			return
		}
		defer resp.Body.Close()
		var body struct{ Key string }
		raw, _ := io.ReadAll(resp.Body)
		json.NewDecoder(bytes.NewReader(raw)).Decode(&body)
		u.result <- uploadResult{code: resp.StatusCode, key: body.Key}
	}()
	t.Cleanup(u.stop)
	return u
}

// finish sends the rest of the file and returns the answer: status and key.
func (u *slowUpload) finish() (int, string) {
	u.more <- true
	select {
	case r := <-u.result:
		return r.code, r.key
	case <-time.After(2 * time.Minute):
		return 0, "" // no answer
	}
}

// sum is the SHA-256 of what was sent so far.
func (u *slowUpload) sum() [32]byte {
	var s [32]byte
	copy(s[:], u.h.Sum(nil))
	return s
}

// stop gives up on the upload.
func (u *slowUpload) stop() {
	select {
	case u.more <- false:
	default:
	}
}
