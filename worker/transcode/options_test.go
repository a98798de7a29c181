package transcode

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/assetlab/assetlab/server/config"
)

// options are the configuration's defaults: the transcode package has none
// of its own. ASSETLAB_FFMPEG and ASSETLAB_FFPROBE name other programs, to
// run these tests with another FFmpeg build (make test-bundled-ffmpeg).
func options() Options {
	c := config.Default()
	o := Options{FFmpeg: c.FFmpeg, FFprobe: c.FFprobe, Preset: c.X264Preset}
	if p := os.Getenv("ASSETLAB_FFMPEG"); p != "" {
		o.FFmpeg = p
	}
	if p := os.Getenv("ASSETLAB_FFPROBE"); p != "" {
		o.FFprobe = p
	}
	return o
}

func ffmpegAt(path string) Options {
	o := options()
	o.FFmpeg = path
	return o
}

func ffprobeAt(path string) Options {
	o := options()
	o.FFprobe = path
	return o
}

// Options left empty are refused by name, not filled in with defaults of
// the package's own.
func TestOptionsAreNeeded(t *testing.T) {
	in := Input{Location: "/in.mp4", Format: FormatMOV}
	src := Source{Width: 640, Height: 360, Duration: 1}
	_, err := Args(in, src, Plan(src), "", Options{FFmpeg: "ffmpeg", FFprobe: "ffprobe"})
	var e *Error
	if !errors.As(err, &e) || e.Class != ClassEnvironment || !strings.Contains(e.Detail, "x264 preset") {
		t.Errorf("no preset: got %v, want an environment error naming the x264 preset", err)
	}
	_, _, err = Transcode(context.Background(), in, t.TempDir(), Options{}, nil)
	if !errors.As(err, &e) || !strings.Contains(e.Detail, "ffmpeg program, ffprobe program, x264 preset") {
		t.Errorf("no options: got %v, want an error naming all three", err)
	}
	_, err = CheckTools(context.Background(), Options{})
	if err == nil || !strings.Contains(err.Error(), "no program is configured") {
		t.Errorf("CheckTools without programs: got %v, want it to say none is configured", err)
	}
}
