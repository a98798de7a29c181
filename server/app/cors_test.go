package app_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/assetlab/assetlab/server/app/apptest"
	"github.com/assetlab/assetlab/server/video"
)

// desktopOrigin is the origin of the desktop app's webview: every request it
// makes to the server, and to the URLs the server hands out, is cross-origin.
const desktopOrigin = "wails://wails"

// rangedFrom fetches url with a Range header from a page on origin, as hls.js
// fetches a segment, and returns the answer with its body read.
func rangedFrom(t *testing.T, url, origin, byteRange string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest("GET", url, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Origin", origin)
	req.Header.Set("Range", byteRange)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

// preflightRange asks, as a browser does before an XHR with a Range header,
// whether a GET of url from origin is allowed.
func preflightRange(t *testing.T, url, origin string) *http.Response {
	t.Helper()
	req, err := http.NewRequest("OPTIONS", url, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Origin", origin)
	req.Header.Set("Access-Control-Request-Method", "GET")
	req.Header.Set("Access-Control-Request-Headers", "range")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp
}

// checkCORS fails the test unless a ranged GET of url from origin is
// answered with the right bytes of content and the CORS headers a player
// reads, and its preflight is allowed.
func checkCORS(t *testing.T, what, url, origin string, content []byte) {
	t.Helper()
	resp, body := rangedFrom(t, url, origin, "bytes=100-199")
	if resp.StatusCode != http.StatusPartialContent || !bytes.Equal(body, content[100:200]) {
		t.Errorf("%s: ranged GET: got %d with %d bytes, want 206 with bytes 100-199", what, resp.StatusCode, len(body))
	}
	if got := resp.Header.Get("Access-Control-Allow-Origin"); got != "*" && got != origin {
		t.Errorf("%s: ranged GET from %s: got Access-Control-Allow-Origin %q, want it allowed", what, origin, got)
	}
	exposed := strings.ToLower(resp.Header.Get("Access-Control-Expose-Headers"))
	for _, h := range []string{"content-range", "content-length", "accept-ranges"} {
		if !strings.Contains(exposed, h) {
			t.Errorf("%s: Access-Control-Expose-Headers %q: want %s in it", what, exposed, h)
		}
	}
	pre := preflightRange(t, url, origin)
	if got := pre.Header.Get("Access-Control-Allow-Origin"); pre.StatusCode/100 != 2 || (got != "*" && got != origin) ||
		!strings.Contains(strings.ToLower(pre.Header.Get("Access-Control-Allow-Headers")), "range") {
		t.Errorf("%s: preflight for a GET with Range from %s: got %d, Allow-Origin %q, Allow-Headers %q; want it allowed",
			what, origin, pre.StatusCode, got, pre.Header.Get("Access-Control-Allow-Headers"))
	}
}

// The signed URLs the server hands out answer a ranged GET from another
// origin (the desktop app, a player fetching with XHR) with the CORS headers
// it needs: the local backend's own /files route, and on S3 the buckets,
// which the server gives a CORS rule at start when they have none.
func TestSignedURLsAnswerCORS(t *testing.T) {
	for _, backend := range apptest.Backends {
		t.Run(backend, func(t *testing.T) {
			e := apptest.Start(t, backend)
			content := apptest.VideoBytes(4000)
			id := e.UploadID(content)
			var orig apptest.URLBody
			if code := e.GetInto("/api/video/"+id, &orig); code != http.StatusOK {
				t.Fatalf("GET /api/video/{id}: got %d, want 200", code)
			}
			checkCORS(t, "the original", orig.URL, desktopOrigin, content)

			// A file of the video store, as a finished rendition is.
			key := video.RenditionKey(id, 1, "360p")
			videos := e.Server.Stores().Videos
			if _, err := videos.Put(context.Background(), key, bytes.NewReader(content), "video/mp4"); err != nil {
				t.Fatal(err)
			}
			u, err := videos.PresignGet(context.Background(), key, time.Hour)
			if err != nil {
				t.Fatal(err)
			}
			checkCORS(t, "a rendition", u, desktopOrigin, content)
		})
	}
}
