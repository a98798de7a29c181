// Package mediatest makes test clips with FFmpeg (lavfi testsrc2 and sine, no
// committed media) and reads back what a rendition holds with ffprobe.
package mediatest

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// Clip describes a generated test clip.
type Clip struct {
	Width, Height int
	Seconds       float64
	FPS           int
	Audio         bool
	// Container is mp4 (default), mov, webm or mkv.
	Container string
	// VideoArgs replace the default video encoder arguments (libx264).
	VideoArgs []string
	// Extra are more output arguments (metadata, SAR, ...).
	Extra []string
	// AudioOnly makes an audio-only file.
	AudioOnly bool
	// Rotate sets the display rotation (degrees), as phones do for portrait video.
	Rotate int
}

var (
	cacheMu  sync.Mutex
	cacheDir string
)

// Cleanup removes the clips made so far; call it from TestMain.
func Cleanup() {
	cacheMu.Lock()
	defer cacheMu.Unlock()
	if cacheDir != "" {
		os.RemoveAll(cacheDir)
		cacheDir = ""
	}
}

// Make generates the clip (once per process for equal specs) and returns its path.
func Make(t testing.TB, c Clip) string {
	t.Helper()
	c = withDefaults(c)
	cacheMu.Lock()
	defer cacheMu.Unlock()
	if cacheDir == "" {
		d, err := os.MkdirTemp("", "assetlab-clips-")
		if err != nil {
			t.Fatal(err)
		}
		cacheDir = d
	}
	sum := sha256.Sum256(fmt.Appendf(nil, "%+v", c))
	path := filepath.Join(cacheDir, hex.EncodeToString(sum[:8])+"."+c.Container)
	if _, err := os.Stat(path); err == nil {
		return path
	}
	render(t, c, path)
	return path
}

// MakeNamed generates the clip as a file called name in a temporary folder
// of the test, for a test where the file's name shows. It is not cached.
func MakeNamed(t testing.TB, c Clip, name string) string {
	t.Helper()
	c = withDefaults(c)
	path := filepath.Join(t.TempDir(), name)
	render(t, c, path)
	return path
}

func withDefaults(c Clip) Clip {
	if c.FPS == 0 {
		c.FPS = 25
	}
	if c.Seconds == 0 {
		c.Seconds = 2
	}
	if c.Container == "" {
		c.Container = "mp4"
	}
	return c
}

// render runs FFmpeg to write the clip c to path.
func render(t testing.TB, c Clip, path string) {
	t.Helper()
	dur := strconv.FormatFloat(c.Seconds, 'f', 3, 64)
	args := []string{"-hide_banner", "-loglevel", "error", "-y"}
	if !c.AudioOnly {
		args = append(args, "-f", "lavfi", "-i", fmt.Sprintf("testsrc2=size=%dx%d:rate=%d:duration=%s", c.Width, c.Height, c.FPS, dur))
	}
	if c.Audio || c.AudioOnly {
		args = append(args, "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000:duration="+dur)
	}
	if !c.AudioOnly {
		va := c.VideoArgs
		if va == nil {
			va = []string{"-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p"}
		}
		args = append(args, va...)
	}
	if c.Audio || c.AudioOnly {
		if c.Container == "webm" {
			args = append(args, "-c:a", "libopus")
		} else {
			args = append(args, "-c:a", "aac")
		}
	}
	args = append(args, c.Extra...)
	out := path
	if c.Rotate != 0 {
		out = path + ".norotate." + c.Container
	}
	args = append(args, out)
	if b, err := exec.Command("ffmpeg", args...).CombinedOutput(); err != nil {
		t.Fatalf("make clip %+v: %v\n%s", c, err, b)
	}
	if c.Rotate != 0 {
		// FFmpeg 5.1 writes the rotation only when it copies the stream.
		b, err := exec.Command("ffmpeg", "-hide_banner", "-loglevel", "error", "-y", "-i", out, "-c", "copy",
			"-metadata:s:v:0", "rotate="+strconv.Itoa(c.Rotate), path).CombinedOutput()
		if err != nil {
			t.Fatalf("rotate clip: %v\n%s", err, b)
		}
		os.Remove(out)
	}
}

// Info is what ffprobe says of a media file.
type Info struct {
	VideoCodec, Profile, PixFmt string
	Width, Height               int
	SAR                         string
	AudioCodec                  string
	AudioChannels               int
	Duration                    float64
	FormatName                  string
}

// Probe reads a file's first video and audio streams.
func Probe(t testing.TB, path string) Info {
	t.Helper()
	out, err := exec.Command("ffprobe", "-v", "error", "-print_format", "json", "-show_format", "-show_streams", path).Output()
	if err != nil {
		t.Fatalf("ffprobe %s: %v", path, err)
	}
	var raw struct {
		Streams []map[string]any `json:"streams"`
		Format  struct {
			Duration   string `json:"duration"`
			FormatName string `json:"format_name"`
		} `json:"format"`
	}
	if err := json.Unmarshal(out, &raw); err != nil {
		t.Fatalf("ffprobe %s: %v", path, err)
	}
	var info Info
	for _, s := range raw.Streams {
		str := func(k string) string { v, _ := s[k].(string); return v }
		num := func(k string) int { v, _ := s[k].(float64); return int(v) }
		switch str("codec_type") {
		case "video":
			if info.VideoCodec == "" {
				info.VideoCodec, info.Profile, info.PixFmt = str("codec_name"), str("profile"), str("pix_fmt")
				info.Width, info.Height, info.SAR = num("width"), num("height"), str("sample_aspect_ratio")
			}
		case "audio":
			if info.AudioCodec == "" {
				info.AudioCodec, info.AudioChannels = str("codec_name"), num("channels")
			}
		}
	}
	info.Duration, _ = strconv.ParseFloat(raw.Format.Duration, 64)
	info.FormatName = raw.Format.FormatName
	return info
}

// KeyframeTimes lists the times of a file's video keyframes.
func KeyframeTimes(t testing.TB, path string) []string {
	t.Helper()
	out, err := exec.Command("ffprobe", "-v", "error", "-select_streams", "v:0", "-skip_frame", "nokey",
		"-show_entries", "frame=pts_time", "-of", "csv=p=0", path).Output()
	if err != nil {
		t.Fatalf("ffprobe keyframes %s: %v", path, err)
	}
	return strings.Fields(string(out))
}

// DeclaredSizeMismatch makes a MOV whose video track declares 640x480 while
// every frame holds 320x240 (uncompressed 4:2:2): the file passes every
// check on its headers, and no frame of it can be decoded.
func DeclaredSizeMismatch(t testing.TB) string {
	t.Helper()
	src := Make(t, Clip{Width: 320, Height: 240, Seconds: 1, Container: "mov",
		VideoArgs: []string{"-c:v", "rawvideo", "-pix_fmt", "uyvy422"}})
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	// The visual sample entry follows the stsd box header (12 bytes); its
	// width and height are at offsets 32 and 34.
	i := bytes.Index(b, []byte("stsd"))
	if i < 4 || len(b) < i+12+36 || string(b[i+16:i+20]) != "2vuy" {
		t.Fatalf("%s: no 2vuy sample entry where expected", src)
	}
	e := i + 12
	binary.BigEndian.PutUint16(b[e+32:], 640)
	binary.BigEndian.PutUint16(b[e+34:], 480)
	out := strings.TrimSuffix(src, ".mov") + "-mismatch.mov"
	if err := os.WriteFile(out, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return out
}

// Shell is a file that the server accepts as a video container but that holds
// a playlist, a manifest or a list referring to other media.
type Shell struct {
	Name string
	Data []byte
}

// Shells returns files that refer to ref (a URL, or a file: reference) from
// inside an MP4, MOV or Matroska shell: DASH manifests (which FFmpeg, left to
// guess the format, opens as DASH and follows), HLS playlists and concat
// lists.
func Shells(ref string) []Shell {
	const (
		mp4 = "\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2"
		// Bytes 4-7 read "free", a QuickTime atom, and there is no NUL byte,
		// so FFmpeg's text probes see the rest.
		mov = "\xef\xbb\xbf<free"
		mkv = "\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x42\xf7\x81\x01\x42\xf2\x81\x04\x42\xf3\x81\x08\x42\x82\x88matroska\x42\x87\x81\x04\x42\x85\x81\x02"
	)
	hls := "\n#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:2\n#EXT-X-MEDIA-SEQUENCE:0\n#EXTINF:2.0,\n" + ref + "\n#EXT-X-ENDLIST\n"
	concat := "\nffconcat version 1.0\nfile '" + ref + "'\nduration 2\n"
	return []Shell{
		{"dash in mov", []byte(DashInMOV(ref))},
		{"dash as first reported", []byte("\xef\xbb\xbf" + `<free:MPD xmlns:free="urn:mpeg:dash:schema:mpd:2011" profiles="urn:mpeg:dash:profile:isoff-on-demand:2011" type="static" mediaPresentationDuration="PT10S" minBufferTime="PT1S"><Period><AdaptationSet mimeType="video/mp4"><Representation id="1" bandwidth="1000" width="1280" height="720" codecs="avc1.640028"><BaseURL>` +
			ref + `</BaseURL></Representation></AdaptationSet></Period></free:MPD>`)},
		{"hls in mp4", []byte(mp4 + hls)},
		{"hls in mov", []byte(mov + hls)},
		{"hls in mkv", []byte(mkv + hls)},
		{"concat in mp4", []byte(mp4 + concat)},
		{"concat in mov", []byte(mov + concat)},
		{"concat in mkv", []byte(mkv + concat)},
	}
}

// DashInMOV is a DASH manifest the server accepts as MOV and that FFmpeg 5.1,
// left to guess, opens as DASH (score 100 against MOV's 95), fetching its
// BaseURL: "<MPD" and a DASH profile in the first bytes, a root element named
// MPD.
func DashInMOV(baseURL string) string {
	return "\xef\xbb\xbf" + `<free:MPD xmlns:free="urn:mpeg:dash:schema:mpd:2011" profiles="urn:mpeg:dash:profile:isoff-on-demand:2011" type="static" mediaPresentationDuration="PT2S" minBufferTime="PT1S"><!--<MPD--><Period><AdaptationSet mimeType="video/mp4"><Representation id="1" bandwidth="1000" width="640" height="360" codecs="avc1.640028"><BaseURL>` +
		baseURL + `</BaseURL></Representation></AdaptationSet></Period></free:MPD>`
}
