package video

import (
	"strings"
	"testing"
)

func TestSniff(t *testing.T) {
	box := func(size byte, typ, brand string) []byte {
		b := append([]byte{0, 0, 0, size}, typ+brand+"\x00\x00\x02\x00"+strings.Repeat("x", 48)...)
		return b
	}
	ebml := func(doctype string) []byte {
		return append([]byte{0x1A, 0x45, 0xDF, 0xA3, 0x9F, 0x42, 0x86, 0x81, 0x01, 0x42, 0x82, 0x84}, doctype+"\x42\x87\x81\x04"...)
	}
	cases := []struct {
		name string
		head []byte
		want string // "" for rejected
	}{
		{"mp4 isom", box(0x18, "ftyp", "isom"), "mp4"},
		{"mp4 mp42", box(0x20, "ftyp", "mp42"), "mp4"},
		{"mov ftyp qt", box(0x14, "ftyp", "qt  "), "mov"},
		{"old mov moov first", box(0x6c, "moov", "mvhd"), "mov"},
		{"old mov wide first", box(0x08, "wide", "...."), "mov"},
		{"webm", ebml("webm"), "webm"},
		{"mkv", ebml("matroska"), "mkv"},
		{"heic image", box(0x18, "ftyp", "heic"), ""},
		{"avif image", box(0x1c, "ftyp", "avif"), ""},
		{"m4a audio", box(0x1c, "ftyp", "M4A "), ""},
		{"ebml without doctype", []byte{0x1A, 0x45, 0xDF, 0xA3, 0x80}, ""},
		{"png", []byte("\x89PNG\r\n\x1a\n0000000000000"), ""},
		{"text", []byte("hello, this is not a video at all"), ""},
		{"too short", []byte("ftyp"), ""},
		{"empty", nil, ""},
	}
	for _, c := range cases {
		got, ok := Sniff(c.head)
		if (c.want == "" && ok) || (c.want != "" && (!ok || got.Name != c.want)) {
			t.Errorf("%s: got %q %v, want %q", c.name, got.Name, ok, c.want)
		}
	}
}

func TestValidID(t *testing.T) {
	id := NewID()
	for in, want := range map[string]bool{
		id: true, strings.ToUpper(id): false, "{" + id + "}": false, "urn:uuid:" + id: false,
		strings.ReplaceAll(id, "-", ""): false, "": false, "../x": false,
	} {
		if got := ValidID(in); got != want {
			t.Errorf("ValidID(%q): got %v, want %v", in, got, want)
		}
	}
}

func TestKeysStayInTheirPrefixes(t *testing.T) {
	id := NewID()
	if k := OriginalKey(id, ".mp4"); k != "originals/"+id+".mp4" {
		t.Errorf("OriginalKey: %s", k)
	}
	if k := RenditionKey(id, 12, "720p"); k != "videos/"+id+"/a12/720p.mp4" {
		t.Errorf("RenditionKey: %s", k)
	}
	if k := PosterKey(id, 1); k != "videos/"+id+"/a1/poster.jpg" {
		t.Errorf("PosterKey: %s", k)
	}
	for _, k := range []string{MetaKey(id), RenditionKey(id, 3, "360p"), PosterKey(id, 3)} {
		if !strings.HasPrefix(k, Prefix(id)) {
			t.Errorf("%s is not under Prefix %s", k, Prefix(id))
		}
	}
	if k := RenditionKey(id, 3, "360p"); !strings.HasPrefix(k, AttemptPrefix(id, 3)) || strings.HasPrefix(k, AttemptPrefix(id, 30)) {
		t.Errorf("RenditionKey %s: not under AttemptPrefix(3) alone", k)
	}
	if !strings.HasPrefix(OriginalKey(id, ".webm"), OriginalPrefix(id)) {
		t.Errorf("OriginalKey %s is not under OriginalPrefix", OriginalKey(id, ".webm"))
	}
}

func TestIDFromMetaKey(t *testing.T) {
	id := NewID()
	for _, c := range []struct {
		key    string
		want   string
		wantOK bool
	}{
		{MetaKey(id), id, true},
		{RenditionKey(id, 1, "360p"), "", false},
		{MetaPrefix + "x/meta.json", "", false},
		{MetaPrefix + id + "/a1/meta.json", "", false},
		{"jobs/" + id + "/meta.json", "", false},
	} {
		got, ok := IDFromMetaKey(c.key)
		if ok != c.wantOK || (ok && got != c.want) {
			t.Errorf("IDFromMetaKey(%q): got %q %v, want %q %v", c.key, got, ok, c.want, c.wantOK)
		}
	}
}

func TestQualities(t *testing.T) {
	for _, c := range []struct {
		in    string
		ok    bool
		short int
	}{
		{"360p", true, 360}, {"720p", true, 720}, {"1080p", true, 1080}, {"240p", true, 240}, {"100p", true, 100},
		{"4k", false, 0}, {"720P", false, 0}, {"p", false, 0}, {"0p", false, 0}, {"0360p", false, 0},
		{"-1p", false, 0}, {"1e3p", false, 0}, {"720", false, 0}, {"720pp", false, 0}, {"123456p", false, 0},
		{"", false, 0}, {"..", false, 0}, {"720p/..", false, 0},
	} {
		q, ok := ParseQuality(c.in)
		if ok != c.ok || (ok && string(q) != c.in) || Quality(c.in).Short() != c.short {
			t.Errorf("ParseQuality(%q): got %q %v (short %d), want ok %v (short %d)", c.in, q, ok, Quality(c.in).Short(), c.ok, c.short)
		}
	}
	if q := QualityOf(240); q != "240p" {
		t.Errorf("QualityOf(240): got %q, want 240p", q)
	}
	for _, r := range Ladder {
		if QualityOf(r.Short) != r.Quality {
			t.Errorf("ladder rung %s is not named by its short side %d", r.Quality, r.Short)
		}
	}
}

func TestValidHLSName(t *testing.T) {
	for _, tc := range []struct {
		name string
		want bool
	}{
		{"master.m3u8", true},
		{"360p.m3u8", true},
		{"1080p.mp4", true},
		{"240p/init.mp4", true},
		{"720p/0.m4s", true},
		{"720p/1234.m4s", true},
		{"720p/01.m4s", false},
		{"720p/-1.m4s", false},
		{"720p/.m4s", false},
		{"720p/init.m4s", false},
		{"720p/0.m4s/x", false},
		{"../meta.json", false},
		{"meta.json", false},
		{"poster.jpg", false},
		{"4k.m3u8", false},
		{"360p/../../meta.json", false},
		{"", false},
	} {
		if got := ValidHLSName(tc.name); got != tc.want {
			t.Errorf("ValidHLSName(%q) = %v, want %v", tc.name, got, tc.want)
		}
	}
	for _, n := range []string{MediaPlaylist("360p"), InitSegment("360p"), Segment("360p", 0), Segment("360p", 17), RenditionFile("360p")} {
		if !ValidHLSName(n) {
			t.Errorf("ValidHLSName(%q) = false for a name the layout makes", n)
		}
	}
}
