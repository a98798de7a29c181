package transcode

import (
	"context"
	"errors"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/assetlab/assetlab/server/video"
	"github.com/assetlab/assetlab/worker/mediatest"
)

func TestPlan(t *testing.T) {
	type wh struct{ w, h int }
	cases := []struct {
		name string
		src  Source
		want map[video.Quality]wh
	}{
		{"1080p", Source{Width: 1920, Height: 1080}, map[video.Quality]wh{"360p": {640, 360}, "720p": {1280, 720}, "1080p": {1920, 1080}}},
		{"720p", Source{Width: 1280, Height: 720}, map[video.Quality]wh{"360p": {640, 360}, "720p": {1280, 720}}},
		{"4k", Source{Width: 3840, Height: 2160}, map[video.Quality]wh{"360p": {640, 360}, "720p": {1280, 720}, "1080p": {1920, 1080}}},
		{"portrait", Source{Width: 1080, Height: 1920}, map[video.Quality]wh{"360p": {360, 640}, "720p": {720, 1280}, "1080p": {1080, 1920}}},
		// Smaller than the lowest rung: one rendition, named by what it is.
		{"small", Source{Width: 320, Height: 240}, map[video.Quality]wh{"240p": {320, 240}}},
		{"426x240", Source{Width: 426, Height: 240}, map[video.Quality]wh{"240p": {426, 240}}},
		{"small portrait", Source{Width: 240, Height: 426}, map[video.Quality]wh{"240p": {240, 426}}},
		{"odd small", Source{Width: 175, Height: 99}, map[video.Quality]wh{"100p": {176, 100}}},
		{"just under 720", Source{Width: 1278, Height: 719}, map[video.Quality]wh{"360p": {640, 360}}},
		{"cinemascope", Source{Width: 1920, Height: 800}, map[video.Quality]wh{"360p": {864, 360}, "720p": {1728, 720}}},
	}
	for _, c := range cases {
		got := map[video.Quality]wh{}
		for _, o := range Plan(c.src) {
			got[o.Rung.Quality] = wh{o.Width, o.Height}
			if base, ok := ladderRung(o.Rung); !ok || base.MaxRate != o.Rung.MaxRate {
				t.Errorf("%s %s: caps %d bit/s, want a rung's own", c.name, o.Rung.Quality, o.Rung.MaxRate)
			}
		}
		if len(got) != len(c.want) {
			t.Errorf("%s: got %v, want %v", c.name, got, c.want)
			continue
		}
		for q, w := range c.want {
			if got[q] != w {
				t.Errorf("%s %s: got %v, want %v", c.name, q, got[q], w)
			}
		}
	}
}

// ladderRung is the ladder rung whose caps r has.
func ladderRung(r video.Rung) (video.Rung, bool) {
	for _, l := range video.Ladder {
		if l.MaxRate == r.MaxRate && l.BufSize == r.BufSize && l.AudioRate == r.AudioRate {
			return l, true
		}
	}
	return video.Rung{}, false
}

// local is a clip on disk, read as the container its extension names.
func local(t *testing.T, path string) Input {
	t.Helper()
	in, err := NewInput(path, "", path)
	if err != nil {
		t.Fatal(err)
	}
	return in
}

// transcode runs the whole thing on a clip and checks every output with ffprobe.
func transcode(t *testing.T, clip string) (Source, Result) {
	t.Helper()
	dir := t.TempDir()
	var last float64
	src, res, err := Transcode(context.Background(), local(t, clip), dir, options(), func(p float64) { last = p })
	if err != nil {
		t.Fatalf("transcode: %v", err)
	}
	if last < 99 {
		t.Errorf("last progress report: %.1f%%, want 100", last)
	}
	for _, o := range res.Outputs {
		info := mediatest.Probe(t, o.Path)
		if info.VideoCodec != "h264" || info.PixFmt != "yuv420p" || info.Profile != "High" {
			t.Errorf("%s: video %s %s %s, want h264 High yuv420p", o.Rung.Quality, info.VideoCodec, info.Profile, info.PixFmt)
		}
		if info.Width != o.Width || info.Height != o.Height {
			t.Errorf("%s: %dx%d, want %dx%d", o.Rung.Quality, info.Width, info.Height, o.Width, o.Height)
		}
		if info.SAR != "" && info.SAR != "1:1" {
			t.Errorf("%s: sample aspect ratio %s, want 1:1", o.Rung.Quality, info.SAR)
		}
		if src.HasAudio && (info.AudioCodec != "aac" || info.AudioChannels != 2) {
			t.Errorf("%s: audio %s x%d, want aac stereo", o.Rung.Quality, info.AudioCodec, info.AudioChannels)
		}
		if !src.HasAudio && info.AudioCodec != "" {
			t.Errorf("%s: has %s audio, the source has none", o.Rung.Quality, info.AudioCodec)
		}
		if math.Abs(info.Duration-src.Duration) > 0.25 {
			t.Errorf("%s: duration %.2f s, want %.2f", o.Rung.Quality, info.Duration, src.Duration)
		}
		if info.FormatName != "mov,mp4,m4a,3gp,3g2,mj2" {
			t.Errorf("%s: format %s, want mp4", o.Rung.Quality, info.FormatName)
		}
	}
	if res.Poster == "" {
		t.Error("no poster")
	} else if p := mediatest.Probe(t, res.Poster); p.VideoCodec != "mjpeg" {
		t.Errorf("poster: %s, want a JPEG", p.VideoCodec)
	}
	return src, res
}

func qualities(res Result) string {
	var qs []string
	for _, o := range res.Outputs {
		qs = append(qs, string(o.Rung.Quality))
	}
	return strings.Join(qs, ",")
}

func TestLadderFrom1080p(t *testing.T) {
	clip := mediatest.Make(t, mediatest.Clip{Width: 1920, Height: 1080, Seconds: 4.2, Audio: true})
	_, res := transcode(t, clip)
	if got := qualities(res); got != "360p,720p,1080p" {
		t.Fatalf("renditions %s, want 360p,720p,1080p", got)
	}
	// Keyframes at 0 and 1 s, then every 2 s, at the same times in every
	// rendition.
	var first []string
	for _, o := range res.Outputs {
		kf := mediatest.KeyframeTimes(t, o.Path)
		if first == nil {
			first = kf
			if len(kf) != 4 {
				t.Errorf("%s: keyframes at %v, want 0, 1, 2 and 4 s", o.Rung.Quality, kf)
			}
		} else if !slices.Equal(kf, first) {
			t.Errorf("%s: keyframes at %v, want %v as in %s", o.Rung.Quality, kf, first, res.Outputs[0].Rung.Quality)
		}
	}
	// The 1080p rendition is capped, not larger than the source's bitrate allows.
	for _, o := range res.Outputs {
		if limit := int64(o.Rung.MaxRate+o.Rung.AudioRate) / 8 * 5; o.Size > limit*3/2 {
			t.Errorf("%s: %d bytes for 4.2 s, well over its %d bit/s cap", o.Rung.Quality, o.Size, o.Rung.MaxRate)
		}
	}
}

func TestSources(t *testing.T) {
	cases := []struct {
		name string
		clip mediatest.Clip
		want string
		dims [2]int // of the largest rendition
	}{
		{"portrait mov", mediatest.Clip{Width: 720, Height: 1280, Audio: true, Container: "mov"}, "360p,720p", [2]int{720, 1280}},
		{"small webm without audio", mediatest.Clip{Width: 320, Height: 240, Container: "webm",
			VideoArgs: []string{"-c:v", "libvpx-vp9", "-deadline", "realtime", "-cpu-used", "8"}}, "240p", [2]int{320, 240}},
		{"odd size mkv", mediatest.Clip{Width: 402, Height: 234, Audio: true, Container: "mkv",
			VideoArgs: []string{"-vf", "scale=401:233,setsar=1,format=yuv444p", "-c:v", "ffv1"}}, "234p", [2]int{402, 234}},
		{"10-bit HDR mkv", mediatest.Clip{Width: 640, Height: 360, Container: "mkv",
			VideoArgs: []string{"-c:v", "libx265", "-preset", "ultrafast", "-pix_fmt", "yuv420p10le",
				"-color_primaries", "bt2020", "-color_trc", "smpte2084", "-colorspace", "bt2020nc", "-x265-params", "log-level=error"}}, "360p", [2]int{640, 360}},
		{"rotated phone video", mediatest.Clip{Width: 640, Height: 360, Audio: true, Rotate: 90}, "360p", [2]int{360, 640}},
		{"anamorphic dvd", mediatest.Clip{Width: 720, Height: 576, Audio: true,
			Extra: []string{"-aspect", "16:9"}}, "360p", [2]int{640, 360}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			src, res := transcode(t, mediatest.Make(t, c.clip))
			if got := qualities(res); got != c.want {
				t.Errorf("renditions %s, want %s", got, c.want)
			}
			big := res.Outputs[len(res.Outputs)-1]
			if big.Width != c.dims[0] || big.Height != c.dims[1] {
				t.Errorf("largest rendition %dx%d, want %dx%d (source seen as %dx%d)", big.Width, big.Height, c.dims[0], c.dims[1], src.Width, src.Height)
			}
		})
	}
}

func TestBadInput(t *testing.T) {
	dir := t.TempDir()
	good := mediatest.Make(t, mediatest.Clip{Width: 320, Height: 240, Seconds: 6, Audio: true, Extra: []string{"-movflags", "+faststart"}})
	data, _ := os.ReadFile(good)
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		os.WriteFile(p, b, 0o644)
		return p
	}
	garbage := make([]byte, 200000)
	for i := range garbage {
		garbage[i] = byte(i * 7919 >> 3)
	}
	cases := map[string]struct {
		path   string
		reason string
	}{
		"zero length":                {write("empty.mp4", nil), ReasonUnreadable},
		"corrupt":                    {write("corrupt.mp4", append([]byte("\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2"), garbage...)), ReasonUnreadable},
		"truncated":                  {write("truncated.mp4", data[:len(data)/2]), "the file is truncated or damaged: only"},
		"audio only":                 {mediatest.Make(t, mediatest.Clip{AudioOnly: true, Container: "mp4"}), "the file has no video stream (audio only)"},
		"not a video":                {write("text.mp4", []byte(strings.Repeat("hello ", 1000))), ReasonUnreadable},
		"webm named as mkv, corrupt": {write("corrupt.mkv", append([]byte("\x1a\x45\xdf\xa3"), garbage...)), ReasonUnreadable},
		// Every frame is smaller than the track says.
		"declared size mismatches frames": {mediatest.DeclaredSizeMismatch(t), ReasonUnreadable},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			_, _, err := Transcode(context.Background(), local(t, c.path), t.TempDir(), options(), nil)
			var te *Error
			if !errors.As(err, &te) || te.Class != ClassInput || !strings.HasPrefix(te.Reason, c.reason) {
				t.Fatalf("got %#v, want an input error saying %q", err, c.reason)
			}
			if !errors.Is(err, ErrBadInput) {
				t.Errorf("errors.Is(%v, ErrBadInput) is false", err)
			}
			if strings.Contains(te.Reason, dir) || strings.Contains(te.Reason, "ffmpeg") || strings.Contains(te.Reason, "ffprobe") {
				t.Errorf("public reason %q shows internals", te.Reason)
			}
		})
	}
}

func TestMain(m *testing.M) {
	code := m.Run()
	mediatest.Cleanup()
	os.Exit(code)
}
