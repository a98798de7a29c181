package transcode

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// currentFFmpeg is an FFmpeg of 5.1 or later: the one on PATH (Debian 12's
// 5.1), whatever ASSETLAB_FFMPEG names.
const currentFFmpeg = "ffmpeg"

// oldFFmpeg writes a script that refuses options as an FFmpeg build older
// than 5.1 does (with its words) and runs the current one otherwise.
func oldFFmpeg(t *testing.T, unknown ...string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "ffmpeg")
	script := "#!/bin/sh\nfor a; do case \"$a\" in\n"
	for _, o := range unknown {
		script += "-" + o + ") echo \"Unrecognized option '" + o + "'.\" >&2; echo 'Error splitting the argument list: Option not found' >&2; exit 1;;\n"
	}
	script += "esac; done\nexec " + currentFFmpeg + " \"$@\"\n"
	if err := os.WriteFile(path, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return path
}

// The command line asks only for options that the FFmpeg at hand knows: an
// FFmpeg before 5.1 gets -vsync for -fps_mode, and one before 4.3 no
// -reconnect_on_network_error; names in -var_stream_map are never used.
func TestArgsFitTheFFmpeg(t *testing.T) {
	src := Source{Width: 1280, Height: 720, Duration: 4, HasAudio: true}
	in, err := NewInput("http://127.0.0.1:9/clip.mp4", "video/mp4", "originals/clip.mp4")
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name         string
		opts         Options
		want, absent []string
	}{
		{"current", ffmpegAt(currentFFmpeg), []string{"-fps_mode", "-reconnect_on_network_error"}, []string{"-vsync"}},
		{"without fps_mode", ffmpegAt(oldFFmpeg(t, "fps_mode")), []string{"-vsync", "-reconnect_on_network_error"}, []string{"-fps_mode"}},
		{"2018", ffmpegAt(oldFFmpeg(t, "fps_mode", "reconnect_on_network_error")), []string{"-vsync", "-reconnect", "-reconnect_delay_max"},
			[]string{"-fps_mode", "-reconnect_on_network_error"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			args, err := Args(in, src, Layout(src, t.TempDir()), "poster.jpg", c.opts)
			if err != nil {
				t.Fatal(err)
			}
			for _, w := range c.want {
				if !slices.Contains(args, w) {
					t.Errorf("got %q, want it to have %s", args, w)
				}
			}
			for _, a := range c.absent {
				if slices.Contains(args, a) {
					t.Errorf("got %q, want no %s", args, a)
				}
			}
			i := slices.Index(args, "-var_stream_map")
			if i < 0 || strings.Contains(args[i+1], "name:") {
				t.Errorf("got -var_stream_map %q, want variants without names", args[min(i+1, len(args)-1)])
			}
		})
	}
}
