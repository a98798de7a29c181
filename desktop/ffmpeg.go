package desktop

import (
	"errors"
	"os"
	"path/filepath"
	"strings"

	"github.com/assetlab/assetlab/worker/transcode"
)

// bundledTool is the path of the named FFmpeg program (ffmpeg or ffprobe)
// shipped with the app, or "" if there is none and the one on PATH is used.
// The Windows installer puts ffmpeg.exe beside the app's executable; a
// macOS .app keeps it in Contents/Resources, next to Contents/MacOS where
// the executable is.
func bundledTool(name, exe, goos string) string {
	if exe == "" {
		return ""
	}
	dir := filepath.Dir(exe)
	file := name
	if goos == "windows" {
		file += ".exe"
	}
	candidates := []string{filepath.Join(dir, file)}
	if goos == "darwin" {
		candidates = append(candidates, filepath.Join(dir, "..", "Resources", file))
	}
	for _, c := range candidates {
		if fi, err := os.Stat(c); err == nil && fi.Mode().IsRegular() {
			return c
		}
	}
	return ""
}

// ffmpegPaths are the FFmpeg and FFprobe programs the built-in server runs:
// what ASSETLAB_FFMPEG and ASSETLAB_FFPROBE name if they are set, else the
// ones bundled with the app, else those of the configuration (found on PATH).
func ffmpegPaths(getenv func(string) string, exe, goos, ffmpeg, ffprobe string) (string, string) {
	for _, t := range []struct {
		env, name string
		path      *string
	}{{"ASSETLAB_FFMPEG", "ffmpeg", &ffmpeg}, {"ASSETLAB_FFPROBE", "ffprobe", &ffprobe}} {
		if getenv(t.env) != "" {
			continue
		}
		if p := bundledTool(t.name, exe, goos); p != "" {
			*t.path = p
		}
	}
	return ffmpeg, ffprobe
}

// TranscoderProblem is what the built-in server's transcoder lacks (its
// FFmpeg, or a part of it), for the watch page to say instead of waiting
// for a transcoder forever; "" when it works, has not checked yet, or the
// app uses another server.
func (a *App) TranscoderProblem() string {
	a.mu.Lock()
	local, remote := a.local, a.settings.ServerURL != ""
	a.mu.Unlock()
	if local == nil || remote {
		return ""
	}
	err := local.WorkerProblem()
	if err == nil {
		return ""
	}
	var tools *transcode.ToolsError
	if errors.As(err, &tools) {
		return strings.Join(tools.Problems, "; ")
	}
	return err.Error()
}
