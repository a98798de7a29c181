//go:build unix

package worker_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/assetlab/assetlab/server/config"
	"github.com/assetlab/assetlab/server/jobs"
	"github.com/assetlab/assetlab/server/storage"
	"github.com/assetlab/assetlab/server/storage/s3test"
	"github.com/assetlab/assetlab/server/stores"
	"github.com/assetlab/assetlab/server/video"
	"github.com/assetlab/assetlab/worker"
	"github.com/assetlab/assetlab/worker/mediatest"
	"github.com/assetlab/assetlab/worker/transcode"
)

// BenchmarkTranscodeLadder makes the full ladder of one generated 1080p clip
// four ways, in one run: this worker end to end (presigned URL input from
// versitygw, upload, status), the same single FFmpeg pass to HLS on a local
// file, that pass with the same encoder settings writing plain MP4 files
// instead (what segmenting costs), and the reference three-pass recipe (three
// runs of -preset ultrafast -threads 1 -crf 22). It reports wall time, the CPU
// time of the programs each way ran (FFmpeg, FFprobe: on a shared machine it
// varies less than wall time), output bytes and each rendition's SSIM against
// the source.
func BenchmarkTranscodeLadder(b *testing.B) {
	seconds := 12.0
	if s := os.Getenv("BENCH_SECONDS"); s != "" {
		seconds, _ = strconv.ParseFloat(s, 64)
	}
	clip := mediatest.Make(b, mediatest.Clip{Width: 1920, Height: 1080, FPS: 30, Seconds: seconds, Audio: true,
		VideoArgs: []string{"-c:v", "libx264", "-preset", "veryfast", "-crf", "18", "-pix_fmt", "yuv420p"},
		Extra:     []string{"-movflags", "+faststart"}})
	ctx := context.Background()
	in := transcode.Input{Location: clip, Format: transcode.FormatMOV}
	src, err := transcode.Probe(ctx, "ffprobe", in)
	if err != nil {
		b.Fatal(err)
	}
	outs := transcode.Plan(src)
	type method struct {
		name      string
		wall, cpu time.Duration
		files     map[video.Quality]string
	}
	var methods []method

	// 1. This worker, end to end against S3.
	gw := s3test.Start(b, "raw", "videos")
	vars := map[string]string{"S3_RAW_BUCKET": "raw", "S3_VIDEO_BUCKET": "videos"}
	for _, kv := range gw.Env("raw", "videos") {
		k, v, _ := cut(kv)
		vars[k] = v
	}
	cfg, err := config.FromEnv(func(k string) string { return vars[k] })
	if err != nil {
		b.Fatal(err)
	}
	set, err := stores.Open(ctx, cfg, cfg.Port, nil)
	if err != nil {
		b.Fatal(err)
	}
	id := enqueue(b, set, clip)
	w := worker.New(cfg, set.Raw, set.Videos, nil)
	b.ResetTimer()
	start, cpu := time.Now(), childCPU()
	if did, err := w.RunOnce(ctx); !did || err != nil {
		b.Fatalf("worker: did %v, %v", did, err)
	}
	workerWall, workerCPU := time.Since(start), childCPU()-cpu
	b.StopTimer()
	st, err := jobs.Load(ctx, set.Videos, id)
	if err != nil || st.Result == nil || st.Result.Status != video.StatusDone {
		b.Fatalf("worker result: %+v %v", st, err)
	}
	res := st.Result
	dir := b.TempDir()
	workerFiles := map[video.Quality]string{}
	for _, r := range res.Renditions {
		p := filepath.Join(dir, "worker-"+string(r.Quality)+".mp4")
		download(b, set.Videos, video.RenditionKey(id, res.Attempt, r.Quality), p)
		workerFiles[r.Quality] = p
	}
	methods = append(methods, method{"this worker (S3, end to end)", workerWall, workerCPU, workerFiles})

	// 2. The same FFmpeg pass on a local file.
	local := filepath.Join(dir, "local")
	os.Mkdir(local, 0o755)
	start, cpu = time.Now(), childCPU()
	lres, err := transcode.Run(ctx, in, src, transcode.Layout(src, local), transcode.Options{FFmpeg: cfg.FFmpeg, FFprobe: cfg.FFprobe, Preset: cfg.X264Preset}, nil)
	if err != nil {
		b.Fatal(err)
	}
	localFiles := map[video.Quality]string{}
	for _, o := range lres.Outputs {
		localFiles[o.Rung.Quality] = o.Path
	}
	methods = append(methods, method{"one ffmpeg pass to HLS, local file", time.Since(start), childCPU() - cpu, localFiles})

	// 3. The same pass writing plain MP4 files (+faststart), no segments:
	// what segmenting costs.
	plain := map[video.Quality]string{}
	start, cpu = time.Now(), childCPU()
	run(b, "ffmpeg", plainMP4Args(clip, outs, dir, cfg.X264Preset, plain)...)
	methods = append(methods, method{"one ffmpeg pass to plain MP4, local file", time.Since(start), childCPU() - cpu, plain})

	// 4. The reference three-pass recipe.
	threePass := map[video.Quality]string{}
	start, cpu = time.Now(), childCPU()
	for _, o := range outs {
		p := filepath.Join(dir, "three-pass-"+string(o.Rung.Quality)+".mp4")
		run(b, "ffmpeg", "-hide_banner", "-loglevel", "error", "-y", "-i", clip, "-vf", fmt.Sprintf("scale=-2:%d", o.Height),
			"-c:v", "libx264", "-preset", "ultrafast", "-threads", "1", "-crf", "22", "-c:a", "aac", p)
		threePass[o.Rung.Quality] = p
	}
	methods = append(methods, method{"three-pass recipe (ultrafast, 1 thread, crf 22)", time.Since(start), childCPU() - cpu, threePass})

	logf("source: %dx%d, %.0f s, %s", src.Width, src.Height, src.Duration, fileSize(clip))
	bytesOf := map[string]int64{}
	ssimOf := map[string]map[video.Quality]float64{}
	for _, m := range methods {
		var total int64
		line := ""
		ssimOf[m.name] = map[video.Quality]float64{}
		for _, o := range outs {
			f := m.files[o.Rung.Quality]
			fi, err := os.Stat(f)
			if err != nil {
				b.Fatalf("%s: no %s", m.name, o.Rung.Quality)
			}
			total += fi.Size()
			s := ssim(b, f, clip, o.Width, o.Height)
			ssimOf[m.name][o.Rung.Quality] = s
			line += fmt.Sprintf(" %s %.1f MB SSIM %.4f;", o.Rung.Quality, float64(fi.Size())/1e6, s)
		}
		bytesOf[m.name] = total
		logf("%-42s %6.1f s, CPU %6.1f s, %6.1f MB:%s", m.name, m.wall.Seconds(), m.cpu.Seconds(), float64(total)/1e6, line)
	}
	w0, l0, p0, t0 := methods[0], methods[1], methods[2], methods[3]
	logf("segmenting overhead, one pass to HLS / one pass to plain MP4: wall time %.2f, CPU time %.2f, bytes %.2f",
		l0.wall.Seconds()/p0.wall.Seconds(), l0.cpu.Seconds()/p0.cpu.Seconds(), float64(bytesOf[l0.name])/float64(bytesOf[p0.name]))
	logf("wall time, this worker / one pass to plain MP4: %.2f", w0.wall.Seconds()/p0.wall.Seconds())
	logf("output bytes, this worker / three-pass recipe: %.2f (target <= 0.5)", float64(bytesOf[w0.name])/float64(bytesOf[t0.name]))
	for _, o := range outs {
		logf("SSIM %s: this worker %.4f, three-pass recipe %.4f, difference %+.4f (target within 0.02)", o.Rung.Quality,
			ssimOf[w0.name][o.Rung.Quality], ssimOf[t0.name][o.Rung.Quality], ssimOf[w0.name][o.Rung.Quality]-ssimOf[t0.name][o.Rung.Quality])
	}
	logf("worker overhead over plain ffmpeg on a local file: %+.1f%% (target <= 10%%)", 100*(w0.wall.Seconds()/l0.wall.Seconds()-1))
	b.ReportMetric(l0.wall.Seconds()/p0.wall.Seconds(), "hls-vs-plain-wall")
	b.ReportMetric(l0.cpu.Seconds()/p0.cpu.Seconds(), "hls-vs-plain-cpu")
	b.ReportMetric(float64(bytesOf[w0.name])/float64(bytesOf[t0.name]), "bytes-vs-three-pass")
	b.ReportMetric(100*(w0.wall.Seconds()/l0.wall.Seconds()-1), "overhead-%")
}

// childCPU is the CPU time, user and system, of the child processes that
// have ended so far (FFmpeg and FFprobe, once waited for).
func childCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_CHILDREN, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// logf prints a result line; b.Logf would cut the report after ten lines.
func logf(format string, args ...any) { fmt.Printf("    "+format+"\n", args...) }

func cut(kv string) (string, string, bool) {
	for i := range kv {
		if kv[i] == '=' {
			return kv[:i], kv[i+1:], true
		}
	}
	return kv, "", false
}

// enqueue stores a clip as an upload would: original, metadata, job.
func enqueue(b *testing.B, st *stores.Set, clip string) string {
	ctx := context.Background()
	id := video.NewID()
	f, err := os.Open(clip)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	meta := video.Meta{ID: id, ContentType: "video/mp4", OriginalKey: video.OriginalKey(id, ".mp4"), CreatedAt: time.Now()}
	info, err := st.Raw.Put(ctx, meta.OriginalKey, f, "video/mp4")
	if err != nil {
		b.Fatal(err)
	}
	meta.Size = info.Size
	mb, _ := json.Marshal(meta)
	if err := st.Videos.Create(ctx, video.MetaKey(id), mb, "application/json"); err != nil {
		b.Fatal(err)
	}
	if err := jobs.Enqueue(ctx, st.Videos, id); err != nil {
		b.Fatal(err)
	}
	return id
}

func download(b *testing.B, s storage.Store, key, path string) {
	rc, _, err := s.Get(context.Background(), key)
	if err != nil {
		b.Fatal(err)
	}
	defer rc.Close()
	f, _ := os.Create(path)
	defer f.Close()
	if _, err := f.ReadFrom(rc); err != nil {
		b.Fatal(err)
	}
}

func run(b *testing.B, name string, args ...string) {
	if out, err := exec.Command(name, args...).CombinedOutput(); err != nil {
		b.Fatalf("%s: %v\n%s", name, err, out)
	}
}

var ssimAll = regexp.MustCompile(`All:([0-9.]+)`)

// ssim compares a rendition with the source scaled to the rendition's size.
func ssim(b *testing.B, rendition, source string, w, h int) float64 {
	out, err := exec.Command("ffmpeg", "-hide_banner", "-nostats", "-i", rendition, "-i", source, "-lavfi",
		fmt.Sprintf("[1:v]scale=%d:%d:flags=bicubic,format=yuv420p[ref];[0:v]format=yuv420p[main];[main][ref]ssim", w, h),
		"-f", "null", "-").CombinedOutput()
	if err != nil {
		b.Fatalf("ssim: %v\n%s", err, out)
	}
	m := ssimAll.FindSubmatch(out)
	if m == nil {
		b.Fatalf("ssim: no result in\n%s", out)
	}
	v, _ := strconv.ParseFloat(string(m[1]), 64)
	return v
}

func fileSize(p string) string {
	fi, err := os.Stat(p)
	if err != nil {
		return "?"
	}
	return fmt.Sprintf("%.1f MB", float64(fi.Size())/1e6)
}

// plainMP4Args is the ladder's pass with the same encoder settings written as
// one plain MP4 per rendition, index at the front, instead of HLS; it records
// each output's path in files.
func plainMP4Args(clip string, outs []transcode.Output, dir, preset string, files map[video.Quality]string) []string {
	args := []string{"-hide_banner", "-nostdin", "-y", "-loglevel", "error", "-i", clip}
	fc := fmt.Sprintf("[0:v:0]split=%d", len(outs))
	for i := range outs {
		fc += fmt.Sprintf("[s%d]", i)
	}
	for i, o := range outs {
		fc += fmt.Sprintf(";[s%d]scale=%d:%d:flags=bicubic,setsar=1,format=yuv420p[v%d]", i, o.Width, o.Height, i)
	}
	args = append(args, "-filter_complex", fc)
	for i, o := range outs {
		p := filepath.Join(dir, "plain-"+string(o.Rung.Quality)+".mp4")
		files[o.Rung.Quality] = p
		args = append(args, "-map", fmt.Sprintf("[v%d]", i), "-map", "0:a:0?",
			"-c:v", "libx264", "-preset", preset, "-crf", "23", "-profile:v", "high",
			"-maxrate", strconv.Itoa(o.Rung.MaxRate), "-bufsize", strconv.Itoa(o.Rung.BufSize),
			"-force_key_frames", "expr:gte(t,n_forced*2)", "-sc_threshold", "0", "-g", "600", "-fps_mode", "vfr",
			"-c:a", "aac", "-b:a", strconv.Itoa(o.Rung.AudioRate), "-ac", "2",
			"-movflags", "+faststart", "-f", "mp4", p)
	}
	return args
}
