package video

import (
	"slices"
	"testing"
)

// FuzzSniff feeds Sniff arbitrary leading bytes: it must never panic, and
// whatever it accepts must be one of the containers the server stores.
func FuzzSniff(f *testing.F) {
	for _, seed := range [][]byte{
		nil,
		[]byte("\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2avc1mp41"),
		[]byte("\x00\x00\x00\x14ftypqt  \x00\x00\x02\x00qt  "),
		[]byte("\x00\x00\x00\x08wide\x00\x00\x00\x00mdat"),
		[]byte("\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x42\x82\x84webm\x42\x87\x81\x04"),
		[]byte("\x1a\x45\xdf\xa3\x9f\x42\x82\x88matroska"),
		[]byte("\xef\xbb\xbf<free:MPD xmlns:free=\"urn:mpeg:dash:schema:mpd:2011\">"),
		[]byte("\x00\x00\x00\x00ftyp"),
		[]byte("#EXTM3U\n#EXT-X-VERSION:3\n"),
		append(append([]byte("\x1a\x45\xdf\xa3"), make([]byte, 80)...), "webm"...),
	} {
		f.Add(seed)
	}
	known := []Container{MP4, MOV, WebM, MKV}
	f.Fuzz(func(t *testing.T, head []byte) {
		c, ok := Sniff(head)
		if ok && !slices.Contains(known, c) {
			t.Fatalf("Sniff(%q) = %+v, not a known container", head, c)
		}
		if !ok && c != (Container{}) {
			t.Fatalf("Sniff(%q) rejected the file but returned %+v", head, c)
		}
		// Bytes past SniffLen never change the answer: the server only
		// looks at the first SniffLen bytes.
		if len(head) > SniffLen {
			c2, ok2 := Sniff(head[:SniffLen])
			if c2 != c || ok2 != ok {
				t.Fatalf("Sniff depends on bytes past SniffLen: %+v %v vs %+v %v", c, ok, c2, ok2)
			}
		}
	})
}
