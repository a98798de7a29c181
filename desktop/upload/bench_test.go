package upload_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/assetlab/assetlab/server/app/apptest"
)

// BenchmarkUpload1GiBVsCurl uploads one 1 GiB file to the real server binary
// (local backend) with the desktop app's uploader (as the assetlab-upload
// command, so its memory is its own) and with curl -F, alternating, and
// reports the throughput of each and their peak RSS (GNU time's %M).
func BenchmarkUpload1GiBVsCurl(b *testing.B) {
	const size = 1 << 30
	const rounds = 3
	dir := b.TempDir()
	server := apptest.BuildServer(b)
	uploader := filepath.Join(dir, "assetlab-upload")
	if out, err := exec.Command("go", "build", "-o", uploader, "github.com/assetlab/assetlab/desktop/cmd/assetlab-upload").CombinedOutput(); err != nil {
		b.Fatalf("build uploader: %v\n%s", err, out)
	}
	src := filepath.Join(dir, "source.mp4")
	apptest.WriteVideoFile(b, src, size, 9)
	srv := apptest.StartProcess(b, server, "ASSETLAB_DATA_DIR="+filepath.Join(dir, "data"))
	base, token := srv.URL, apptest.Token

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
