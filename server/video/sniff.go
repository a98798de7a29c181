package video

import (
	"bytes"
	"encoding/binary"
)

// SniffLen is how many leading bytes Sniff wants to see.
const SniffLen = 64

// Container is a recognised video container.
type Container struct {
	Name        string // "mp4", "mov", "webm", "mkv"
	ContentType string
	Ext         string
}

var (
	MP4  = Container{"mp4", "video/mp4", ".mp4"}
	MOV  = Container{"mov", "video/quicktime", ".mov"}
	WebM = Container{"webm", "video/webm", ".webm"}
	MKV  = Container{"mkv", "video/x-matroska", ".mkv"}
)

// Containers are those Sniff recognises: the uploads the server accepts.
var Containers = []Container{MP4, MOV, WebM, MKV}

// ISO base media brands that are images or audio, not video.
var nonVideoBrands = map[string]bool{
	"heic": true, "heix": true, "heim": true, "heis": true, "hevc": true, "hevx": true,
	"mif1": true, "msf1": true, "avif": true, "avis": true, "jpx ": true, "jp2 ": true,
	"M4A ": true, "M4B ": true, "M4P ": true, "F4A ": true, "F4B ": true,
}

// Sniff recognises a video container from its first bytes: an ISO base media
// (MP4, MOV) file from its leading ftyp box (or, for old QuickTime files, a
// leading moov/mdat/wide/free/skip atom), a WebM or Matroska file from its EBML
// header. It returns false for anything else. Only the first SniffLen bytes
// count, so that the answer is the same however much the caller has read.
func Sniff(head []byte) (Container, bool) {
	head = head[:min(len(head), SniffLen)]
	if len(head) >= 12 {
		size := binary.BigEndian.Uint32(head[0:4])
		box := string(head[4:8])
		switch box {
		case "ftyp":
			if size < 16 && size != 0 {
				return Container{}, false
			}
			brand := string(head[8:12])
			if nonVideoBrands[brand] {
				return Container{}, false
			}
			if brand == "qt  " {
				return MOV, true
			}
			return MP4, true
		case "moov", "mdat", "wide", "free", "skip", "pnot":
			if size >= 8 || size == 1 {
				return MOV, true
			}
		}
	}
	if len(head) >= 4 && bytes.Equal(head[:4], []byte{0x1A, 0x45, 0xDF, 0xA3}) {
		// The EBML header names the DocType within its first few dozen bytes.
		if bytes.Contains(head, []byte("webm")) {
			return WebM, true
		}
		if bytes.Contains(head, []byte("matroska")) {
			return MKV, true
		}
	}
	return Container{}, false
}
