package app_test

import (
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/assetlab/assetlab/server/app/apptest"
	"github.com/assetlab/assetlab/server/storage/s3test"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// BenchmarkResumable1GiB uploads the same 1 GiB file to the real server
// binary on one versitygw, in alternating rounds: through tus (POST to
// create, then PATCHes of BENCH_TUS_CHUNK_MIB, 64 MiB unless set: the chunk
// the web page and the desktop app send) and
// through POST /api/upload. It reports the throughput ratio tus/plain, the
// server's peak RSS in each kind of round (VmHWM, reset before each round)
// and the most the server's temp folder held, sampled every 20 ms.
func BenchmarkResumable1GiB(b *testing.B) {
	const size = 1 << 30
	const rounds = 4
	chunk := int64(64 << 20)
	if v := os.Getenv("BENCH_TUS_CHUNK_MIB"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			b.Fatalf("BENCH_TUS_CHUNK_MIB=%q: want a number of MiB", v)
		}
		chunk = int64(n) << 20
	}
	gw := s3test.Start(b, "raw", "videos")
	dir := b.TempDir()
	tmp := filepath.Join(dir, "server-tmp")
	if err := os.Mkdir(tmp, 0o755); err != nil {
		b.Fatal(err)
	}

	bin := apptest.BuildServer(b)
	src := filepath.Join(dir, "source.mp4")
	apptest.WriteVideoFile(b, src, size, 11)

	srv := apptest.StartProcess(b, bin, append(gw.Env("raw", "videos"), "TMPDIR="+tmp)...)
	idleRSS := procStatusKiB(b, srv.Pid(), "VmRSS")
	client := gw.Client(b)

	// The temp folder's size, sampled while a round runs.
	var mu sync.Mutex
	var tmpPeak int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(20 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
			}
			n := dirBytes(tmp)
			mu.Lock()
			tmpPeak = max(tmpPeak, n)
			mu.Unlock()
		}
	})
	defer func() { close(stop); wg.Wait() }()

	var plain, tus []time.Duration
	var plainRSS, tusRSS int64
	resetPeak := func() {
		if err := os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", srv.Pid()), []byte("5"), 0); err != nil {
			b.Fatalf("reset the server's peak RSS: %v", err)
		}
	}
	remove := func(key string) {
		if _, err := client.DeleteObject(context.Background(), &s3.DeleteObjectInput{Bucket: aws.String("raw"), Key: aws.String(key)}); err != nil {
			b.Fatalf("delete %s: %v", key, err)
		}
	}
	b.ResetTimer()
	for range rounds {
		resetPeak()
		start := time.Now()
		key := uploadFile(b, srv.URL, src)
		plain = append(plain, time.Since(start))
		plainRSS = max(plainRSS, procStatusKiB(b, srv.Pid(), "VmHWM"))
		remove(key)

		resetPeak()
		start = time.Now()
		id := tusUpload(b, srv.URL, src, size, chunk)
		tus = append(tus, time.Since(start))
		tusRSS = max(tusRSS, procStatusKiB(b, srv.Pid(), "VmHWM"))
		remove("originals/" + id + ".mp4")
	}
	b.StopTimer()
	if n := dirBytes(tmp); n != 0 {
		b.Errorf("the server's temp folder holds %d bytes after the uploads, want 0", n)
	}
	open, err := client.ListMultipartUploads(context.Background(), &s3.ListMultipartUploadsInput{Bucket: aws.String("raw")})
	if err != nil {
		b.Fatal(err)
	}
	if len(open.Uploads) != 0 {
		b.Errorf("%d multipart uploads left open, want 0", len(open.Uploads))
	}

	mibps := func(d time.Duration) float64 { return float64(size) / (1 << 20) / d.Seconds() }
	mp, mt := median(plain), median(tus)
	bp, bt := slices.Min(plain), slices.Min(tus)
	mu.Lock()
	peakTmp := tmpPeak
	mu.Unlock()
	b.Logf("POST /api/upload:          %v (median %.0f MiB/s, best %.0f MiB/s)", plain, mibps(mp), mibps(bp))
	b.Logf("tus, %d MiB PATCHes:       %v (median %.0f MiB/s, best %.0f MiB/s)", chunk>>20, tus, mibps(mt), mibps(bt))
	b.Logf("throughput ratio tus/plain over %d alternating rounds: %.2f of the medians, %.2f of the best", rounds, mp.Seconds()/mt.Seconds(), bp.Seconds()/bt.Seconds())
	b.Logf("server RSS: %.1f MiB idle; peak %.1f MiB in plain rounds, %.1f MiB in tus rounds (VmHWM)", float64(idleRSS)/1024, float64(plainRSS)/1024, float64(tusRSS)/1024)
	b.Logf("server temp folder at its fullest: %.1f MiB", float64(peakTmp)/(1<<20))
	b.ReportMetric(mibps(mt), "tus-MiB/s")
	b.ReportMetric(mibps(mp), "plain-MiB/s")
	b.ReportMetric(mp.Seconds()/mt.Seconds(), "ratio-median")
	b.ReportMetric(float64(tusRSS)/1024, "tus-peak-RSS-MiB")
	b.ReportMetric(float64(peakTmp)/(1<<20), "tmp-peak-MiB")
}

// tusUpload sends a file through the tus endpoint: a creation POST, then
// PATCHes of chunk bytes, each streamed from the file. It returns the video
// ID the last PATCH names.
func tusUpload(b *testing.B, base, path string, size, chunk int64) string {
	f, err := os.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	do := func(req *http.Request, want int) *http.Response {
		req.Header.Set("Authorization", "Bearer "+apptest.Token)
		req.Header.Set("Tus-Resumable", "1.0.0")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != want {
			b.Fatalf("%s %s: got %d %s, want %d", req.Method, req.URL, resp.StatusCode, body, want)
		}
		return resp
	}
	req, _ := http.NewRequest(http.MethodPost, base+"/api/uploads/", nil)
	req.Header.Set("Upload-Length", strconv.FormatInt(size, 10))
	req.Header.Set("Upload-Metadata", "filename "+base64.StdEncoding.EncodeToString([]byte(filepath.Base(path))))
	loc := do(req, http.StatusCreated).Header.Get("Location")
	if loc == "" {
		b.Fatal("creation: no Location")
	}
	var id string
	for off := int64(0); off < size; off += chunk {
		n := min(chunk, size-off)
		req, _ := http.NewRequest(http.MethodPatch, loc, io.NewSectionReader(f, off, n))
		req.ContentLength = n
		req.Header.Set("Content-Type", "application/offset+octet-stream")
		req.Header.Set("Upload-Offset", strconv.FormatInt(off, 10))
		resp := do(req, http.StatusNoContent)
		if got := resp.Header.Get("Upload-Offset"); got != strconv.FormatInt(off+n, 10) {
			b.Fatalf("PATCH at %d: Upload-Offset %s, want %d", off, got, off+n)
		}
		id = resp.Header.Get("Upload-Video-Id")
	}
	if id == "" {
		b.Fatal("the last PATCH named no video")
	}
	return id
}

// dirBytes is the size of the files under dir.
func dirBytes(dir string) int64 {
	var n int64
	filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if info, err := d.Info(); err == nil {
				n += info.Size()
			}
		}
		return nil
	})
	return n
}
