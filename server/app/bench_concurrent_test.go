package app_test

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"mime/multipart"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/assetlab/assetlab/server/app/apptest"
	"github.com/assetlab/assetlab/server/config"
	"github.com/assetlab/assetlab/server/storage/s3test"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// BenchmarkUploadConcurrent sends 50 MiB files to POST /api/upload of the real
// server binary on one versitygw: first one at a time, then all at once
// (60 by default; ASSETLAB_BENCH_UPLOADS changes it). Every upload has its own
// content, and every stored object is read back and compared by SHA-256. It
// reports the throughput of both phases and the server's peak RSS (VmHWM) in
// each, against its upload memory budget.
//
// The server runs with ASSETLAB_MAX_UPLOADS=0, so that all uploads are in
// flight at once and only the memory budget holds them back; extra
// environment for the server can be given in ASSETLAB_BENCH_ENV
// ("NAME=value NAME=value").
func BenchmarkUploadConcurrent(b *testing.B) {
	const size = 50 << 20
	const serial = 4
	concurrent := 60
	if v := os.Getenv("ASSETLAB_BENCH_UPLOADS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			b.Fatalf("ASSETLAB_BENCH_UPLOADS: %q is not a positive number", v)
		}
		concurrent = n
	}
	gw := s3test.Start(b, "raw", "videos")
	bin := apptest.BuildServer(b)

	env := append(gw.Env("raw", "videos"), "ASSETLAB_MAX_UPLOADS=0")
	env = append(env, strings.Fields(os.Getenv("ASSETLAB_BENCH_ENV"))...)
	srv := apptest.StartProcess(b, bin, env...)
	// The server's own view of its configuration, for its memory budget.
	cfg, err := config.FromEnv(func(k string) string {
		for i := len(srv.Cmd.Env) - 1; i >= 0; i-- {
			if v, ok := strings.CutPrefix(srv.Cmd.Env[i], k+"="); ok {
				return v
			}
		}
		return ""
	})
	if err != nil {
		b.Fatal(err)
	}
	base := srv.URL
	pid := srv.Pid()
	idle := procStatusKiB(b, pid, "VmRSS")
	client := gw.Client(b)

	// check reads an object back, compares it with what was sent and deletes
	// it, so that the disk does not fill up.
	check := func(u sent) error {
		ctx := context.Background()
		out, err := client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("raw"), Key: aws.String(u.key)})
		if err != nil {
			return fmt.Errorf("read back %s: %w", u.key, err)
		}
		h := sha256.New()
		n, err := io.Copy(h, out.Body)
		out.Body.Close()
		if err != nil {
			return fmt.Errorf("read back %s: %w", u.key, err)
		}
		if got := fmt.Sprintf("%x", h.Sum(nil)); n != size || got != u.sum {
			return fmt.Errorf("upload %d: stored %d bytes with SHA-256 %s, want %d bytes with %s", u.seed, n, got, size, u.sum)
		}
		_, err = client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("raw"), Key: aws.String(u.key)})
		return err
	}

	b.ResetTimer()
	resetPeak(b, pid)
	start := time.Now()
	for i := range serial {
		u, err := postGenerated(base, uint64(i), size)
		if err != nil {
			b.Fatal(err)
		}
		if err := check(u); err != nil {
			b.Fatal(err)
		}
	}
	serialTook := time.Since(start) // includes the read-backs, which are quick next to the uploads
	serialPeak := procStatusKiB(b, pid, "VmHWM")

	resetPeak(b, pid)
	var wg sync.WaitGroup
	results := make([]sent, concurrent)
	errs := make([]error, concurrent)
	var retried sync.Map
	start = time.Now()
	for i := range concurrent {
		wg.Add(1)
		go func() {
			defer wg.Done()
			seed := uint64(1000 + i)
			for {
				results[i], errs[i] = postGenerated(base, seed, size)
				var busy errBusy
				if !errors.As(errs[i], &busy) {
					return
				}
				retried.Store(i, true)
				time.Sleep(busy.after)
			}
		}()
	}
	wg.Wait()
	concTook := time.Since(start)
	concPeak := procStatusKiB(b, pid, "VmHWM")
	b.StopTimer()
	if err := errors.Join(errs...); err != nil {
		b.Fatal(err)
	}
	for _, u := range results {
		if err := check(u); err != nil {
			b.Error(err)
		}
	}
	nRetried := 0
	retried.Range(func(any, any) bool { nRetried++; return true })

	mib := func(kib int64) float64 { return float64(kib) / 1024 }
	rate := func(n int, d time.Duration) float64 { return float64(n) * size / (1 << 20) / d.Seconds() }
	budget := float64(cfg.UploadMemory) / (1 << 20)
	b.Logf("upload memory budget %.0f MiB, %d parts uploaded at once per upload, max uploads %d", budget, cfg.UploadConcurrency, cfg.MaxUploads)
	b.Logf("one at a time: %d × 50 MiB in %v, %.0f MiB/s; peak RSS %.1f MiB", serial, serialTook.Round(time.Millisecond), rate(serial, serialTook), mib(serialPeak))
	b.Logf("%d at once:     %d × 50 MiB in %v, %.0f MiB/s; peak RSS %.1f MiB (%d retried after a 503)", concurrent, concurrent, concTook.Round(time.Millisecond), rate(concurrent, concTook), mib(concPeak), nRetried)
	b.Logf("idle RSS %.1f MiB; all %d stored objects byte-identical (SHA-256)", mib(idle), serial+concurrent)
	b.ReportMetric(rate(serial, serialTook), "serial-MiB/s")
	b.ReportMetric(rate(concurrent, concTook), "concurrent-MiB/s")
	b.ReportMetric(mib(serialPeak), "serial-peak-RSS-MiB")
	b.ReportMetric(mib(concPeak), "concurrent-peak-RSS-MiB")
	b.ReportMetric(mib(idle), "idle-RSS-MiB")
	// The budget bounds the part buffers; the rest is the runtime, the HTTP
	// and SDK clients and each upload's read buffers (about 0.3 MiB).
	const overhead = 64 << 10 // KiB
	if limit := idle + cfg.UploadMemory>>10 + overhead; concPeak > limit {
		b.Errorf("peak RSS with %d uploads at once: got %.1f MiB, want at most %.1f (idle + budget + %d MiB)",
			concurrent, mib(concPeak), mib(limit), overhead>>10)
	}
}

// sent is an upload the server accepted.
type sent struct {
	seed uint64
	key  string
	sum  string // SHA-256 of the file, hex
}

// errBusy is a 503 with a Retry-After.
type errBusy struct{ after time.Duration }

func (e errBusy) Error() string { return fmt.Sprintf("server busy, retry after %v", e.after) }

// postGenerated streams size bytes of a file that starts like an MP4 and
// continues with random bytes from seed to POST /api/upload.
func postGenerated(base string, seed uint64, size int64) (sent, error) {
	pr, pw := io.Pipe()
	mw := multipart.NewWriter(pw)
	h := sha256.New()
	go func() {
		fw, _ := mw.CreateFormFile("file", fmt.Sprintf("clip-%d.mp4", seed))
		w := io.MultiWriter(fw, h)
		w.Write(apptest.MP4Head)
		var key [32]byte
		key[0], key[1] = byte(seed), byte(seed>>8)
		_, err := io.CopyN(w, rand.NewChaCha8(key), size-int64(len(apptest.MP4Head)))
		if err == nil {
			err = mw.Close()
		}
		pw.CloseWithError(err)
	}()
	defer pr.CloseWithError(io.ErrClosedPipe)
	req := apptest.UploadRequest(base, mw.FormDataContentType(), pr)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return sent{}, fmt.Errorf("upload %d: %w", seed, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode == http.StatusServiceUnavailable && resp.Header.Get("Retry-After") != "" {
		secs, _ := strconv.Atoi(resp.Header.Get("Retry-After"))
		return sent{}, errBusy{after: time.Duration(secs) * time.Second}
	}
	if resp.StatusCode != http.StatusCreated {
		return sent{}, fmt.Errorf("upload %d: got %d %s, want 201", seed, resp.StatusCode, body)
	}
	_, after, _ := strings.Cut(string(body), `"key":"`)
	key, _, _ := strings.Cut(after, `"`)
	return sent{seed: seed, key: key, sum: fmt.Sprintf("%x", h.Sum(nil))}, nil
}

// resetPeak resets a process's VmHWM to its current RSS, so that each phase
// reports its own peak.
func resetPeak(b *testing.B, pid int) {
	if err := os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", pid), []byte("5"), 0); err != nil {
		b.Fatalf("reset peak RSS: %v", err)
	}
}
