package desktop

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/assetlab/assetlab/server/app/apptest"
)

// The built-in server runs the FFmpeg shipped with the app (beside the
// executable, or in a macOS bundle's Resources) before the one on PATH, and
// ASSETLAB_FFMPEG / ASSETLAB_FFPROBE before either.
func TestFFmpegPaths(t *testing.T) {
	cases := []struct {
		name  string
		goos  string
		exe   string   // relative to the case's folder
		files []string // files made in the case's folder
		dirs  []string // folders made there
		env   map[string]string
		// want are relative to the case's folder, or as given when they
		// are the configuration's own values.
		wantFFmpeg, wantFFprobe string
	}{
		{name: "windows, both beside the exe", goos: "windows", exe: "AssetLab/AssetLab.exe",
			files:      []string{"AssetLab/ffmpeg.exe", "AssetLab/ffprobe.exe"},
			wantFFmpeg: "AssetLab/ffmpeg.exe", wantFFprobe: "AssetLab/ffprobe.exe"},
		{name: "windows, a name without .exe is not it", goos: "windows", exe: "AssetLab/AssetLab.exe",
			files:      []string{"AssetLab/ffmpeg", "AssetLab/ffprobe"},
			wantFFmpeg: "=ffmpeg", wantFFprobe: "=ffprobe"},
		{name: "linux, only ffmpeg beside the binary", goos: "linux", exe: "bin/assetlab-desktop",
			files: []string{"bin/ffmpeg"}, wantFFmpeg: "bin/ffmpeg", wantFFprobe: "=ffprobe"},
		{name: "macos bundle resources", goos: "darwin", exe: "AssetLab.app/Contents/MacOS/AssetLab",
			files:      []string{"AssetLab.app/Contents/Resources/ffmpeg", "AssetLab.app/Contents/Resources/ffprobe"},
			wantFFmpeg: "AssetLab.app/Contents/Resources/ffmpeg", wantFFprobe: "AssetLab.app/Contents/Resources/ffprobe"},
		{name: "macos resources are not looked at elsewhere", goos: "linux", exe: "AssetLab.app/Contents/MacOS/AssetLab",
			files: []string{"AssetLab.app/Contents/Resources/ffmpeg"}, wantFFmpeg: "=ffmpeg", wantFFprobe: "=ffprobe"},
		{name: "nothing bundled", goos: "windows", exe: "AssetLab/AssetLab.exe",
			wantFFmpeg: "=ffmpeg", wantFFprobe: "=ffprobe"},
		{name: "a folder is not a program", goos: "linux", exe: "bin/assetlab-desktop",
			dirs: []string{"bin/ffmpeg", "bin/ffprobe"}, wantFFmpeg: "=ffmpeg", wantFFprobe: "=ffprobe"},
		{name: "the environment wins", goos: "windows", exe: "AssetLab/AssetLab.exe",
			files: []string{"AssetLab/ffmpeg.exe", "AssetLab/ffprobe.exe"},
			env:   map[string]string{"ASSETLAB_FFMPEG": "C:/ffmpeg/bin/ffmpeg.exe"},
			// The configuration already holds what the variable names.
			wantFFmpeg: "=ffmpeg", wantFFprobe: "AssetLab/ffprobe.exe"},
		{name: "no executable path", goos: "windows", wantFFmpeg: "=ffmpeg", wantFFprobe: "=ffprobe"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			for _, d := range c.dirs {
				if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
					t.Fatal(err)
				}
			}
			for _, f := range c.files {
				p := filepath.Join(dir, f)
				if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(p, []byte("#!/bin/sh\n"), 0o755); err != nil {
					t.Fatal(err)
				}
			}
			exe := ""
			if c.exe != "" {
				exe = filepath.Join(dir, c.exe)
			}
			want := func(w string) string {
				if w[0] == '=' {
					return w[1:]
				}
				return filepath.Join(dir, w)
			}
			getenv := func(k string) string { return c.env[k] }
			gotFFmpeg, gotFFprobe := ffmpegPaths(getenv, exe, c.goos, "ffmpeg", "ffprobe")
			if gotFFmpeg != want(c.wantFFmpeg) {
				t.Errorf("ffmpeg: got %q, want %q", gotFFmpeg, want(c.wantFFmpeg))
			}
			if filepath.Clean(gotFFprobe) != filepath.Clean(want(c.wantFFprobe)) {
				t.Errorf("ffprobe: got %q, want %q", gotFFprobe, want(c.wantFFprobe))
			}
		})
	}
}

// Without FFmpeg, the built-in server's transcoder cannot start, and the app
// names what is missing (the watch page shows it) rather than leave the
// page waiting for a transcoder; for another server it has nothing to say.
func TestTranscoderProblem(t *testing.T) {
	dir := isolateXDG(t)
	t.Setenv("PORT", "0")
	t.Setenv("ASSETLAB_LOG_LEVEL", "error")
	missing := filepath.Join(dir, "no-such-ffmpeg")
	t.Setenv("ASSETLAB_FFMPEG", missing)

	a := NewApp(filepath.Join(dir, "config", "desktop.json"))
	if err := a.startup(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer a.shutdown(context.Background())
	var got string
	apptest.Eventually(t, 30*time.Second, "the built-in transcoder to report its FFmpeg", func() bool {
		got = a.TranscoderProblem()
		return got != ""
	})
	if want := "ffmpeg (" + missing + ") cannot be run"; !strings.Contains(got, want) {
		t.Errorf("got %q, want it to say %q", got, want)
	}
	if strings.HasPrefix(got, "cannot transcode") {
		t.Errorf("got %q, want the problems alone (the page words the rest)", got)
	}

	a.mu.Lock()
	a.settings.ServerURL = "http://192.0.2.1:3000"
	a.mu.Unlock()
	if got := a.TranscoderProblem(); got != "" {
		t.Errorf("with another server set: got %q, want nothing", got)
	}
}
