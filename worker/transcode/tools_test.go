package transcode

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// fakeFFmpeg writes a script that answers -encoders, -filters and -muxers like
// the real ffmpeg, less the given names, and runs the real one otherwise.
func fakeFFmpeg(t *testing.T, dropEncoders, dropFilters []string, dropMuxers ...string) string {
	t.Helper()
	real, err := exec.LookPath(options().FFmpeg)
	if err != nil {
		t.Skip("no ffmpeg")
	}
	filter := func(names []string) string {
		if len(names) == 0 {
			return "cat"
		}
		return "grep -Ev ' (" + strings.Join(names, "|") + ") '"
	}
	path := filepath.Join(t.TempDir(), "ffmpeg")
	script := "#!/bin/sh\n" +
		"case \"$*\" in\n" +
		"*-encoders*) " + real + " \"$@\" | " + filter(dropEncoders) + ";;\n" +
		"*-filters*) " + real + " \"$@\" | " + filter(dropFilters) + ";;\n" +
		"*-muxers*) " + real + " \"$@\" | " + filter(dropMuxers) + ";;\n" +
		"*) exec " + real + " \"$@\";;\n" +
		"esac\n"
	if err := os.WriteFile(path, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestCheckTools(t *testing.T) {
	ctx := context.Background()
	cases := []struct {
		name string
		opts func(t *testing.T) Options
		// wantMissing are fragments the error must hold; none: no error.
		wantMissing []string
		// notMissing must not be named.
		notMissing []string
	}{
		{"installed", func(t *testing.T) Options { return options() }, nil, nil},
		{"not on PATH", func(t *testing.T) Options {
			t.Setenv("PATH", t.TempDir())
			t.Setenv("ASSETLAB_FFMPEG", "")
			t.Setenv("ASSETLAB_FFPROBE", "")
			return options()
		}, []string{"ffmpeg (ffmpeg) cannot be run", "ffprobe (ffprobe) cannot be run"}, nil},
		{"wrong path", func(t *testing.T) Options {
			return ffmpegAt("/nonexistent/ffmpeg")
		}, []string{"ffmpeg (/nonexistent/ffmpeg) cannot be run"}, []string{"ffprobe"}},
		{"no libx264", func(t *testing.T) Options {
			return ffmpegAt(fakeFFmpeg(t, []string{"libx264"}, nil))
		}, []string{"lacks the encoders libx264"}, []string{"aac", "filters"}},
		{"no HDR filters", func(t *testing.T) Options {
			return ffmpegAt(fakeFFmpeg(t, nil, []string{"zscale", "tonemap"}))
		}, []string{"lacks the filters zscale, tonemap"}, []string{"encoders"}},
		{"no HLS muxer", func(t *testing.T) Options {
			return ffmpegAt(fakeFFmpeg(t, nil, nil, "hls"))
		}, []string{"lacks the muxers hls"}, []string{"encoders", "filters", "image2"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tools, err := CheckTools(ctx, c.opts(t))
			if len(c.wantMissing) == 0 {
				if err != nil {
					t.Fatalf("got %v, want no error", err)
				}
				if !strings.HasPrefix(tools.FFmpeg, "ffmpeg version ") || !strings.HasPrefix(tools.FFprobe, "ffprobe version ") {
					t.Errorf("got versions %q, %q; want ffmpeg's and ffprobe's first lines", tools.FFmpeg, tools.FFprobe)
				}
				return
			}
			var te *ToolsError
			if !errors.As(err, &te) {
				t.Fatalf("got %v, want a *ToolsError", err)
			}
			for _, w := range c.wantMissing {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("got %q, want it to say %q", err, w)
				}
			}
			for _, n := range c.notMissing {
				if strings.Contains(err.Error(), n) {
					t.Errorf("got %q, which names %q that is there", err, n)
				}
			}
		})
	}
}

// The check covers every encoder, filter and muxer the command line uses, so that
// a change to Args cannot leave it behind.
func TestCheckToolsCoversArgs(t *testing.T) {
	src := Source{Width: 1920, Height: 1080, Duration: 10, HasAudio: true, HDR: true}
	outs := Plan(src)
	args, err := Args(Input{Location: "/in.mp4", Format: FormatMOV}, src, outs, "poster.jpg", options())
	if err != nil {
		t.Fatal(err)
	}
	for i, a := range args {
		switch {
		case strings.HasPrefix(a, "-c:") && i+1 < len(args):
			if !slices.Contains(RequiredEncoders, args[i+1]) {
				t.Errorf("encoder %s is used but not checked", args[i+1])
			}
		case a == "-filter_complex":
			// Each filter is a name after "[label]", ";", or "," and before "=" or a label.
			for _, m := range regexp.MustCompile(`(?:^|[\];,])([a-z0-9_]+)(?:=|\[|,|$)`).FindAllStringSubmatch(args[i+1], -1) {
				if !slices.Contains(RequiredFilters, m[1]) {
					t.Errorf("filter %s is used but not checked", m[1])
				}
			}
		}
		if a == "-f" && i+1 < len(args) && i > slices.Index(args, "-i") && !slices.Contains(RequiredMuxers, args[i+1]) {
			t.Errorf("muxer %s is used but not checked", args[i+1])
		}
	}
	// The poster is a JPEG: image2 encodes it with mjpeg.
	if !slices.Contains(RequiredEncoders, "mjpeg") {
		t.Error("mjpeg (the poster's encoder) is not checked")
	}
}
