package worker

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/assetlab/assetlab/server/storage"
	"github.com/assetlab/assetlab/server/video"
	"github.com/assetlab/assetlab/worker/transcode"
)

// flakyStore fails the Puts of keys for which fail says so.
type flakyStore struct {
	storage.Store
	mu   sync.Mutex
	fail func(key string) bool
}

func (f *flakyStore) Put(ctx context.Context, key string, r io.Reader, contentType string) (storage.Info, error) {
	f.mu.Lock()
	fail := f.fail != nil && f.fail(key)
	f.mu.Unlock()
	if fail {
		return storage.Info{}, errors.New("storage is down")
	}
	return f.Store.Put(ctx, key, r, contentType)
}

func (f *flakyStore) failing(fail func(key string) bool) {
	f.mu.Lock()
	f.fail = fail
	f.mu.Unlock()
}

// fakeOutput is what FFmpeg writes for one rendition: an init segment and
// segments of 1000 bytes, 2 s each, in one file, and its playlist listing
// the first n of them.
type fakeOutput struct {
	transcode.Output
	init []byte
}

func newFakeOutput(t *testing.T, dir string) *fakeOutput {
	o := &fakeOutput{Output: transcode.Output{Rung: video.Ladder[0], Width: 640, Height: 360,
		Path: filepath.Join(dir, "360p.mp4"), Playlist: filepath.Join(dir, "360p.m3u8")}}
	o.init = []byte("....moov....avcC\x01\x64\x00\x1e\xff....mp4a....")
	return o
}

// write writes the file with segments segments and a playlist listing
// listed of them.
func (o *fakeOutput) write(t *testing.T, segments, listed int, ended bool) {
	t.Helper()
	data := append([]byte{}, o.init...)
	for i := range segments {
		data = append(data, []byte(strings.Repeat(string(rune('a'+i)), 1000))...)
	}
	if err := os.WriteFile(o.Path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	var pl strings.Builder
	fmt.Fprintf(&pl, "#EXTM3U\n#EXT-X-MAP:URI=\"360p.mp4\",BYTERANGE=\"%d@0\"\n", len(o.init))
	for i := range listed {
		fmt.Fprintf(&pl, "#EXTINF:2.000000,\n#EXT-X-BYTERANGE:1000@%d\n360p.mp4\n", len(o.init)+1000*i)
	}
	if ended {
		pl.WriteString("#EXT-X-ENDLIST\n")
	}
	if err := os.WriteFile(o.Playlist, []byte(pl.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	o.Size = int64(len(data))
}

// The published stream never names what is not stored, whatever fails and
// whatever FFmpeg's playlist says.
func TestStreamPublishing(t *testing.T) {
	ctx := context.Background()
	local, err := storage.NewLocal("videos", t.TempDir(), []byte("0123456789abcdef0123456789abcdef"), "http://127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	store := &flakyStore{Store: local}
	id := video.NewID()
	o := newFakeOutput(t, t.TempDir())
	var reported []float64
	st := newStream(store, id, 1, transcode.Source{Width: 640, Height: 360, HasAudio: true, FrameRate: 25}, []transcode.Output{o.Output},
		func(s float64) { reported = append(reported, s) })
	has := func(name string) bool {
		_, err := store.Stat(ctx, video.HLSKey(id, 1, name))
		return err == nil
	}
	playlist := func() string {
		b, err := storage.ReadAll(ctx, store, video.HLSKey(id, 1, video.MediaPlaylist("360p")))
		if err != nil {
			return ""
		}
		return string(b)
	}

	// Nothing written by FFmpeg yet: nothing to do.
	if err := st.sync(ctx); err != nil || has(video.MasterPlaylist) {
		t.Fatalf("sync before FFmpeg wrote anything: %v, master %v", err, has(video.MasterPlaylist))
	}

	// The segment is stored, its playlist is not: no master, nothing playable.
	o.write(t, 1, 1, false)
	store.failing(func(key string) bool { return strings.HasSuffix(key, "360p.m3u8") })
	if err := st.sync(ctx); err == nil {
		t.Fatal("sync succeeded with the playlist refused")
	}
	if !has(video.Segment("360p", 0)) || has(video.MasterPlaylist) || len(reported) > 0 {
		t.Fatalf("segment stored %v, master %v, reported %v: want the segment only", has(video.Segment("360p", 0)), has(video.MasterPlaylist), reported)
	}
	// Storage is back, FFmpeg has nothing new: the playlist goes out now.
	store.failing(nil)
	if err := st.sync(ctx); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(playlist(), "360p/0.m4s") || !has(video.MasterPlaylist) || len(reported) != 1 || reported[0] != 2 {
		t.Fatalf("after recovery: playlist %q, master %v, reported %v", playlist(), has(video.MasterPlaylist), reported)
	}

	// A playlist listing fewer segments than were stored is an error, not
	// a crash, and changes nothing.
	o.write(t, 1, 0, false)
	if err := st.sync(ctx); err == nil {
		t.Error("sync accepted a playlist that lost a segment")
	}
	// A playlist listing bytes the file does not have yet stores nothing.
	o.write(t, 1, 2, false)
	if err := st.sync(ctx); err == nil || has(video.Segment("360p", 1)) {
		t.Errorf("sync of a segment past the file's end: %v, stored %v", err, has(video.Segment("360p", 1)))
	}
	if strings.Contains(playlist(), "360p/1.m4s") {
		t.Errorf("the playlist names a segment not stored:\n%s", playlist())
	}

	// The end: one file, a VOD playlist of byte ranges, a measured master.
	o.write(t, 3, 3, true)
	separate, err := st.finish(ctx, []transcode.Output{o.Output})
	if err != nil {
		t.Fatal(err)
	}
	if pl := playlist(); !strings.Contains(pl, "#EXT-X-BYTERANGE:1000@") || !strings.Contains(pl, "#EXT-X-ENDLIST") || strings.Contains(pl, ".m4s") {
		t.Errorf("finished playlist:\n%s", pl)
	}
	if !has(video.RenditionFile("360p")) {
		t.Error("the rendition's file is not stored")
	}
	master, _ := storage.ReadAll(ctx, store, video.HLSKey(id, 1, video.MasterPlaylist))
	if !strings.Contains(string(master), "BANDWIDTH=4000,AVERAGE-BANDWIDTH=4000") || !strings.Contains(string(master), `CODECS="avc1.64001e,mp4a.40.2",FRAME-RATE=25.000`) {
		t.Errorf("finished master:\n%s", master)
	}
	if want := 4; len(separate) != want {
		t.Errorf("separate objects %v, want the init segment and 3 segments", separate)
	}
	for _, k := range separate {
		if _, err := store.Stat(ctx, k); err != nil {
			t.Errorf("separate object %s: %v", k, err)
		}
	}
}
