// Package transcode turns one source video into the rendition ladder with a
// single FFmpeg process that decodes once and encodes every rung.
package transcode

import (
	"bytes"
	"context"
	"encoding/json"
	"math"
	"os/exec"
	"strconv"
	"strings"
)

// Source describes the input as the renditions will see it.
type Source struct {
	// Width and Height are the displayed size: rotation and non-square
	// pixels applied.
	Width, Height int
	// Duration is in seconds (0 if unknown).
	Duration float64
	HasAudio bool
	// HDR is set for PQ and HLG sources, which are tone-mapped to SDR.
	HDR      bool
	PixFmt   string
	Codec    string
	Rotation int
	// FrameRate is the frame rate of a constant-rate source (0 if unknown
	// or variable: its average would understate its peak).
	FrameRate float64
}

type probeOut struct {
	Streams []struct {
		CodecType         string `json:"codec_type"`
		CodecName         string `json:"codec_name"`
		Width             int    `json:"width"`
		Height            int    `json:"height"`
		SampleAspectRatio string `json:"sample_aspect_ratio"`
		PixFmt            string `json:"pix_fmt"`
		ColorTransfer     string `json:"color_transfer"`
		Duration          string `json:"duration"`
		AvgFrameRate      string `json:"avg_frame_rate"`
		RFrameRate        string `json:"r_frame_rate"`
		Tags              struct {
			Rotate string `json:"rotate"`
		} `json:"tags"`
		SideData []struct {
			Rotation float64 `json:"rotation"`
		} `json:"side_data_list"`
		Disposition struct {
			AttachedPic int `json:"attached_pic"`
		} `json:"disposition"`
	} `json:"streams"`
	Format struct {
		Duration string `json:"duration"`
	} `json:"format"`
}

// Probe reads the source's streams with ffprobe.
func Probe(ctx context.Context, ffprobe string, in Input) (Source, error) {
	inArgs, err := in.args()
	if err != nil {
		return Source{}, err
	}
	args := append([]string{"-v", "error", "-print_format", "json", "-show_format", "-show_streams"}, inArgs...)
	cmd := exec.CommandContext(ctx, ffprobe, append(args, in.Location)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			return Source{}, ctx.Err()
		}
		return Source{}, classify("ffprobe", err, stderr.String())
	}
	var out probeOut
	if err := json.Unmarshal(stdout.Bytes(), &out); err != nil {
		return Source{}, &Error{Class: ClassInput, Reason: ReasonUnreadable, Detail: "ffprobe output: " + err.Error(), Err: err}
	}
	var src Source
	found := false
	for _, s := range out.Streams {
		switch {
		case s.CodecType == "video" && s.Disposition.AttachedPic == 0 && !found:
			found = true
			src.Codec, src.PixFmt = s.CodecName, s.PixFmt
			src.HDR = s.ColorTransfer == "smpte2084" || s.ColorTransfer == "arib-std-b67"
			w, h := float64(s.Width), float64(s.Height)
			if num, den, ok := ratio(s.SampleAspectRatio); ok && num > 0 && den > 0 {
				w = w * float64(num) / float64(den)
			}
			rot := 0
			if r, err := strconv.Atoi(s.Tags.Rotate); err == nil {
				rot = r
			}
			for _, sd := range s.SideData {
				if sd.Rotation != 0 {
					rot = int(math.Round(sd.Rotation))
				}
			}
			src.Rotation = ((rot % 360) + 360) % 360
			if src.Rotation == 90 || src.Rotation == 270 {
				w, h = h, w
			}
			src.Width, src.Height = int(math.Round(w)), int(math.Round(h))
			if d, err := strconv.ParseFloat(s.Duration, 64); err == nil {
				src.Duration = d
			}
			avg, base := rate(s.AvgFrameRate), rate(s.RFrameRate)
			if avg > 0 && math.Abs(avg-base) <= 0.01*avg {
				src.FrameRate = avg
			}
		case s.CodecType == "audio":
			src.HasAudio = true
		}
	}
	if !found {
		if src.HasAudio {
			return Source{}, badInput("the file has no video stream (audio only)")
		}
		return Source{}, badInput("the file has no video stream")
	}
	if src.Width < 16 || src.Height < 16 {
		return Source{}, badInput("the video is too small (%dx%d)", src.Width, src.Height)
	}
	if d, err := strconv.ParseFloat(out.Format.Duration, 64); err == nil && d > 0 {
		src.Duration = d
	}
	return src, nil
}

func ratio(s string) (int, int, bool) { return split(s, ":") }

// rate reads a frame rate such as "30000/1001" (0 if it is not one).
func rate(s string) float64 {
	num, den, ok := split(s, "/")
	if !ok || num <= 0 || den <= 0 {
		return 0
	}
	return float64(num) / float64(den)
}

func split(s, sep string) (int, int, bool) {
	a, b, ok := strings.Cut(s, sep)
	if !ok {
		return 0, 0, false
	}
	n, err1 := strconv.Atoi(a)
	d, err2 := strconv.Atoi(b)
	return n, d, err1 == nil && err2 == nil
}
