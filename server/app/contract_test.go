package app_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/assetlab/assetlab/server/app/apptest"
	"github.com/assetlab/assetlab/server/video"
)

// A method a path is not served with is a 405 that lists, in Allow, those it
// is served with; HEAD works wherever GET does, with GET's status and
// headers and no body.
func TestMethodsAndHEAD(t *testing.T) {
	for _, backend := range apptest.Backends {
		t.Run(backend, func(t *testing.T) {
			e := apptest.Start(t, backend)
			vars := map[string]string{"id": e.UploadID(apptest.VideoBytes(1000)), "unknown": video.NewID()}
			json := "application/json; charset=utf-8"
			var list []scenario
			for _, m := range []string{"POST", "PUT", "PATCH", "DELETE"} {
				for _, p := range []string{"/api/video/{id}", "/api/video/{id}/status", "/api/video/{id}/720p"} {
					list = append(list, scenario{name: m + " " + p, method: m, path: p, token: apptest.Token,
						status: 405, code: "method_not_allowed", headers: map[string]string{"Allow": "GET, HEAD"}})
				}
			}
			list = append(list, []scenario{
				{name: "GET upload", method: "GET", path: "/api/upload", token: apptest.Token,
					status: 405, code: "method_not_allowed", headers: map[string]string{"Allow": "POST"}},
				{name: "PUT details", method: "PUT", path: "/api/videos/{id}", token: apptest.Token,
					status: 405, code: "method_not_allowed", headers: map[string]string{"Allow": "GET, HEAD, DELETE"}},
				{name: "POST library", method: "POST", path: "/api/videos", token: apptest.Token,
					status: 405, code: "method_not_allowed", headers: map[string]string{"Allow": "GET, HEAD"}},
				{name: "POST config", method: "POST", path: "/api/config",
					status: 405, code: "method_not_allowed", headers: map[string]string{"Allow": "GET, HEAD"}},
				{name: "POST healthz", method: "POST", path: "/healthz",
					status: 405, code: "method_not_allowed", headers: map[string]string{"Allow": "GET, HEAD"}},
				// A path that cannot name a video is still a 400, whatever the method.
				{name: "POST malformed path", method: "POST", path: "/api/video/{id}/720p/extra", status: 400, code: "malformed_id"},

				{name: "HEAD original", method: "HEAD", path: "/api/video/{id}", status: 200, empty: true, headers: map[string]string{"Content-Type": json}},
				{name: "HEAD status", method: "HEAD", path: "/api/video/{id}/status", status: 200, empty: true},
				{name: "HEAD details", method: "HEAD", path: "/api/videos/{id}", status: 200, empty: true},
				{name: "HEAD library", method: "HEAD", path: "/api/videos", token: apptest.Token, status: 200, empty: true},
				{name: "HEAD library without token", method: "HEAD", path: "/api/videos", status: 401, empty: true},
				{name: "HEAD config", method: "HEAD", path: "/api/config", status: 200, empty: true},
				{name: "HEAD healthz", method: "HEAD", path: "/healthz", status: 200, empty: true},
				{name: "HEAD readyz", method: "HEAD", path: "/readyz", status: 200, empty: true},
				{name: "HEAD unknown video", method: "HEAD", path: "/api/video/{unknown}", status: 404, empty: true},
				{name: "HEAD upload", method: "HEAD", path: "/api/upload", status: 405, empty: true, headers: map[string]string{"Allow": "POST"}},

				{name: "GET original", method: "GET", path: "/api/video/{id}", status: 200, keys: []string{"url"}},
			}...)
			runAll(t, e.URL, vars, nil, list)

			// The original's URL answers HEAD too (the local backend's own
			// files; S3 signs the method into its URLs).
			if backend == "local" {
				var orig apptest.URLBody
				e.GetInto("/api/video/"+vars["id"], &orig)
				resp, err := http.Head(orig.URL)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				if resp.StatusCode != 200 || resp.ContentLength != 1000 {
					t.Errorf("HEAD of the original's URL: got %d, length %d, want 200 and 1000", resp.StatusCode, resp.ContentLength)
				}
			}
		})
	}
}

// A browser's preflight for the headers that browsers, the web UI and the
// upload clients (tus included) send is allowed, and what they read from an
// answer is exposed to them.
func TestCORSHeaders(t *testing.T) {
	e := apptest.Start(t, "local", "CORS_ORIGINS=https://app.example")
	origin := "https://app.example"
	sent := []string{"Accept", "Accept-Language", "Content-Language", "Authorization", "Content-Type", "Range", "X-Requested-With",
		"Tus-Resumable", "Upload-Length", "Upload-Offset", "Upload-Metadata", "Upload-Defer-Length", "Upload-Concat"}
	preflight := func(method string, headers ...string) *http.Response {
		t.Helper()
		req, _ := http.NewRequest("OPTIONS", e.URL+"/api/upload", nil)
		req.Header.Set("Origin", origin)
		req.Header.Set("Access-Control-Request-Method", method)
		req.Header.Set("Access-Control-Request-Headers", strings.ToLower(strings.Join(headers, ",")))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	for _, h := range sent {
		resp := preflight("POST", h)
		if resp.Header.Get("Access-Control-Allow-Origin") != origin ||
			!strings.EqualFold(resp.Header.Get("Access-Control-Allow-Headers"), h) {
			t.Errorf("preflight for %s: got Allow-Origin %q, Allow-Headers %q, want it allowed", h,
				resp.Header.Get("Access-Control-Allow-Origin"), resp.Header.Get("Access-Control-Allow-Headers"))
		}
	}
	if resp := preflight("POST", sent...); resp.Header.Get("Access-Control-Allow-Origin") != origin {
		t.Errorf("preflight for all of %v at once: refused", sent)
	}
	// A tus client patches its upload.
	if resp := preflight("PATCH", "Tus-Resumable", "Upload-Offset", "Content-Type"); resp.Header.Get("Access-Control-Allow-Origin") != origin {
		t.Error("preflight for a tus PATCH: refused")
	}
	if resp := preflight("POST", "X-Evil"); resp.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Error("preflight for X-Evil: allowed, want refused")
	}

	req, _ := http.NewRequest("GET", e.URL+"/api/config", nil)
	req.Header.Set("Origin", origin)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	exposed := map[string]bool{}
	for _, h := range strings.Split(resp.Header.Get("Access-Control-Expose-Headers"), ",") {
		exposed[http.CanonicalHeaderKey(strings.TrimSpace(h))] = true
	}
	for _, h := range []string{"Location", "Upload-Offset", "Upload-Length", "Retry-After", "Content-Range", "Content-Length"} {
		if !exposed[h] {
			t.Errorf("%s is not exposed to browsers (Access-Control-Expose-Headers: %q)", h, resp.Header.Get("Access-Control-Expose-Headers"))
		}
	}
}

// GET /api/config tells any client, without a token, the limits it checks
// before uploading: the server's own settings, not built-in ones.
func TestClientConfig(t *testing.T) {
	for _, c := range []struct {
		env  []string
		want string
	}{
		{nil, `{"max_upload_bytes": 1073741824,
			"accepted_types": ["video/mp4","video/quicktime","video/webm","video/x-matroska"],
			"accepted_extensions": [".mp4",".mov",".webm",".mkv"],
			"qualities": ["360p","720p","1080p"],
			"features": {"resumable_uploads": true, "hls": true, "events": false}}`},
		{[]string{"ASSETLAB_MAX_UPLOAD_BYTES=8MiB"}, `{"max_upload_bytes": 8388608,
			"accepted_types": ["video/mp4","video/quicktime","video/webm","video/x-matroska"],
			"accepted_extensions": [".mp4",".mov",".webm",".mkv"],
			"qualities": ["360p","720p","1080p"],
			"features": {"resumable_uploads": true, "hls": true, "events": false}}`},
	} {
		e := apptest.Start(t, "local", c.env...)
		a := scenario{name: "config", method: "GET", path: "/api/config", status: 200,
			headers: map[string]string{"Content-Type": "application/json; charset=utf-8"}}.run(t, e.URL, nil)
		var got, want any
		if err := json.Unmarshal(a.body, &got); err != nil {
			t.Fatalf("GET /api/config: %v: %s", err, a.body)
		}
		json.Unmarshal([]byte(c.want), &want)
		gb, _ := json.Marshal(got)
		wb, _ := json.Marshal(want)
		if string(gb) != string(wb) {
			t.Errorf("GET /api/config with %v:\n got  %s\n want %s", c.env, gb, wb)
		}
	}
}
