package app_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/assetlab/assetlab/server/app/apptest"
	"github.com/assetlab/assetlab/server/storage"
	"github.com/assetlab/assetlab/server/storage/storagetest"
	"github.com/assetlab/assetlab/server/video"
)

// stream is what a worker publishes of attempt n's HLS stream while it
// transcodes, by the contract's layout: a master playlist, the 360p media
// playlist, its init segment and first segment, and the finished 360p file.
type stream struct {
	master, media     string
	init, seg0, whole []byte
}

func publish(t *testing.T, videos storage.Store, id string, n int) stream {
	t.Helper()
	random := func(size int) []byte {
		b := make([]byte, size)
		rand.Read(b)
		return b
	}
	s := stream{
		master: "#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-INDEPENDENT-SEGMENTS\n" +
			"#EXT-X-STREAM-INF:BANDWIDTH=900000,AVERAGE-BANDWIDTH=700000,RESOLUTION=640x360,CODECS=\"avc1.64001e,mp4a.40.2\",FRAME-RATE=30\n360p.m3u8\n",
		media: "#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-TARGETDURATION:2\n#EXT-X-MEDIA-SEQUENCE:0\n#EXT-X-PLAYLIST-TYPE:EVENT\n" +
			"#EXT-X-MAP:URI=\"360p/init.mp4\"\n#EXTINF:2.000,\n360p/0.m4s\n",
		init:  random(800),
		seg0:  random(40_000),
		whole: random(50_000),
	}
	ctx := context.Background()
	for name, body := range map[string][]byte{
		video.MasterPlaylist:        []byte(s.master),
		video.MediaPlaylist("360p"): []byte(s.media),
		video.InitSegment("360p"):   s.init,
		video.Segment("360p", 0):    s.seg0,
		video.RenditionFile("360p"): s.whole,
	} {
		if _, err := videos.Put(ctx, video.HLSKey(id, n, name), bytes.NewReader(body), ""); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

// noRedirects is a client that shows a redirect instead of following it.
var noRedirects = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

func send(t *testing.T, c *http.Client, method, url string, header map[string]string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

// GET /api/videos/{id}/hls/{attempt}/{name}: playlists are served as
// stored, segments and files are redirects to a freshly signed URL that
// answers the Range the client re-sends (from another origin too), and
// malformed or unknown names are clear JSON errors.
func TestHLSRoute(t *testing.T) {
	for _, backend := range apptest.Backends {
		t.Run(backend, func(t *testing.T) {
			e := apptest.Start(t, backend)
			id := e.UploadID(apptest.VideoBytes(1000))
			s := publish(t, e.Server.Stores().Videos, id, 1)
			base := e.URL + "/api/videos/" + id + "/hls/1/"

			for name, body := range map[string]string{"master.m3u8": s.master, "360p.m3u8": s.media} {
				resp, got := send(t, http.DefaultClient, "GET", base+name, nil)
				if resp.StatusCode != http.StatusOK || string(got) != body {
					t.Errorf("GET %s: got %d %q, want 200 with the playlist as stored", name, resp.StatusCode, got)
				}
				if ct, cc := resp.Header.Get("Content-Type"), resp.Header.Get("Cache-Control"); ct != "application/vnd.apple.mpegurl" || cc != "no-cache" {
					t.Errorf("GET %s: got Content-Type %q, Cache-Control %q, want application/vnd.apple.mpegurl and no-cache", name, ct, cc)
				}
				etag := resp.Header.Get("ETag")
				if etag == "" {
					t.Errorf("GET %s: no ETag", name)
				} else if again, _ := send(t, http.DefaultClient, "GET", base+name, map[string]string{"If-None-Match": etag}); again.StatusCode != http.StatusNotModified {
					t.Errorf("GET %s with If-None-Match of its ETag: got %d, want 304", name, again.StatusCode)
				}
				head, hb := send(t, http.DefaultClient, "HEAD", base+name, nil)
				if head.StatusCode != http.StatusOK || len(hb) != 0 || head.Header.Get("Content-Type") != "application/vnd.apple.mpegurl" ||
					head.ContentLength != int64(len(body)) {
					t.Errorf("HEAD %s: got %d, %d bytes, Content-Type %q, length %d; want GET's answer without the body",
						name, head.StatusCode, len(hb), head.Header.Get("Content-Type"), head.ContentLength)
				}
			}

			// A rewritten playlist is served at once: nothing caches it.
			grown := s.media + "#EXTINF:2.000,\n360p/1.m4s\n"
			if _, err := e.Server.Stores().Videos.Put(context.Background(), video.HLSKey(id, 1, "360p.m3u8"), strings.NewReader(grown), ""); err != nil {
				t.Fatal(err)
			}
			if _, got := send(t, http.DefaultClient, "GET", base+"360p.m3u8", nil); string(got) != grown {
				t.Errorf("GET 360p.m3u8 after it grew: got %q, want %q", got, grown)
			}

			for name, content := range map[string][]byte{"360p/init.mp4": s.init, "360p/0.m4s": s.seg0, "360p.mp4": s.whole} {
				resp, _ := send(t, noRedirects, "GET", base+name, nil)
				loc := resp.Header.Get("Location")
				if resp.StatusCode != http.StatusFound || !strings.HasPrefix(loc, "http") || resp.Header.Get("Cache-Control") != "no-store" {
					t.Errorf("GET %s: got %d, Location %q, Cache-Control %q; want 302 to a signed URL, no-store",
						name, resp.StatusCode, loc, resp.Header.Get("Cache-Control"))
				}
				if head, _ := send(t, noRedirects, "HEAD", base+name, nil); head.StatusCode != http.StatusFound || head.Header.Get("Location") == "" {
					t.Errorf("HEAD %s: got %d, want 302 with a Location", name, head.StatusCode)
				}
				// A player follows with its Range, from the desktop app's
				// origin: the signed URL answers it.
				resp, got := send(t, http.DefaultClient, "GET", base+name,
					map[string]string{"Range": "bytes=100-611", "Origin": desktopOrigin})
				if resp.StatusCode != http.StatusPartialContent || !bytes.Equal(got, content[100:612]) {
					t.Errorf("GET %s with Range, redirect followed: got %d with %d bytes, want 206 with bytes 100-611", name, resp.StatusCode, len(got))
				}
				if cr := resp.Header.Get("Content-Range"); !strings.HasPrefix(cr, "bytes 100-611/") {
					t.Errorf("GET %s with Range: Content-Range %q, want bytes 100-611/…", name, cr)
				}
				if acao := resp.Header.Get("Access-Control-Allow-Origin"); acao != "*" && acao != desktopOrigin {
					t.Errorf("GET %s from %s, redirect followed: Access-Control-Allow-Origin %q, want it allowed", name, desktopOrigin, acao)
				}
			}

			// Each redirect is signed when asked for: a viewer never holds a
			// link that has expired.
			r1, _ := send(t, noRedirects, "GET", base+"360p/0.m4s", nil)
			time.Sleep(1100 * time.Millisecond) // signatures carry whole seconds
			r2, _ := send(t, noRedirects, "GET", base+"360p/0.m4s", nil)
			if r1.Header.Get("Location") == r2.Header.Get("Location") {
				t.Errorf("two redirects a second apart went to the same URL %q; want each signed afresh", r1.Header.Get("Location"))
			}

			// The /api route answers a player's preflight from another origin.
			pre := storagetest.PreflightRange(t, base+"360p/0.m4s", desktopOrigin)
			if acao := pre.Header.Get("Access-Control-Allow-Origin"); pre.StatusCode/100 != 2 || (acao != "*" && acao != desktopOrigin) ||
				!strings.Contains(strings.ToLower(pre.Header.Get("Access-Control-Allow-Headers")), "range") {
				t.Errorf("preflight of the stream route from %s with Range: got %d, Allow-Origin %q, Allow-Headers %q; want it allowed",
					desktopOrigin, pre.StatusCode, acao, pre.Header.Get("Access-Control-Allow-Headers"))
			}

			unknown := video.NewID()
			vars := map[string]string{"id": id, "unknown": unknown}
			hls := "/api/videos/{id}/hls/"
			runAll(t, e.URL, vars, nil, []scenario{
				{name: "playlist not published", method: "GET", path: hls + "1/720p.m3u8", status: 404, code: "rendition_not_available"},
				{name: "attempt without a stream", method: "GET", path: hls + "2/master.m3u8", status: 404, code: "rendition_not_available"},
				{name: "unknown video", method: "GET", path: "/api/videos/{unknown}/hls/1/master.m3u8", status: 404, code: "rendition_not_available"},
				{name: "HEAD of a missing playlist", method: "HEAD", path: hls + "1/720p.m3u8", status: 404, empty: true},
				{name: "attempt 0", method: "GET", path: hls + "0/master.m3u8", status: 400, code: "bad_request", has: []string{"attempt"}},
				{name: "attempt with a leading zero", method: "GET", path: hls + "01/master.m3u8", status: 400, code: "bad_request"},
				{name: "negative attempt", method: "GET", path: hls + "-1/master.m3u8", status: 400, code: "bad_request"},
				{name: "attempt not a number", method: "GET", path: hls + "a1/master.m3u8", status: 400, code: "bad_request"},
				{name: "not a stream file", method: "GET", path: hls + "1/poster.jpg", status: 400, code: "bad_request", has: []string{"master.m3u8"}},
				{name: "metadata", method: "GET", path: hls + "1/meta.json", status: 400, code: "bad_request"},
				{name: "not a quality", method: "GET", path: hls + "1/4k.m3u8", status: 400, code: "bad_request"},
				{name: "segment with a leading zero", method: "GET", path: hls + "1/360p/00.m4s", status: 400, code: "bad_request"},
				{name: "too deep", method: "GET", path: hls + "1/360p/0/0.m4s", status: 400, code: "bad_request"},
				{name: "no name", method: "GET", path: hls + "1/", status: 400, code: "bad_request"},
				{name: "escaped slash", method: "GET", path: hls + "1/360p%2F0.m4s", status: 400, code: "bad_request"},
				{name: "malformed id", method: "GET", path: "/api/videos/not-a-uuid/hls/1/master.m3u8", status: 400, code: "malformed_id"},
				{name: "POST", method: "POST", path: hls + "1/master.m3u8", token: apptest.Token,
					status: 405, code: "method_not_allowed", headers: map[string]string{"Allow": "GET, HEAD"}},
				{name: "DELETE", method: "DELETE", path: hls + "1/360p/0.m4s", token: apptest.Token,
					status: 405, code: "method_not_allowed", headers: map[string]string{"Allow": "GET, HEAD"}},
			})

			// Names that climb out of the stream are refused before any key
			// is made of them, sent exactly as written.
			for _, p := range []string{"1/../../meta.json", "1/360p/../../../meta.json", "1/..%2F..%2Fmeta.json"} {
				path := "/api/videos/" + id + "/hls/" + p
				req, _ := http.NewRequest("GET", e.URL+path, nil)
				req.URL.RawPath, req.URL.Opaque = "", path
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(b), `"code":"bad_request"`) {
					t.Errorf("GET %s: got %d %s, want 400 bad_request", path, resp.StatusCode, b)
				}
			}

			// A segment that is not there is still a redirect (no storage
			// read); its URL answers 404.
			if resp, _ := send(t, http.DefaultClient, "GET", base+"360p/9.m4s", nil); resp.StatusCode != http.StatusNotFound {
				t.Errorf("GET of a segment not published, redirect followed: got %d, want 404", resp.StatusCode)
			}
		})
	}
}
