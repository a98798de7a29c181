package transcode

import (
	"bytes"
	"context"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"time"
)

// Options of FFmpeg's command line that older builds lack, and what is used
// there instead: the FFmpeg that the Windows and macOS installers ship is
// FFmpeg's git master of December 2018 (between 4.1 and 4.2), and Debian
// ships 5.1.
//
//   - -fps_mode (5.1; it deprecated -vsync, which older builds have),
//   - the HTTP protocol's -reconnect_on_network_error (4.3; older builds
//     retry less after a dropped connection, and a job fails sooner).
//
// (Variant names in -var_stream_map came later than 4.1 too: Layout names
// the files by index instead, which every version does.)
var knownOptions sync.Map // [2]string{ffmpeg, option} -> bool

// knows reports whether the ffmpeg program accepts the option, asking it
// once: its option parser refuses an unknown one before -version is run.
// When it cannot tell (the program does not run), it answers yes, and the
// transcode says what is wrong.
func knows(ffmpeg, option, value string) bool {
	key := [2]string{ffmpeg, option}
	if v, ok := knownOptions.Load(key); ok {
		return v.(bool)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, ffmpeg, "-hide_banner", "-"+option, value, "-version")
	cmd.Stderr = &stderr
	err := cmd.Run()
	switch {
	case err == nil:
		knownOptions.Store(key, true)
		return true
	case strings.Contains(stderr.String(), "Unrecognized option '"+option+"'"):
		knownOptions.Store(key, false)
		return false
	default:
		return true
	}
}

// frameRateArgs keep a variable frame rate as it is (no duplicated frames).
func frameRateArgs(ffmpeg string) []string {
	if knows(ffmpeg, "fps_mode", "vfr") {
		return []string{"-fps_mode", "vfr"}
	}
	return []string{"-vsync", "vfr"}
}

// withoutUnknown drops from input arguments (flag, value pairs) the options
// that the ffmpeg program does not know and can do without.
func withoutUnknown(ffmpeg string, args []string) []string {
	i := slices.Index(args, "-reconnect_on_network_error")
	if i < 0 || i+1 >= len(args) || knows(ffmpeg, "reconnect_on_network_error", args[i+1]) {
		return args
	}
	return slices.Delete(slices.Clone(args), i, i+2)
}
