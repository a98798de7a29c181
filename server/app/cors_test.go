package app_test

import (
	"bytes"
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/assetlab/assetlab/server/app/apptest"
	"github.com/assetlab/assetlab/server/storage/storagetest"
	"github.com/assetlab/assetlab/server/video"
)

// desktopOrigin is the origin of the desktop app's webview: every request it
// makes to the server, and to the URLs the server hands out, is cross-origin.
const desktopOrigin = "wails://wails"

// checkCORS fails the test unless a ranged GET of url from origin is
// answered with the right bytes of content and the CORS headers a player
// reads, and its preflight is allowed.
func checkCORS(t *testing.T, what, url, origin string, content []byte) {
	t.Helper()
	resp, body := storagetest.RangedGet(t, url, origin, "bytes=100-199")
	if resp.StatusCode != http.StatusPartialContent || !bytes.Equal(body, content[100:200]) {
		t.Errorf("%s: ranged GET: got %d with %d bytes, want 206 with bytes 100-199", what, resp.StatusCode, len(body))
	}
	if !storagetest.AllowsOrigin(resp, origin) {
		t.Errorf("%s: ranged GET from %s: got Access-Control-Allow-Origin %q, want it allowed", what, origin, resp.Header.Get("Access-Control-Allow-Origin"))
	}
	exposed := strings.ToLower(resp.Header.Get("Access-Control-Expose-Headers"))
	for _, h := range []string{"content-range", "content-length", "accept-ranges"} {
		if !strings.Contains(exposed, h) {
			t.Errorf("%s: Access-Control-Expose-Headers %q: want %s in it", what, exposed, h)
		}
	}
	pre := storagetest.PreflightRange(t, url, origin)
	if pre.StatusCode/100 != 2 || !storagetest.AllowsOrigin(pre, origin) ||
		!strings.Contains(strings.ToLower(pre.Header.Get("Access-Control-Allow-Headers")), "range") {
		t.Errorf("%s: preflight for a GET with Range from %s: got %d, Allow-Origin %q, Allow-Headers %q; want it allowed",
			what, origin, pre.StatusCode, pre.Header.Get("Access-Control-Allow-Origin"), pre.Header.Get("Access-Control-Allow-Headers"))
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
