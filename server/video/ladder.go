package video

// Quality names one rung of the rendition ladder, by the short side of the frame.
type Quality string

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

// ParseQuality returns the ladder rung named q.
func ParseQuality(q string) (Rung, bool) {
	for _, r := range Ladder {
		if string(r.Quality) == q {
			return r, true
		}
	}
	return Rung{}, false
}
