package worker

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"

	"github.com/assetlab/assetlab/server/storage"
	"github.com/assetlab/assetlab/server/video"
	"github.com/assetlab/assetlab/worker/hls"
	"github.com/assetlab/assetlab/worker/transcode"
)

// stream publishes an attempt's HLS stream while FFmpeg writes it: each
// segment goes to storage as a separate object as soon as FFmpeg lists it,
// then the rendition's EVENT playlist that names it, and once every rendition
// has a segment, the master playlist. Viewers can start watching from then on.
// When FFmpeg has finished, finish stores each rendition as one file and
// turns the playlists into VOD playlists of byte ranges into it.
type stream struct {
	store storage.Store
	id    string
	n     int
	src   transcode.Source
	outs  []transcode.Output

	// Per rendition: the stream as FFmpeg last listed it, how many of its
	// segments are stored, how many of those its stored playlist names, and
	// its CODECS (read from its init segment).
	media  []hls.Media
	sent   []int
	listed []int
	codecs []string
	master bool

	// playable is called with the seconds published, each time they grow.
	playable func(seconds float64)
	reported float64
}

func newStream(s storage.Store, id string, n int, src transcode.Source, outs []transcode.Output, playable func(float64)) *stream {
	return &stream{
		store: s, id: id, n: n, src: src, outs: outs, playable: playable,
		media: make([]hls.Media, len(outs)), sent: make([]int, len(outs)), listed: make([]int, len(outs)),
		codecs: make([]string, len(outs)),
	}
}

// key is the storage key of name in this attempt's stream.
func (s *stream) key(name string) string { return video.HLSKey(s.id, s.n, name) }

// sync publishes the segments FFmpeg has finished since the last call. A
// rendition whose playlist FFmpeg has not written yet is skipped.
func (s *stream) sync(ctx context.Context) error {
	for i, o := range s.outs {
		b, err := os.ReadFile(o.Playlist)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return tempFailure("read the playlist", err)
		}
		m, err := hls.ParseSingleFile(b)
		if err == nil && len(m.Segments) < s.sent[i] {
			err = fmt.Errorf("it lists %d segments, after %d", len(m.Segments), s.sent[i])
		}
		if err != nil {
			return &transcode.Error{Class: transcode.ClassEnvironment, Reason: transcode.ReasonUnreadable,
				Detail: fmt.Sprintf("ffmpeg's %s playlist: %v", o.Rung.Quality, err), Err: err}
		}
		s.media[i] = m
		if err := s.publish(ctx, i); err != nil {
			return err
		}
	}
	if !s.master {
		for _, n := range s.listed {
			if n == 0 {
				return nil
			}
		}
		if err := s.put(ctx, video.MasterPlaylist, s.masterPlaylist(false), "application/vnd.apple.mpegurl"); err != nil {
			return err
		}
		s.master = true
	}
	// What every rendition has, from the start, is playable in any of them.
	seconds := math.Inf(1)
	for i := range s.outs {
		seconds = min(seconds, hls.Media{Segments: s.media[i].Segments[:s.listed[i]]}.Duration())
	}
	if seconds > s.reported {
		s.reported = seconds
		if s.playable != nil {
			s.playable(seconds)
		}
	}
	return nil
}

// publish uploads rendition i's new segments, then its playlist. A
// playlist that could not be stored is stored at the next call, even if no
// segment is new.
func (s *stream) publish(ctx context.Context, i int) error {
	o, m := s.outs[i], s.media[i]
	if len(m.Segments) == s.listed[i] {
		return nil
	}
	q := o.Rung.Quality
	if s.sent[i] < len(m.Segments) {
		if err := s.send(ctx, i); err != nil {
			return err
		}
	}
	pl := m.Event(s.sent[i], transcode.SegmentSeconds, video.InitSegment(q), func(j int) string { return video.Segment(q, j) })
	if err := s.put(ctx, video.MediaPlaylist(q), pl, "application/vnd.apple.mpegurl"); err != nil {
		return err
	}
	s.listed[i] = s.sent[i]
	return nil
}

// send uploads rendition i's segments that FFmpeg has listed and are not
// stored yet, and its init segment before the first.
func (s *stream) send(ctx context.Context, i int) error {
	o, m := s.outs[i], s.media[i]
	q := o.Rung.Quality
	f, err := os.Open(o.Path)
	if err != nil {
		return tempFailure("open "+string(q), err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return tempFailure("stat "+string(q), err)
	}
	if last := m.Segments[len(m.Segments)-1]; fi.Size() < last.End() {
		return &transcode.Error{Class: transcode.ClassEnvironment, Reason: transcode.ReasonUnreadable,
			Detail: fmt.Sprintf("ffmpeg lists %s up to byte %d of a %d-byte file", q, last.End(), fi.Size())}
	}
	if s.sent[i] == 0 {
		head := make([]byte, m.Init.Length)
		if _, err := f.ReadAt(head, m.Init.Offset); err != nil {
			return tempFailure("read the init segment of "+string(q), err)
		}
		if s.codecs[i], err = hls.Codecs(head); err != nil {
			return &transcode.Error{Class: transcode.ClassEnvironment, Reason: transcode.ReasonUnreadable,
				Detail: fmt.Sprintf("%s init segment: %v", q, err), Err: err}
		}
		if err := s.put(ctx, video.InitSegment(q), head, "video/mp4"); err != nil {
			return err
		}
	}
	for j := s.sent[i]; j < len(m.Segments); j++ {
		r := m.Segments[j].Range
		if _, err := s.store.Put(ctx, s.key(video.Segment(q, j)), io.NewSectionReader(f, r.Offset, r.Length), "video/iso.segment"); err != nil {
			return storageFailure("store a segment of "+string(q), err)
		}
		s.sent[i] = j + 1
	}
	return nil
}

// finish runs once FFmpeg has ended well, with its outputs (their sizes
// known): the last segments go out, each rendition is stored as one file,
// and the playlists become VOD playlists of byte ranges into it, with the
// master's bitrates measured. It returns the keys of the separate segment
// objects, which the playlists no longer name.
func (s *stream) finish(ctx context.Context, outs []transcode.Output) ([]string, error) {
	if err := s.sync(ctx); err != nil {
		return nil, err
	}
	for i, o := range outs {
		m := s.media[i]
		if !m.Ended || len(m.Segments) == 0 || m.Segments[len(m.Segments)-1].End() > o.Size {
			return nil, &transcode.Error{Class: transcode.ClassEnvironment, Reason: transcode.ReasonUnreadable,
				Detail: fmt.Sprintf("ffmpeg's %s stream is incomplete: %d segments, ended %v, %d bytes", o.Rung.Quality, len(m.Segments), m.Ended, o.Size)}
		}
		f, err := os.Open(o.Path)
		if err != nil {
			return nil, tempFailure("open "+string(o.Rung.Quality), err)
		}
		_, err = s.store.Put(ctx, video.RenditionKey(s.id, s.n, o.Rung.Quality), f, "video/mp4")
		f.Close()
		if err != nil {
			return nil, storageFailure("store "+string(o.Rung.Quality), err)
		}
	}
	var separate []string
	for i, o := range s.outs {
		q := o.Rung.Quality
		if err := s.put(ctx, video.MediaPlaylist(q), s.media[i].VOD(transcode.SegmentSeconds, video.RenditionFile(q)), "application/vnd.apple.mpegurl"); err != nil {
			return nil, err
		}
		separate = append(separate, s.key(video.InitSegment(q)))
		for j := range s.sent[i] {
			separate = append(separate, s.key(video.Segment(q, j)))
		}
	}
	if err := s.put(ctx, video.MasterPlaylist, s.masterPlaylist(true), "application/vnd.apple.mpegurl"); err != nil {
		return nil, err
	}
	return separate, nil
}

// masterPlaylist lists the renditions, smallest first, so that a player
// that starts at the first one starts fast. While the transcode runs, a
// rendition's bandwidth is its cap; measured says the segments are all
// there, and their peak and average bitrates are measured.
func (s *stream) masterPlaylist(measured bool) []byte {
	vs := make([]hls.Variant, len(s.outs))
	for i, o := range s.outs {
		v := hls.Variant{URI: video.MediaPlaylist(o.Rung.Quality), Width: o.Width, Height: o.Height, Codecs: s.codecs[i]}
		if s.src.FrameRate > 0 && s.src.FrameRate <= 240 {
			v.FrameRate = s.src.FrameRate
		}
		if measured {
			v.Bandwidth, v.AverageBandwidth = s.media[i].Bitrates()
		} else {
			capped := int64(o.Rung.MaxRate)
			if s.src.HasAudio {
				capped += int64(o.Rung.AudioRate)
			}
			// The container adds a few percent.
			v.Bandwidth = capped * 11 / 10
		}
		vs[i] = v
	}
	return hls.Master(vs)
}

func (s *stream) put(ctx context.Context, name string, b []byte, contentType string) error {
	if _, err := s.store.Put(ctx, s.key(name), bytes.NewReader(b), contentType); err != nil {
		return storageFailure("store "+name, err)
	}
	return nil
}
