package upload_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// BenchmarkUpload1GiBVsCurl uploads one 1 GiB file to the real server binary
// (local backend) with the desktop app's uploader (as the assetlab-upload
// command, so its memory is its own) and with curl -F, alternating, and
// reports the throughput of each and their peak RSS (GNU time's %M).
func BenchmarkUpload1GiBVsCurl(b *testing.B) {
	const size = 1 << 30
	const rounds = 3
	dir := b.TempDir()
	root, _ := filepath.Abs("../..")
	server := filepath.Join(root, "bin", "assetlab-server")
	if _, err := os.Stat(server); err != nil {
		b.Fatalf("%s: build it first (make build)", server)
	}
	uploader := filepath.Join(dir, "assetlab-upload")
	if out, err := exec.Command("go", "build", "-o", uploader, "github.com/assetlab/assetlab/desktop/cmd/assetlab-upload").CombinedOutput(); err != nil {
		b.Fatalf("build uploader: %v\n%s", err, out)
	}
	src := filepath.Join(dir, "source.mp4")
	f, _ := os.Create(src)
	w := bufio.NewWriterSize(f, 1<<20)
	w.Write([]byte("\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2"))
	io.CopyN(w, rand.NewChaCha8([32]byte{9}), size-24)
	w.Flush()
	f.Close()

	l, _ := net.Listen("tcp", "127.0.0.1:0")
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	const token = "bench-token-0123456789"
	srv := exec.Command(server)
	srv.Env = append(os.Environ(), "PORT="+strconv.Itoa(port), "HOST=127.0.0.1", "ADMIN_TOKEN="+token,
		"ASSETLAB_DATA_DIR="+filepath.Join(dir, "data"), "ASSETLAB_WORKERS=0", "ASSETLAB_LOG_LEVEL=warn")
	if err := srv.Start(); err != nil {
		b.Fatal(err)
	}
	defer func() { srv.Process.Kill(); srv.Wait() }()
	for i := 0; ; i++ {
		if resp, err := http.Get(base + "/healthz"); err == nil {
			resp.Body.Close()
			break
		}
		if i > 200 {
			b.Fatal("server did not start")
		}
		time.Sleep(50 * time.Millisecond)
	}

	// run times a command under GNU time and returns its wall time, peak RSS
	// in KiB, and stdout.
	run := func(env []string, name string, args ...string) (time.Duration, int64, string) {
		cmd := exec.Command("/usr/bin/time", append([]string{"-f", "maxrss=%M", name}, args...)...)
		cmd.Env = append(os.Environ(), env...)
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		start := time.Now()
		if err := cmd.Run(); err != nil {
			b.Fatalf("%s: %v\n%s", name, err, stderr.String())
		}
		wall := time.Since(start)
		_, rss, _ := strings.Cut(stderr.String(), "maxrss=")
		kib, _ := strconv.ParseInt(strings.TrimSpace(rss), 10, 64)
		return wall, kib, stdout.String()
	}
	remove := func(out string) {
		id := strings.TrimSpace(out)
		if strings.HasPrefix(id, "{") {
			var r struct{ ID string }
			json.Unmarshal([]byte(id), &r)
			id = r.ID
		}
		req, _ := http.NewRequest("DELETE", base+"/api/videos/"+id, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
		}
	}

	var goTimes, curlTimes []time.Duration
	var goRSS, curlRSS int64
	b.ResetTimer()
	for range rounds {
		d, rss, out := run([]string{"ASSETLAB_URL=" + base, "ADMIN_TOKEN=" + token, "ASSETLAB_QUIET=1"}, uploader, src)
		goTimes, goRSS = append(goTimes, d), max(goRSS, rss)
		remove(out)
		d, rss, out = run(nil, "curl", "-sS", "--fail-with-body", "-H", "Authorization: Bearer "+token, "-F", "file=@"+src, base+"/api/upload")
		curlTimes, curlRSS = append(curlTimes, d), max(curlRSS, rss)
		remove(out)
	}
	b.StopTimer()
	mibps := func(d time.Duration) float64 { return float64(size) / (1 << 20) / d.Seconds() }
	med := func(ds []time.Duration) time.Duration { s := slices.Clone(ds); slices.Sort(s); return s[len(s)/2] }
	fmt.Printf("    desktop uploader: %v, median %.0f MiB/s, peak RSS %.1f MiB\n", goTimes, mibps(med(goTimes)), float64(goRSS)/1024)
	fmt.Printf("    curl -F:          %v, median %.0f MiB/s, peak RSS %.1f MiB\n", curlTimes, mibps(med(curlTimes)), float64(curlRSS)/1024)
	fmt.Printf("    throughput ratio uploader/curl (medians of %d alternating rounds): %.2f\n", rounds, med(curlTimes).Seconds()/med(goTimes).Seconds())
	b.ReportMetric(mibps(med(goTimes)), "uploader-MiB/s")
	b.ReportMetric(mibps(med(curlTimes)), "curl-MiB/s")
	b.ReportMetric(float64(goRSS)/1024, "uploader-peak-RSS-MiB")
}
