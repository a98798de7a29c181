package hls

import (
	"strings"
	"testing"
)

// ffmpegPlaylist is what FFmpeg 5.1 writes with -hls_segment_type fmp4
// -hls_playlist_type event -hls_flags single_file, once it has ended.
const ffmpegPlaylist = `#EXTM3U
#EXT-X-VERSION:7
#EXT-X-TARGETDURATION:2
#EXT-X-MEDIA-SEQUENCE:0
#EXT-X-PLAYLIST-TYPE:EVENT
#EXT-X-INDEPENDENT-SEGMENTS
#EXT-X-MAP:URI="360p.mp4",BYTERANGE="1353@0"
#EXTINF:2.000000,
#EXT-X-BYTERANGE:92068@1353
360p.mp4
#EXTINF:2.000000,
#EXT-X-BYTERANGE:96364@93421
360p.mp4
#EXTINF:0.400000,
#EXT-X-BYTERANGE:10000@189785
360p.mp4
#EXT-X-ENDLIST
`

func TestParseSingleFile(t *testing.T) {
	m, err := ParseSingleFile([]byte(ffmpegPlaylist))
	if err != nil {
		t.Fatal(err)
	}
	if m.Init != (Range{0, 1353}) {
		t.Errorf("init = %+v, want 1353@0", m.Init)
	}
	want := []Segment{{2, Range{1353, 92068}}, {2, Range{93421, 96364}}, {0.4, Range{189785, 10000}}}
	if len(m.Segments) != len(want) {
		t.Fatalf("got %d segments, want %d", len(m.Segments), len(want))
	}
	for i := range want {
		if m.Segments[i] != want[i] {
			t.Errorf("segment %d = %+v, want %+v", i, m.Segments[i], want[i])
		}
	}
	if !m.Ended {
		t.Error("Ended = false for a playlist with EXT-X-ENDLIST")
	}
	if d := m.Duration(); d < 4.39 || d > 4.41 {
		t.Errorf("Duration = %v, want 4.4", d)
	}
}

// A playlist caught while FFmpeg rewrites it yields only its complete entries.
func TestParseSingleFileCutShort(t *testing.T) {
	for cut := 0; cut < len(ffmpegPlaylist); cut++ {
		m, err := ParseSingleFile([]byte(ffmpegPlaylist[:cut]))
		if err != nil {
			t.Fatalf("cut at %d: %v", cut, err)
		}
		full := strings.Count(ffmpegPlaylist[:cut], "\n360p.mp4\n")
		if len(m.Segments) != full {
			t.Fatalf("cut at %d: got %d segments, want %d", cut, len(m.Segments), full)
		}
		if m.Ended {
			t.Fatalf("cut at %d: Ended before EXT-X-ENDLIST", cut)
		}
	}
}

func TestParseSingleFileRefusesNonsense(t *testing.T) {
	for _, pl := range []string{
		"#EXTINF:2,\n360p.mp4\n", // no byte range
		"#EXT-X-MAP:URI=\"a.mp4\"\n#EXTINF:2,\n#EXT-X-BYTERANGE:10@0\na.mp4\n", // no init range
		"#EXT-X-MAP:URI=\"a.mp4\",BYTERANGE=\"10@0\"\n#EXTINF:x,\n",
		"#EXT-X-MAP:URI=\"a.mp4\",BYTERANGE=\"10@0\"\n#EXTINF:2,\n#EXT-X-BYTERANGE:-1@0\n",
	} {
		if _, err := ParseSingleFile([]byte(pl)); err == nil {
			t.Errorf("ParseSingleFile(%q) succeeded", pl)
		}
	}
}

func TestEventAndVOD(t *testing.T) {
	m, _ := ParseSingleFile([]byte(ffmpegPlaylist))
	ev := string(m.Event(2, 2, "360p/init.mp4", func(i int) string { return "360p/" + string(rune('0'+i)) + ".m4s" }))
	for _, want := range []string{"#EXT-X-PLAYLIST-TYPE:EVENT\n", "#EXT-X-TARGETDURATION:2\n", "#EXT-X-MAP:URI=\"360p/init.mp4\"\n", "#EXTINF:2.000000,\n360p/0.m4s\n#EXTINF:2.000000,\n360p/1.m4s\n"} {
		if !strings.Contains(ev, want) {
			t.Errorf("EVENT playlist lacks %q:\n%s", want, ev)
		}
	}
	if strings.Contains(ev, "ENDLIST") || strings.Contains(ev, "2.m4s") {
		t.Errorf("EVENT playlist of 2 segments lists more, or ends:\n%s", ev)
	}
	vod := string(m.VOD(2, "360p.mp4"))
	back, err := ParseSingleFile([]byte(vod))
	if err != nil {
		t.Fatal(err)
	}
	if !back.Ended || back.Init != m.Init || len(back.Segments) != 3 || back.Segments[2] != m.Segments[2] {
		t.Errorf("VOD playlist does not read back as the same stream:\n%s", vod)
	}
	if !strings.Contains(vod, "#EXT-X-PLAYLIST-TYPE:VOD\n") {
		t.Errorf("VOD playlist is not VOD:\n%s", vod)
	}
}

// A segment longer than the asked length raises the target duration.
func TestTargetDuration(t *testing.T) {
	if got := targetDuration([]Segment{{Duration: 2}, {Duration: 3.6}}, 2); got != 4 {
		t.Errorf("targetDuration = %d, want 4", got)
	}
	if got := targetDuration(nil, 2); got != 2 {
		t.Errorf("targetDuration of nothing = %d, want 2", got)
	}
}

func TestBitrates(t *testing.T) {
	m := Media{Segments: []Segment{
		{2, Range{0, 100_000}},  // 400 kb/s
		{2, Range{0, 250_000}},  // 1 Mb/s
		{0.1, Range{0, 50_000}}, // short tail: 4 Mb/s, not a peak
	}}
	peak, avg := m.Bitrates()
	if peak != 1_000_000 {
		t.Errorf("peak = %d, want 1000000", peak)
	}
	if want := int64(780_488); avg != want {
		t.Errorf("average = %d, want %d", avg, want)
	}
}

func TestMaster(t *testing.T) {
	got := string(Master([]Variant{
		{URI: "360p.m3u8", Bandwidth: 900000, AverageBandwidth: 600000, Width: 640, Height: 360, Codecs: "avc1.64001e,mp4a.40.2", FrameRate: 30},
		{URI: "720p.m3u8", Bandwidth: 3000000, Width: 1280, Height: 720, Codecs: "avc1.64001f"},
	}))
	want := "#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-INDEPENDENT-SEGMENTS\n" +
		"#EXT-X-STREAM-INF:BANDWIDTH=900000,AVERAGE-BANDWIDTH=600000,RESOLUTION=640x360,CODECS=\"avc1.64001e,mp4a.40.2\",FRAME-RATE=30.000\n360p.m3u8\n" +
		"#EXT-X-STREAM-INF:BANDWIDTH=3000000,RESOLUTION=1280x720,CODECS=\"avc1.64001f\"\n720p.m3u8\n"
	if got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

func TestCodecs(t *testing.T) {
	init := []byte("....moov....avc1....avcC\x01\x64\x00\x1f\xff....mp4a....")
	if got, err := Codecs(init); err != nil || got != "avc1.64001f,mp4a.40.2" {
		t.Errorf("Codecs = %q, %v; want avc1.64001f,mp4a.40.2", got, err)
	}
	if got, err := Codecs([]byte("....avcC\x01\x4d\x40\x1e\xff")); err != nil || got != "avc1.4d401e" {
		t.Errorf("Codecs without audio = %q, %v; want avc1.4d401e", got, err)
	}
	if _, err := Codecs([]byte("no video here")); err == nil {
		t.Error("Codecs of an init without avcC succeeded")
	}
}
