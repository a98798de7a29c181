// Package hls reads the playlists FFmpeg writes for one fragmented MP4 per
// rendition (hls_flags single_file) and writes the ones viewers get: EVENT
// playlists over separate segment objects while a transcode runs, VOD
// playlists of byte ranges into the finished file after, and the master.
package hls

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Range is a byte range of a rendition's file.
type Range struct{ Offset, Length int64 }

// End is the offset just past the range.
func (r Range) End() int64 { return r.Offset + r.Length }

// Segment is one media segment: its duration and where it is in the file.
type Segment struct {
	Duration float64
	Range
}

// Media is a rendition's stream as FFmpeg listed it.
type Media struct {
	Init     Range
	Segments []Segment
	// Ended is set once FFmpeg has written the whole stream.
	Ended bool
}

// Duration is the sum of the segments' durations.
func (m Media) Duration() float64 {
	var d float64
	for _, s := range m.Segments {
		d += s.Duration
	}
	return d
}

var errNoInit = errors.New("playlist has no EXT-X-MAP byte range")

// ParseSingleFile reads a media playlist FFmpeg is writing with hls_flags
// single_file. Only entries that are complete count: FFmpeg may be halfway
// through rewriting the file, so an entry counts once its URI line has
// ended with a newline.
func ParseSingleFile(b []byte) (Media, error) {
	var m Media
	haveInit := false
	var dur float64
	var rng Range
	pending := false
	for len(b) > 0 {
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			break // a line still being written
		}
		line := strings.TrimRight(string(b[:i]), "\r")
		b = b[i+1:]
		switch {
		case strings.HasPrefix(line, "#EXT-X-MAP:"):
			r, ok := attr(line, "BYTERANGE")
			if !ok {
				return m, errNoInit
			}
			var err error
			if m.Init, err = parseRange(r); err != nil {
				return m, err
			}
			haveInit = true
		case strings.HasPrefix(line, "#EXTINF:"):
			v, _, _ := strings.Cut(strings.TrimPrefix(line, "#EXTINF:"), ",")
			d, err := strconv.ParseFloat(v, 64)
			if err != nil || d < 0 || math.IsInf(d, 0) || math.IsNaN(d) {
				return m, fmt.Errorf("bad EXTINF %q", line)
			}
			dur, pending = d, true
		case strings.HasPrefix(line, "#EXT-X-BYTERANGE:"):
			r, err := parseRange(strings.TrimPrefix(line, "#EXT-X-BYTERANGE:"))
			if err != nil {
				return m, err
			}
			rng = r
		case line == "#EXT-X-ENDLIST":
			m.Ended = true
		case line != "" && !strings.HasPrefix(line, "#"):
			if !pending || rng.Length == 0 {
				return m, fmt.Errorf("segment %q without duration or byte range", line)
			}
			m.Segments = append(m.Segments, Segment{Duration: dur, Range: rng})
			pending, rng = false, Range{}
		}
	}
	if !haveInit && len(m.Segments) > 0 {
		return m, errNoInit
	}
	return m, nil
}

// parseRange reads "length@offset".
func parseRange(s string) (Range, error) {
	l, o, ok := strings.Cut(strings.TrimSpace(s), "@")
	n, err1 := strconv.ParseInt(l, 10, 64)
	off, err2 := strconv.ParseInt(o, 10, 64)
	if !ok || err1 != nil || err2 != nil || n <= 0 || off < 0 {
		return Range{}, fmt.Errorf("bad byte range %q", s)
	}
	return Range{Offset: off, Length: n}, nil
}

// attr returns the value of attribute name in a tag's attribute list.
func attr(line, name string) (string, bool) {
	_, list, _ := strings.Cut(line, ":")
	for list != "" {
		var k, v string
		k, list, _ = strings.Cut(list, "=")
		if strings.HasPrefix(list, `"`) {
			end := strings.IndexByte(list[1:], '"')
			if end < 0 {
				return "", false
			}
			v, list = list[1:end+1], strings.TrimPrefix(list[end+2:], ",")
		} else {
			v, list, _ = strings.Cut(list, ",")
		}
		if strings.TrimSpace(k) == name {
			return v, true
		}
	}
	return "", false
}

// targetDuration is the EXT-X-TARGETDURATION for segments: each rounded
// duration must not exceed it.
func targetDuration(segs []Segment, least int) int {
	t := least
	for _, s := range segs {
		t = max(t, int(math.Round(s.Duration)))
	}
	return t
}

// header writes the tags every media playlist starts with.
func header(w *bytes.Buffer, kind string, target int) {
	fmt.Fprintf(w, "#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-TARGETDURATION:%d\n#EXT-X-MEDIA-SEQUENCE:0\n#EXT-X-PLAYLIST-TYPE:%s\n#EXT-X-INDEPENDENT-SEGMENTS\n", target, kind)
}

// Event is the EVENT playlist of the first n segments of m, published as
// separate objects: the init segment at initURI and segment i at
// segURI(i), each relative to the playlist. target is the least
// EXT-X-TARGETDURATION to announce (the segment length asked of FFmpeg), so
// that it does not change as segments arrive.
func (m Media) Event(n int, target int, initURI string, segURI func(int) string) []byte {
	var w bytes.Buffer
	segs := m.Segments[:n]
	header(&w, "EVENT", targetDuration(segs, target))
	fmt.Fprintf(&w, "#EXT-X-MAP:URI=%q\n", initURI)
	for i, s := range segs {
		fmt.Fprintf(&w, "#EXTINF:%.6f,\n%s\n", s.Duration, segURI(i))
	}
	return w.Bytes()
}

// VOD is the finished playlist of m: byte ranges into the one file at uri.
func (m Media) VOD(target int, uri string) []byte {
	var w bytes.Buffer
	header(&w, "VOD", targetDuration(m.Segments, target))
	fmt.Fprintf(&w, "#EXT-X-MAP:URI=%q,BYTERANGE=\"%d@%d\"\n", uri, m.Init.Length, m.Init.Offset)
	for _, s := range m.Segments {
		fmt.Fprintf(&w, "#EXTINF:%.6f,\n#EXT-X-BYTERANGE:%d@%d\n%s\n", s.Duration, s.Length, s.Offset, uri)
	}
	w.WriteString("#EXT-X-ENDLIST\n")
	return w.Bytes()
}

// Bitrates are the peak and average bitrates of m's segments, in bits per
// second. A last segment much shorter than the others is left out of the
// peak, where its few bytes over a short time would overstate it.
func (m Media) Bitrates() (peak, average int64) {
	var size int64
	var dur float64
	for i, s := range m.Segments {
		size += s.Length
		dur += s.Duration
		if s.Duration <= 0 || (i == len(m.Segments)-1 && i > 0 && s.Duration < 0.5) {
			continue
		}
		peak = max(peak, int64(math.Ceil(float64(s.Length*8)/s.Duration)))
	}
	if dur > 0 {
		average = int64(math.Ceil(float64(size*8) / dur))
	}
	return max(peak, average), average
}

// Variant is one entry of the master playlist.
type Variant struct {
	URI string
	// Bandwidth is the peak bitrate, AverageBandwidth the average, in
	// bits per second, of video and audio together.
	Bandwidth, AverageBandwidth int64
	Width, Height               int
	Codecs                      string
	// FrameRate is left out when 0.
	FrameRate float64
}

// Master is the master playlist of the variants, in the order given.
func Master(vs []Variant) []byte {
	var w bytes.Buffer
	w.WriteString("#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-INDEPENDENT-SEGMENTS\n")
	for _, v := range vs {
		fmt.Fprintf(&w, "#EXT-X-STREAM-INF:BANDWIDTH=%d", v.Bandwidth)
		if v.AverageBandwidth > 0 {
			fmt.Fprintf(&w, ",AVERAGE-BANDWIDTH=%d", v.AverageBandwidth)
		}
		fmt.Fprintf(&w, ",RESOLUTION=%dx%d", v.Width, v.Height)
		if v.Codecs != "" {
			fmt.Fprintf(&w, ",CODECS=%q", v.Codecs)
		}
		if v.FrameRate > 0 {
			fmt.Fprintf(&w, ",FRAME-RATE=%.3f", v.FrameRate)
		}
		fmt.Fprintf(&w, "\n%s\n", v.URI)
	}
	return w.Bytes()
}

// Codecs is the CODECS value for an init segment: its H.264 profile and level
// read from the avcC box, and AAC-LC if it has audio.
func Codecs(init []byte) (string, error) {
	var codecs []string
	i := bytes.Index(init, []byte("avcC"))
	if i < 0 || len(init) < i+8 {
		return "", errors.New("no avcC box in the init segment")
	}
	c := init[i+4:]
	if c[0] != 1 {
		return "", fmt.Errorf("avcC version %d", c[0])
	}
	codecs = append(codecs, fmt.Sprintf("avc1.%02x%02x%02x", c[1], c[2], c[3]))
	if bytes.Contains(init, []byte("mp4a")) {
		codecs = append(codecs, "mp4a.40.2")
	}
	return strings.Join(codecs, ","), nil
}
