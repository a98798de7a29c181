package app_test

import (
	"context"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/assetlab/assetlab/server/app/apptest"
	"github.com/assetlab/assetlab/server/storage/s3test"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/s3/manager"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// BenchmarkUpload1GiB uploads the same 1 GiB file to one versitygw twice over:
// through POST /api/upload of the real server binary, and directly with the
// SDK's multipart uploader (5 MiB parts). It reports the throughput ratio and
// the server's peak RSS (VmHWM). Rounds alternate, so both see the same disk.
func BenchmarkUpload1GiB(b *testing.B) {
	const size = 1 << 30
	const rounds = 5
	gw := s3test.Start(b, "raw", "videos", "direct")
	dir := b.TempDir()

	bin := apptest.BuildServer(b)
	src := filepath.Join(dir, "source.mp4")
	apptest.WriteVideoFile(b, src, size, 7)

	srv := apptest.StartProcess(b, bin, gw.Env("raw", "videos")...)
	base := srv.URL
	idleRSS := procStatusKiB(b, srv.Pid(), "VmRSS")

	client := gw.Client(b)
	uploader := manager.NewUploader(client, func(u *manager.Uploader) {
		u.PartSize = 5 << 20
		u.RequestChecksumCalculation = aws.RequestChecksumCalculationWhenRequired
	})

	var direct, viaServer []time.Duration
	var cpuDirect, cpuServer [3]time.Duration // versitygw, server, this process
	cpuNow := func() [3]time.Duration {
		return [3]time.Duration{procCPU(b, gw.Pid()), procCPU(b, srv.Pid()), procCPU(b, os.Getpid())}
	}
	addCPU := func(sum *[3]time.Duration, before [3]time.Duration) {
		after := cpuNow()
		for i := range sum {
			sum[i] += after[i] - before[i]
		}
	}
	b.ResetTimer()
	for i := range rounds {
		f, _ := os.Open(src)
		c0 := cpuNow()
		start := time.Now()
		_, err := uploader.Upload(context.Background(), &s3.PutObjectInput{
			Bucket: aws.String("direct"), Key: aws.String(fmt.Sprintf("round-%d.mp4", i)), Body: f,
		})
		direct = append(direct, time.Since(start))
		addCPU(&cpuDirect, c0)
		f.Close()
		if err != nil {
			b.Fatalf("direct upload: %v", err)
		}

		c0 = cpuNow()
		start = time.Now()
		key := uploadFile(b, base, src)
		viaServer = append(viaServer, time.Since(start))
		addCPU(&cpuServer, c0)

		// Keep the disk from filling up between rounds.
		client.DeleteObject(context.Background(), &s3.DeleteObjectInput{Bucket: aws.String("direct"), Key: aws.String(fmt.Sprintf("round-%d.mp4", i))})
		client.DeleteObject(context.Background(), &s3.DeleteObjectInput{Bucket: aws.String("raw"), Key: aws.String(key)})
	}
	b.StopTimer()
	peak := procStatusKiB(b, srv.Pid(), "VmHWM")

	mibps := func(d time.Duration) float64 { return float64(size) / (1 << 20) / d.Seconds() }
	md, ms := median(direct), median(viaServer)
	bd, bs := slices.Min(direct), slices.Min(viaServer)
	b.Logf("direct SDK multipart upload: %v (median %.0f MiB/s, best %.0f MiB/s)", direct, mibps(md), mibps(bd))
	b.Logf("POST /api/upload:            %v (median %.0f MiB/s, best %.0f MiB/s)", viaServer, mibps(ms), mibps(bs))
	b.Logf("throughput ratio server/direct over %d alternating rounds: %.2f of the medians, %.2f of the best", rounds, md.Seconds()/ms.Seconds(), bd.Seconds()/bs.Seconds())
	perGiB := func(d time.Duration) string { return fmt.Sprintf("%.1fs", d.Seconds()/rounds) }
	b.Logf("CPU per GiB, direct: versitygw %s, uploader %s", perGiB(cpuDirect[0]), perGiB(cpuDirect[2]))
	b.Logf("CPU per GiB, server: versitygw %s, server %s, client %s", perGiB(cpuServer[0]), perGiB(cpuServer[1]), perGiB(cpuServer[2]))
	b.Logf("server RSS: %.1f MiB idle, %.1f MiB peak (VmHWM)", float64(idleRSS)/1024, float64(peak)/1024)
	b.ReportMetric(mibps(ms), "server-MiB/s")
	b.ReportMetric(mibps(md), "direct-MiB/s")
	b.ReportMetric(md.Seconds()/ms.Seconds(), "ratio-median")
	b.ReportMetric(bd.Seconds()/bs.Seconds(), "ratio-best")
	b.ReportMetric(float64(peak)/1024, "peak-RSS-MiB")
}

// uploadFile streams a file to POST /api/upload, as a browser or curl -F does.
func uploadFile(b *testing.B, base, path string) string {
	pr, pw := io.Pipe()
	mw := multipart.NewWriter(pw)
	go func() {
		f, err := os.Open(path)
		if err != nil {
			pw.CloseWithError(err)
			return
		}
		defer f.Close()
		fw, _ := mw.CreateFormFile("file", filepath.Base(path))
		if _, err := io.Copy(fw, f); err != nil {
			pw.CloseWithError(err)
			return
		}
		pw.CloseWithError(mw.Close())
	}()
	req := apptest.UploadRequest(base, mw.FormDataContentType(), pr)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusCreated {
		b.Fatalf("upload: %d %s", resp.StatusCode, body)
	}
	_, after, _ := strings.Cut(string(body), `"key":"`)
	key, _, _ := strings.Cut(after, `"`)
	return key
}

func procStatusKiB(b *testing.B, pid int, field string) int64 {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		b.Fatal(err)
	}
	for _, line := range strings.Split(string(raw), "\n") {
		if v, ok := strings.CutPrefix(line, field+":"); ok {
			n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return n
		}
	}
	b.Fatalf("%s not in /proc/%d/status", field, pid)
	return 0
}

// procCPU is the user+system CPU time a process has used.
func procCPU(b *testing.B, pid int) time.Duration {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		b.Fatal(err)
	}
	// Fields after the command name, which is in parentheses.
	f := strings.Fields(string(raw[strings.LastIndexByte(string(raw), ')')+2:]))
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+st) * time.Second / 100 // USER_HZ is 100 on Linux
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}
