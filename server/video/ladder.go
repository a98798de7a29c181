package video

import (
	"strconv"
	"strings"
)

// Quality names a rendition by the short side of its frame, in lines:
// "360p" for 640×360 (and for 360×640), "240p" for 426×240.
type Quality string

// QualityOf is the name of a rendition whose frame's short side is short.
func QualityOf(short int) Quality { return Quality(strconv.Itoa(short) + "p") }

// ParseQuality reads a rendition name: a whole number of lines followed by
// "p", such as "240p" or "1080p". Anything else (no digits, a leading zero,
// "4k", "720P") is not a quality.
func ParseQuality(s string) (Quality, bool) {
	digits, ok := strings.CutSuffix(s, "p")
	if !ok || len(digits) == 0 || len(digits) > 5 || digits[0] == '0' {
		return "", false
	}
	for _, c := range digits {
		if c < '0' || c > '9' {
			return "", false
		}
	}
	return Quality(s), true
}

// Short is the short side of the frame q names, in lines (0 if q is not a
// quality name).
func (q Quality) Short() int {
	if _, ok := ParseQuality(string(q)); !ok {
		return 0
	}
	n, _ := strconv.Atoi(string(q[:len(q)-1]))
	return n
}

// Rung is one rendition of the ladder.
type Rung struct {
	Quality Quality
	// Short is the length of the short side, in pixels.
	Short int
	// MaxRate and BufSize cap the video bitrate, in bits per second.
	MaxRate int
	BufSize int
	// AudioRate is the AAC bitrate in bits per second.
	AudioRate int
}

// Ladder lists the renditions from the smallest up.
var Ladder = []Rung{
	{Quality: "360p", Short: 360, MaxRate: 800_000, BufSize: 1_600_000, AudioRate: 96_000},
	{Quality: "720p", Short: 720, MaxRate: 2_800_000, BufSize: 5_600_000, AudioRate: 128_000},
	{Quality: "1080p", Short: 1080, MaxRate: 5_000_000, BufSize: 10_000_000, AudioRate: 160_000},
}
