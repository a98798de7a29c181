package video

import (
	"strconv"
	"strings"
)

// HLS layout. Each attempt publishes its stream under its own prefix, so that
// a takeover never mixes its segments with a dead attempt's:
//
//	a{N}/master.m3u8     master playlist, one variant per rendition
//	a{N}/{q}.m3u8        media playlist of rendition q
//	a{N}/{q}/init.mp4    its init segment, while the transcode runs
//	a{N}/{q}/{n}.m4s     its segment n (0, 1, …), while the transcode runs
//	a{N}/{q}.mp4         the finished rendition: init and segments, one file
//
// While the transcode runs, a media playlist is an EVENT playlist over the
// separate segment objects; once it ends, a VOD playlist of byte ranges into
// {q}.mp4, and the separate objects go. Playlists name everything relative
// to themselves, so the API serves them as they are.

// MasterPlaylist is the name of an attempt's master playlist.
const MasterPlaylist = "master.m3u8"

// HLSKey is the key of name (one of the names above) in attempt n's stream.
func HLSKey(id string, attempt int, name string) string {
	return AttemptPrefix(id, attempt) + name
}

// MediaPlaylist is the name of rendition q's media playlist.
func MediaPlaylist(q Quality) string { return string(q) + ".m3u8" }

// InitSegment is the name of rendition q's init segment while it is separate.
func InitSegment(q Quality) string { return string(q) + "/init.mp4" }

// Segment is the name of rendition q's segment n while it is separate.
func Segment(q Quality, n int) string { return string(q) + "/" + strconv.Itoa(n) + ".m4s" }

// RenditionFile is the name of the finished rendition q in its attempt.
func RenditionFile(q Quality) string { return string(q) + ".mp4" }

// ValidHLSName reports whether name is one of the names of an attempt's
// stream. Only such names are turned into keys.
func ValidHLSName(name string) bool {
	if name == MasterPlaylist {
		return true
	}
	if q, rest, ok := strings.Cut(name, "/"); ok {
		if _, ok := ParseQuality(q); !ok {
			return false
		}
		if rest == "init.mp4" {
			return true
		}
		n, ok := strings.CutSuffix(rest, ".m4s")
		return ok && isIndex(n)
	}
	for _, ext := range []string{".m3u8", ".mp4"} {
		if q, ok := strings.CutSuffix(name, ext); ok {
			_, ok := ParseQuality(q)
			return ok
		}
	}
	return false
}

// isIndex reports whether s is a segment number: digits, no leading zero.
func isIndex(s string) bool {
	if s == "" || len(s) > 9 || (s[0] == '0' && len(s) > 1) {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}
