package transcode

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strings"
)

// Required are the FFmpeg components that Args uses: the encoders of the
// renditions and the poster, the filters of the graph (zscale and tonemap
// for HDR sources), and the muxers of the stream and the poster.
var (
	RequiredEncoders = []string{"libx264", "aac", "mjpeg"}
	RequiredFilters  = []string{"split", "scale", "format", "setsar", "trim", "zscale", "tonemap"}
	RequiredMuxers   = []string{"hls", "image2"}
)

// Tools describes the FFmpeg programs a worker runs.
type Tools struct {
	// FFmpeg and FFprobe are the first lines of their -version output.
	FFmpeg, FFprobe string
}

// ToolsError lists what is missing for a worker to transcode.
type ToolsError struct {
	Problems []string
}

func (e *ToolsError) Error() string {
	return "cannot transcode: " + strings.Join(e.Problems, "; ")
}

// CheckTools runs ffmpeg and ffprobe to read their versions and checks that
// ffmpeg has every encoder and filter the transcode uses. Its error, a
// *ToolsError, names everything that is missing at once.
func CheckTools(ctx context.Context, o Options) (Tools, error) {
	var t Tools
	var problems []string
	ffmpegOK := true
	for _, p := range []struct {
		name, path string
		version    *string
	}{{"ffmpeg", o.FFmpeg, &t.FFmpeg}, {"ffprobe", o.FFprobe, &t.FFprobe}} {
		out, err := runTool(ctx, p.path, "-hide_banner", "-version")
		if p.path == "" {
			err = errors.New("no program is configured")
		}
		if err != nil {
			problems = append(problems, fmt.Sprintf("%s (%s) cannot be run: %v", p.name, p.path, err))
			ffmpegOK = ffmpegOK && p.name != "ffmpeg"
			continue
		}
		*p.version, _, _ = strings.Cut(strings.TrimSpace(out), "\n")
		*p.version, _, _ = strings.Cut(*p.version, " Copyright")
	}
	if !ffmpegOK {
		return t, &ToolsError{Problems: problems}
	}
	for _, c := range []struct {
		kind, flag string
		want       []string
	}{{"encoders", "-encoders", RequiredEncoders}, {"filters", "-filters", RequiredFilters}, {"muxers", "-muxers", RequiredMuxers}} {
		out, err := runTool(ctx, o.FFmpeg, "-hide_banner", c.flag)
		if err != nil {
			problems = append(problems, fmt.Sprintf("ffmpeg (%s) %s: %v", o.FFmpeg, c.flag, err))
			continue
		}
		if missing := missingNames(out, c.want); len(missing) > 0 {
			problems = append(problems, fmt.Sprintf("ffmpeg (%s) lacks the %s %s", o.FFmpeg, c.kind, strings.Join(missing, ", ")))
		}
	}
	if len(problems) > 0 {
		return t, &ToolsError{Problems: problems}
	}
	return t, nil
}

// missingNames returns the names of want that no line of an -encoders or
// -filters listing has as its second field ("flags name description").
func missingNames(listing string, want []string) []string {
	have := map[string]bool{}
	for _, line := range strings.Split(listing, "\n") {
		if f := strings.Fields(line); len(f) >= 2 {
			have[f[1]] = true
		}
	}
	var missing []string
	for _, n := range want {
		if !have[n] {
			missing = append(missing, n)
		}
	}
	return missing
}

func runTool(ctx context.Context, path string, args ...string) (string, error) {
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, path, args...)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			msg := strings.TrimSpace(stderr.String())
			if i := strings.LastIndexByte(msg, '\n'); i >= 0 {
				msg = msg[i+1:]
			}
			if msg != "" {
				return "", fmt.Errorf("%w: %s", err, msg)
			}
		}
		return "", err
	}
	return stdout.String(), nil
}
