package worker_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/assetlab/assetlab/server/app/apptest"
	"github.com/assetlab/assetlab/server/jobs"
	"github.com/assetlab/assetlab/server/storage"
	"github.com/assetlab/assetlab/server/video"
	"github.com/assetlab/assetlab/worker/hls"
	"github.com/assetlab/assetlab/worker/mediatest"
)

// slowFFmpeg writes a wrapper that makes ffmpeg read its input at rate times
// real time, so that a test sees a transcode while it runs.
func slowFFmpeg(t *testing.T, rate float64) string {
	path := filepath.Join(t.TempDir(), "ffmpeg")
	ffmpeg := ffmpegProgram()
	script := fmt.Sprintf("#!/bin/sh\ncase \" $* \" in *\" -i \"*) exec %q -readrate %g \"$@\";; esac\nexec %q \"$@\"\n", ffmpeg, rate, ffmpeg)
	if err := os.WriteFile(path, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return path
}

func read(t *testing.T, s storage.Store, key string) []byte {
	t.Helper()
	b, err := storage.ReadAll(context.Background(), s, key)
	if err != nil {
		t.Fatalf("read %s: %v", key, err)
	}
	return b
}

// variants reads a master playlist: each variant's URI and attributes.
func variants(t *testing.T, master []byte) map[string]string {
	t.Helper()
	out := map[string]string{}
	lines := strings.Split(strings.TrimSpace(string(master)), "\n")
	for i, l := range lines {
		if strings.HasPrefix(l, "#EXT-X-STREAM-INF:") && i+1 < len(lines) {
			out[lines[i+1]] = strings.TrimPrefix(l, "#EXT-X-STREAM-INF:")
		}
	}
	return out
}

var bandwidthRe = regexp.MustCompile(`(?:^|,)BANDWIDTH=(\d+)`)

// A video is watchable while it is transcoded: each segment is published as
// FFmpeg finishes it, under EVENT playlists and a master naming every
// rendition, and the attempt says how much is playable. At the end the
// playlists are VOD playlists of byte ranges into one MP4 per rendition,
// the same bytes as the segments published, the separate segments go, and
// what is stored is one copy.
func TestStreamIsPublishedWhileTranscoding(t *testing.T) {
	clip := mediatest.Make(t, mediatest.Clip{Width: 1280, Height: 720, Seconds: 16, FPS: 30, Audio: true})
	for _, backend := range apptest.Backends {
		t.Run(backend, func(t *testing.T) {
			e := apptest.Start(t, backend)
			videos := e.Server.Stores().Videos
			ctx := context.Background()
			startWorker(t, e, "ASSETLAB_FFMPEG="+slowFFmpeg(t, 2), "ASSETLAB_HLS_SEGMENT_GRACE=2s")
			id := uploadClip(t, e, clip)

			// Mid-transcode.
			var at *jobs.Attempt
			apptest.Eventually(t, 90*time.Second, "the stream to become playable", func() bool {
				var err error
				at, err = jobs.LatestAttempt(ctx, videos, id)
				return err == nil && at != nil && at.Playable > 0
			})
			if st := e.Status(id); st.Status != "processing" {
				t.Fatalf("status %q once playable, want processing (the clip takes ~8 s to read)", st.Status)
			}
			n := at.N
			master := read(t, videos, video.HLSKey(id, n, video.MasterPlaylist))
			vs := variants(t, master)
			if len(vs) != 2 || vs["360p.m3u8"] == "" || vs["720p.m3u8"] == "" {
				t.Fatalf("master playlist variants %v, want 360p and 720p:\n%s", vs, master)
			}
			for uri, attrs := range vs {
				if !strings.Contains(attrs, `CODECS="avc1.`) || !strings.Contains(attrs, `mp4a.40.2"`) || !strings.Contains(attrs, "FRAME-RATE=30.000") {
					t.Errorf("%s: attributes %s lack CODECS or FRAME-RATE", uri, attrs)
				}
			}
			early := map[video.Quality][]byte{}
			for _, q := range []video.Quality{"360p", "720p"} {
				pl := read(t, videos, video.HLSKey(id, n, video.MediaPlaylist(q)))
				s := string(pl)
				if !strings.Contains(s, "#EXT-X-PLAYLIST-TYPE:EVENT") || strings.Contains(s, "ENDLIST") {
					t.Errorf("%s mid-transcode is not an open EVENT playlist:\n%s", q, s)
				}
				segs := regexp.MustCompile(`(?m)^`+string(q)+`/(\d+)\.m4s$`).FindAllStringSubmatch(s, -1)
				if len(segs) == 0 {
					t.Fatalf("%s playlist names no segment:\n%s", q, s)
				}
				// What it names is there: the init segment, then each
				// segment in order; together, the start of the file.
				buf := bytes.NewBuffer(read(t, videos, video.HLSKey(id, n, video.InitSegment(q))))
				for i, m := range segs {
					if m[1] != strconv.Itoa(i) {
						t.Fatalf("%s: segment %d named %s", q, i, m[1])
					}
					buf.Write(read(t, videos, video.HLSKey(id, n, video.Segment(q, i))))
				}
				early[q] = buf.Bytes()
			}
			if at.Playable < 0.9 {
				t.Errorf("playable %.2f s with a segment in every rendition, want at least 1", at.Playable)
			}

			// Done.
			if st := e.WaitFinal(id, 2*time.Minute); st.Status != "done" {
				t.Fatalf("status %+v, want done", st)
			}
			res := result(t, e, id)
			if !res.HLS || res.Attempt != n {
				t.Fatalf("result %+v, want HLS from attempt %d", res, n)
			}
			checkRenditions(t, e, id, "360p,720p", 16)
			master = read(t, videos, video.HLSKey(id, n, video.MasterPlaylist))
			vs = variants(t, master)
			var prev int
			for _, uri := range []string{"360p.m3u8", "720p.m3u8"} {
				attrs := vs[uri]
				bw, _ := strconv.Atoi(bandwidthRe.FindStringSubmatch(attrs)[1])
				avg, _ := strconv.Atoi(regexp.MustCompile(`AVERAGE-BANDWIDTH=(\d+)`).FindStringSubmatch(attrs + ",AVERAGE-BANDWIDTH=0")[1])
				if avg == 0 || bw < avg || bw <= prev {
					t.Errorf("%s: BANDWIDTH %d, AVERAGE-BANDWIDTH %d (previous rung %d): want measured, peak ≥ average, rising with the rung\n%s", uri, bw, avg, prev, master)
				}
				prev = bw
			}
			for _, r := range res.Renditions {
				pl := read(t, videos, video.HLSKey(id, n, video.MediaPlaylist(r.Quality)))
				m, err := hls.ParseSingleFile(pl)
				if err != nil || !m.Ended || !strings.Contains(string(pl), "#EXT-X-PLAYLIST-TYPE:VOD") {
					t.Fatalf("%s final playlist (%v):\n%s", r.Quality, err, pl)
				}
				if end := m.Segments[len(m.Segments)-1].End(); end != r.Size {
					t.Errorf("%s: byte ranges end at %d, file is %d bytes", r.Quality, end, r.Size)
				}
				if d := m.Duration(); d < 15.5 || d > 16.5 {
					t.Errorf("%s: playlist lasts %.2f s, want 16", r.Quality, d)
				}
				// Two 1 s segments to start fast, then 2 s ones.
				for i, sg := range m.Segments[:len(m.Segments)-1] {
					if want := map[bool]float64{true: 1, false: 2}[i < 2]; sg.Duration < want-0.05 || sg.Duration > want+0.05 {
						t.Errorf("%s: segment %d lasts %.3f s, want %v", r.Quality, i, sg.Duration, want)
					}
				}
				file := read(t, videos, video.RenditionKey(id, n, r.Quality))
				if !bytes.HasPrefix(file, early[r.Quality]) {
					t.Errorf("%s: the segments published early (%d bytes) are not the start of the finished file", r.Quality, len(early[r.Quality]))
				}
			}

			// The separate segments go after their grace; one copy stays.
			var stored int64
			apptest.Eventually(t, 30*time.Second, "the separate segments to be deleted", func() bool {
				objs, err := videos.List(ctx, video.AttemptPrefix(id, n))
				if err != nil {
					return false
				}
				stored = 0
				for _, o := range objs {
					if strings.HasSuffix(o.Key, ".m4s") || strings.HasSuffix(o.Key, "/init.mp4") {
						return false
					}
					stored += o.Size
				}
				return true
			})
			var renditions int64
			for _, r := range res.Renditions {
				renditions += r.Size
			}
			if float64(stored) > 1.1*float64(renditions) {
				t.Errorf("%d bytes stored for %d bytes of renditions: more than 1.1 copies", stored, renditions)
			}
			t.Logf("stored %d bytes for %d bytes of renditions (%.3f×)", stored, renditions, float64(stored)/float64(renditions))
		})
	}
}

// Sources that are awkward for segmenting end with a stream that is whole.
func TestStreamOfAwkwardSources(t *testing.T) {
	cases := []struct {
		name     string
		clip     mediatest.Clip
		segments int
		// codecs is in the master playlist, absent is not.
		codecs, absent string
	}{
		{"shorter than one segment", mediatest.Clip{Width: 640, Height: 360, Seconds: 0.8, Audio: true}, 1, `avc1.64001e,mp4a.40.2"`, ""},
		{"no audio", mediatest.Clip{Width: 640, Height: 360, Seconds: 5}, 4, `CODECS="avc1.64001e"`, "mp4a"},
		{"rotated", mediatest.Clip{Width: 640, Height: 360, Seconds: 3, Audio: true, Rotate: 90}, 3, "RESOLUTION=360x640", ""},
		// 30 frames a second for 1 s, then 60 frames a second.
		{"variable frame rate", mediatest.Clip{Width: 640, Height: 360, Seconds: 6, FPS: 30,
			VideoArgs: []string{"-vf", "settb=1/600,setpts='if(lt(N,30),N/30,1+(N-30)/60)/TB'", "-fps_mode", "vfr", "-enc_time_base", "1/600", "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p"}}, 0, `CODECS="avc1.64`, "FRAME-RATE"},
	}
	e := apptest.Start(t, "local")
	startWorker(t, e)
	videos := e.Server.Stores().Videos
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			id := uploadClip(t, e, mediatest.Make(t, c.clip))
			if st := e.WaitFinal(id, 2*time.Minute); st.Status != "done" {
				t.Fatalf("status %+v, want done", st)
			}
			res := result(t, e, id)
			master := string(read(t, videos, video.HLSKey(id, res.Attempt, video.MasterPlaylist)))
			if !strings.Contains(master, c.codecs) {
				t.Errorf("master lacks %s:\n%s", c.codecs, master)
			}
			if c.absent != "" && strings.Contains(master, c.absent) {
				t.Errorf("master has %s:\n%s", c.absent, master)
			}
			for _, r := range res.Renditions {
				pl := read(t, videos, video.HLSKey(id, res.Attempt, video.MediaPlaylist(r.Quality)))
				m, err := hls.ParseSingleFile(pl)
				if err != nil || !m.Ended {
					t.Fatalf("%s playlist: %v, ended %v", r.Quality, err, m.Ended)
				}
				checkPlaylistRules(t, r.Quality, pl, m)
				if c.segments > 0 && len(m.Segments) != c.segments {
					t.Errorf("%s: %d segments, want %d", r.Quality, len(m.Segments), c.segments)
				}
				if end := m.Segments[len(m.Segments)-1].End(); end != r.Size {
					t.Errorf("%s: byte ranges end at %d, file is %d bytes", r.Quality, end, r.Size)
				}
				if d := m.Duration(); d < res.Duration-0.3 || d > res.Duration+0.3 {
					t.Errorf("%s: playlist lasts %.2f s, video %.2f s", r.Quality, d, res.Duration)
				}
			}
		})
	}
}

// checkStreamWhole checks attempt n's stream of video id as a viewer would
// find it: the master names playlists that are there, and each names an init
// segment and segments (or byte ranges of a file) that are there.
func checkStreamWhole(t *testing.T, e *apptest.Env, id string, n int) {
	t.Helper()
	videos := e.Server.Stores().Videos
	ctx := context.Background()
	exists := func(name string) bool {
		_, err := videos.Stat(ctx, video.HLSKey(id, n, name))
		return err == nil
	}
	vs := variants(t, read(t, videos, video.HLSKey(id, n, video.MasterPlaylist)))
	if len(vs) == 0 {
		t.Fatalf("attempt %d's master names no rendition", n)
	}
	for uri := range vs {
		pl := string(read(t, videos, video.HLSKey(id, n, uri)))
		for _, line := range strings.Split(pl, "\n") {
			name := line
			if m := regexp.MustCompile(`^#EXT-X-MAP:URI="([^"]+)"`).FindStringSubmatch(line); m != nil {
				name = m[1]
			} else if line == "" || strings.HasPrefix(line, "#") {
				continue
			}
			if !exists(name) {
				t.Errorf("attempt %d: %s names %s, which is not there", n, uri, name)
			}
		}
	}
}

// checkPlaylistRules checks a finished media playlist against the rules of
// RFC 8216 a player relies on: each duration, rounded, is at most the target
// duration, and the byte ranges follow one another from the init segment on.
func checkPlaylistRules(t *testing.T, q video.Quality, pl []byte, m hls.Media) {
	t.Helper()
	tm := regexp.MustCompile(`#EXT-X-TARGETDURATION:(\d+)`).FindSubmatch(pl)
	if tm == nil {
		t.Fatalf("%s: no EXT-X-TARGETDURATION:\n%s", q, pl)
	}
	target, _ := strconv.Atoi(string(tm[1]))
	next := m.Init.End()
	for i, sg := range m.Segments {
		if int(sg.Duration+0.5) > target {
			t.Errorf("%s: segment %d lasts %.3f s, over the target duration %d", q, i, sg.Duration, target)
		}
		if sg.Offset != next {
			t.Errorf("%s: segment %d starts at byte %d, want %d", q, i, sg.Offset, next)
		}
		next = sg.End()
	}
}
