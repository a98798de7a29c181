package transcode

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/assetlab/assetlab/server/video"
)

// Output is one planned rendition.
type Output struct {
	Rung          video.Rung
	Width, Height int
	// Path is where FFmpeg writes it: one fragmented MP4, init segment
	// first, then each media segment.
	Path string
	// Playlist is where FFmpeg lists its segments as they are written: an
	// HLS media playlist of byte ranges into Path (see package hls).
	Playlist string
	// Size is its size in bytes, once written.
	Size int64
}

// SegmentSeconds is the length of the HLS segments: the keyframe interval.
const SegmentSeconds = 2

// keyframes are forced at 0 and 1 s, then every SegmentSeconds from 2 s, at
// the same times in every rendition. With -hls_init_time 1 the first two
// segments last 1 s: the stream is playable a second sooner after the
// transcode starts, and after that segments are of the usual length.
const keyframes = "expr:if(lt(t,2),gte(t,n_forced),gte(t,2*(n_forced-1)))"

// Layout plans the renditions of src (Plan) and places them in dir, where
// Run writes them.
func Layout(src Source, dir string) []Output {
	outs := Plan(src)
	for i := range outs {
		// Named by index, as FFmpeg's %v is without names in
		// -var_stream_map, which builds before 4.2 lack (compat.go).
		outs[i].Path = filepath.Join(dir, strconv.Itoa(i)+".mp4")
		outs[i].Playlist = filepath.Join(dir, strconv.Itoa(i)+".m3u8")
	}
	return outs
}

// Plan picks the rungs of the ladder for a source: every rung whose short side
// does not exceed the source's, so nothing is upscaled. A source smaller than
// the lowest rung gets one rendition at its own size, with that rung's caps,
// named by what it is: a 426×240 source gives "240p", not "360p".
func Plan(src Source) []Output {
	short := min(src.Width, src.Height)
	var outs []Output
	for _, r := range video.Ladder {
		if r.Short > short {
			continue
		}
		w, h := r.Short, r.Short
		if src.Width >= src.Height {
			w = even(float64(src.Width) * float64(r.Short) / float64(src.Height))
		} else {
			h = even(float64(src.Height) * float64(r.Short) / float64(src.Width))
		}
		outs = append(outs, Output{Rung: r, Width: w, Height: h})
	}
	if len(outs) == 0 {
		r, w, h := video.Ladder[0], even(float64(src.Width)), even(float64(src.Height))
		r.Quality = video.QualityOf(min(w, h))
		outs = []Output{{Rung: r, Width: w, Height: h}}
	}
	return outs
}

// even rounds to the nearest even number (H.264 in 4:2:0 needs even sizes).
func even(x float64) int {
	return max(2, 2*int(math.Round(x/2)))
}

// Options tune the encode. Every field is needed: the defaults are the
// configuration's (ASSETLAB_FFMPEG, ASSETLAB_FFPROBE, ASSETLAB_X264_PRESET).
type Options struct {
	FFmpeg, FFprobe string
	// Preset is the x264 preset.
	Preset string
}

// crf is the x264 constant rate factor; each rung's maxrate caps it.
const crf = 23

// check names what the options lack.
func (o Options) check() error {
	var missing []string
	for _, f := range []struct{ name, v string }{{"ffmpeg program", o.FFmpeg}, {"ffprobe program", o.FFprobe}, {"x264 preset", o.Preset}} {
		if f.v == "" {
			missing = append(missing, f.name)
		}
	}
	if len(missing) > 0 {
		return &Error{Class: ClassEnvironment, Reason: ReasonMissing, Detail: "transcode options lack the " + strings.Join(missing, ", ")}
	}
	return nil
}

// Result is what a run produced.
type Result struct {
	Outputs []Output
	// Poster is the path of the poster JPEG ("" if none could be made).
	Poster string
	// Encoded is the duration FFmpeg got through, in seconds.
	Encoded float64
}

// Args builds the FFmpeg command line for a source: one decode, split into
// every rung (and a poster), each scaled to square pixels and 8-bit 4:2:0,
// H.264 capped at the rung's maxrate with keyframes every SegmentSeconds
// (after two 1 s segments) at the same times in every rendition, AAC stereo muxed into each rendition (so
// that each is a complete file on its own), written as HLS: one fragmented MP4
// per rendition, with an EVENT playlist of its segments that FFmpeg rewrites
// as each one is finished. FFmpeg must run in the folder of outs (Layout): the
// names on the command line are relative, so that playlists name the files
// relative to themselves.
func Args(in Input, src Source, outs []Output, poster string, o Options) ([]string, error) {
	if err := o.check(); err != nil {
		return nil, err
	}
	inArgs, err := in.args()
	if err != nil {
		return nil, err
	}
	args := []string{"-hide_banner", "-nostdin", "-y", "-loglevel", "error"}
	args = append(args, withoutUnknown(o.FFmpeg, inArgs)...)
	args = append(args, "-i", in.Location)

	var fc strings.Builder
	fc.WriteString("[0:v:0]")
	if src.HDR {
		// PQ/HLG to SDR BT.709, so 8-bit renditions do not look washed out.
		fc.WriteString("zscale=t=linear:npl=100,format=gbrpf32le,zscale=p=bt709,tonemap=tonemap=hable:desat=0,zscale=t=bt709:m=bt709:r=tv,")
	}
	branches := len(outs)
	if poster != "" {
		branches++
	}
	fmt.Fprintf(&fc, "split=%d", branches)
	for i := range branches {
		fmt.Fprintf(&fc, "[s%d]", i)
	}
	for i, out := range outs {
		fmt.Fprintf(&fc, ";[s%d]scale=%d:%d:flags=bicubic,setsar=1,format=yuv420p[v%d]", i, out.Width, out.Height, i)
	}
	if poster != "" {
		// A frame a little way in (the first is often black), at the largest
		// rendition's size.
		at := 1.0
		if src.Duration > 0 {
			at = math.Min(1, src.Duration/3)
		}
		big := outs[len(outs)-1]
		// The second trim ends the branch after one frame: without it every
		// later frame would still be scaled, only to be dropped.
		fmt.Fprintf(&fc, ";[s%d]trim=start=%.3f,trim=end_frame=1,scale=%d:%d,setsar=1,format=yuvj420p[poster]", len(outs), at, big.Width, big.Height)
	}
	args = append(args, "-filter_complex", fc.String())

	var streams []string
	for i := range outs {
		args = append(args, "-map", fmt.Sprintf("[v%d]", i))
		stream := fmt.Sprintf("v:%d", i)
		if src.HasAudio {
			args = append(args, "-map", "0:a:0")
			stream += fmt.Sprintf(",a:%d", i)
		}
		streams = append(streams, stream)
	}
	args = append(args,
		"-c:v", "libx264", "-preset", o.Preset, "-crf", strconv.Itoa(crf), "-profile:v", "high",
		"-force_key_frames:v", keyframes, "-sc_threshold", "0", "-g", "600")
	args = append(args, frameRateArgs(o.FFmpeg)...)
	for i, out := range outs {
		r := out.Rung
		args = append(args, fmt.Sprintf("-maxrate:v:%d", i), strconv.Itoa(r.MaxRate), fmt.Sprintf("-bufsize:v:%d", i), strconv.Itoa(r.BufSize))
		if src.HasAudio {
			args = append(args, fmt.Sprintf("-b:a:%d", i), strconv.Itoa(r.AudioRate))
		}
	}
	if src.HasAudio {
		args = append(args, "-c:a", "aac", "-ac", "2")
	}
	args = append(args,
		"-f", "hls", "-hls_segment_type", "fmp4", "-hls_playlist_type", "event",
		"-hls_time", strconv.Itoa(SegmentSeconds), "-hls_init_time", "1", "-hls_flags", "single_file+independent_segments",
		"-var_stream_map", strings.Join(streams, " "),
		"-hls_segment_filename", "%v.mp4", "%v.m3u8")
	if poster != "" {
		args = append(args, "-map", "[poster]", "-frames:v", "1", "-q:v", "3", "-update", "1", "-f", "image2", poster)
	}
	return append(args, "-progress", "pipe:1", "-nostats"), nil
}

// Transcode probes the input and writes its renditions and poster into dir.
// progress, if not nil, is called with the percentage done as FFmpeg reports
// it. Its errors are *Error, or the context's.
func Transcode(ctx context.Context, in Input, dir string, o Options, progress func(pct float64)) (Source, Result, error) {
	if err := o.check(); err != nil {
		return Source{}, Result{}, err
	}
	src, err := Probe(ctx, o.FFprobe, in)
	if err != nil {
		return src, Result{}, err
	}
	res, err := Run(ctx, in, src, Layout(src, dir), o, progress)
	return src, res, err
}

// Run encodes a probed source into outs, laid out by Layout, and a poster
// beside them.
func Run(ctx context.Context, in Input, src Source, outs []Output, o Options, progress func(pct float64)) (Result, error) {
	if len(outs) == 0 {
		return Result{}, &Error{Class: ClassEnvironment, Reason: ReasonMissing, Detail: "no renditions planned"}
	}
	dir := filepath.Dir(outs[0].Path)
	poster := filepath.Join(dir, "poster.jpg")
	args, err := Args(in, src, outs, poster, o)
	if err != nil {
		return Result{}, err
	}
	cmd := exec.CommandContext(ctx, o.FFmpeg, args...)
	cmd.Dir = dir
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return Result{}, Classify(err)
	}
	stderr := &tailBuffer{max: 16 << 10}
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		return Result{}, classify("ffmpeg", err, "")
	}
	encoded := readProgress(stdout, src.Duration, progress)
	err = cmd.Wait()
	if ctx.Err() != nil {
		return Result{}, ctx.Err()
	}
	if err != nil {
		return Result{}, classify("ffmpeg", err, stderr.String())
	}
	res := Result{Outputs: slices.Clone(outs), Encoded: encoded}
	for i := range res.Outputs {
		fi, err := os.Stat(res.Outputs[i].Path)
		if err != nil || fi.Size() == 0 {
			return Result{}, &Error{Class: ClassInput, Reason: ReasonUnreadable,
				Detail: fmt.Sprintf("ffmpeg produced no %s output: %s", outs[i].Rung.Quality, tail(stderr.String(), 5))}
		}
		res.Outputs[i].Size = fi.Size()
	}
	if fi, err := os.Stat(poster); err == nil && fi.Size() > 0 {
		res.Poster = poster
	}
	// A file cut short decodes "successfully" up to where it ends.
	if src.Duration > 2 && encoded < 0.9*src.Duration {
		return Result{}, badInput("the file is truncated or damaged: only %.1f s of %.1f s could be decoded", encoded, src.Duration)
	}
	return res, nil
}

// readProgress parses FFmpeg's -progress output, calling report with the
// percentage done, and returns the last position in seconds.
func readProgress(r io.Reader, duration float64, report func(float64)) float64 {
	var pos float64
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), "=")
		if !ok {
			continue
		}
		switch k {
		case "out_time_us":
			if us, err := strconv.ParseInt(v, 10, 64); err == nil && us >= 0 {
				pos = float64(us) / 1e6
			}
		case "progress":
			switch {
			case report == nil:
			case v == "end":
				report(100)
			case duration > 0:
				report(math.Min(99.9, 100*pos/duration))
			}
		}
	}
	io.Copy(io.Discard, r)
	return pos
}

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	mu  sync.Mutex
	max int
	b   []byte
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.b = append(t.b, p...)
	if len(t.b) > t.max {
		t.b = t.b[len(t.b)-t.max:]
	}
	return len(p), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.b)
}
