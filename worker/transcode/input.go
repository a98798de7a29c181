package transcode

import (
	"fmt"
	"net/url"
	"path"
	"path/filepath"
	"strings"

	"github.com/assetlab/assetlab/server/video"
)

// Demuxers FFmpeg may open an original with: exactly the containers the
// server accepts.
const (
	// FormatMOV reads MP4 and MOV (one demuxer in FFmpeg).
	FormatMOV = "mov"
	// FormatMatroska reads Matroska and WebM.
	FormatMatroska = "matroska"
)

// Input is an original as FFmpeg is to read it.
//
// Left to guess, FFmpeg picks the format by probe score, and a file the
// server accepted as MOV may score higher as a DASH manifest, an HLS playlist
// or a concat list, whose references FFmpeg then follows: to any URL, or to
// any media file on the worker's disk. So the demuxer is pinned to the
// container the server accepted, no other demuxer may be opened (nested
// formats included), FFmpeg may use only the protocols that reaching this
// one location needs, and MOV external data references stay off.
type Input struct {
	// Location is an http or https URL, or an absolute local path.
	Location string
	// Format is FormatMOV or FormatMatroska.
	Format string
}

// FormatFor returns the demuxer of the container the server accepted: by its
// content type, or else by the original key's extension.
func FormatFor(contentType, key string) (string, bool) {
	for _, c := range []video.Container{video.MP4, video.MOV, video.WebM, video.MKV} {
		if contentType == c.ContentType || (contentType == "" && strings.EqualFold(path.Ext(key), c.Ext)) {
			if c == video.WebM || c == video.MKV {
				return FormatMatroska, true
			}
			return FormatMOV, true
		}
	}
	return "", false
}

// NewInput describes the original at location, stored as key with the given
// content type.
func NewInput(location, contentType, key string) (Input, error) {
	f, ok := FormatFor(contentType, key)
	if !ok {
		return Input{}, &Error{Class: ClassInput, Reason: ReasonUnreadable,
			Detail: fmt.Sprintf("no demuxer for content type %q (key %s)", contentType, key)}
	}
	return Input{Location: location, Format: f}, nil
}

// isURL reports whether the input is read over HTTP.
func (in Input) isURL() bool {
	return strings.HasPrefix(in.Location, "http://") || strings.HasPrefix(in.Location, "https://")
}

// args are the FFmpeg (and ffprobe) options that go before -i.
func (in Input) args() ([]string, error) {
	var protocols string
	switch {
	case strings.HasPrefix(in.Location, "https://"):
		protocols = "https,tls,tcp"
	case strings.HasPrefix(in.Location, "http://"):
		protocols = "http,tcp"
	case filepath.IsAbs(in.Location):
		protocols = "file"
	default:
		return nil, &Error{Class: ClassEnvironment, Reason: ReasonFailed, Detail: "input is neither an http(s) URL nor an absolute path: " + redact(in.Location)}
	}
	if in.isURL() {
		if _, err := url.Parse(in.Location); err != nil {
			return nil, &Error{Class: ClassEnvironment, Reason: ReasonFailed, Detail: "input URL: " + redact(err.Error())}
		}
	}
	var args []string
	switch in.Format {
	case FormatMOV:
		// External data references (another file, or a URL) are off by
		// default in FFmpeg 5.1; say so, in case a build or version differs.
		args = []string{"-f", "mov", "-enable_drefs", "0", "-use_absolute_path", "0"}
	case FormatMatroska:
		args = []string{"-f", "matroska"}
	default:
		return nil, &Error{Class: ClassEnvironment, Reason: ReasonFailed, Detail: fmt.Sprintf("unknown input format %q", in.Format)}
	}
	// The format whitelist is inherited by anything the demuxer would open
	// inside it, so no nested format can be opened even if one tried.
	args = append(args, "-format_whitelist", in.Format, "-protocol_whitelist", protocols)
	if in.isURL() {
		// Each seek is a new ranged request; a dropped connection is retried.
		args = append(args, "-reconnect", "1", "-reconnect_on_network_error", "1", "-reconnect_delay_max", "10")
	}
	return args, nil
}
