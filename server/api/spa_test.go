package api

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/fstest"
)

func TestSPA(t *testing.T) {
	dist := fstest.MapFS{
		"index.html":      {Data: []byte("<html>app</html>")},
		"assets/app-1.js": {Data: []byte("console.log(1)")},
		"favicon.svg":     {Data: []byte("<svg/>")},
	}
	h := New(Options{Frontend: dist}).Handler()
	cases := []struct {
		path, want string
		status     int
		cache      string
	}{
		{"/", "<html>app</html>", 200, "no-cache"},
		{"/watch/123", "<html>app</html>", 200, "no-cache"},
		{"/library", "<html>app</html>", 200, "no-cache"},
		{"/assets/app-1.js", "console.log(1)", 200, "public, max-age=31536000, immutable"},
		{"/favicon.svg", "<svg/>", 200, ""},
		{"/assets/missing.js", "", 404, ""},
		{"/missing.png", "", 404, ""},
	}
	for _, c := range cases {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", c.path, nil))
		body, _ := io.ReadAll(rec.Body)
		if rec.Code != c.status || (c.want != "" && string(body) != c.want) {
			t.Errorf("GET %s: got %d %q, want %d %q", c.path, rec.Code, body, c.status, c.want)
		}
		if c.cache != "" && rec.Header().Get("Cache-Control") != c.cache {
			t.Errorf("GET %s: Cache-Control %q, want %q", c.path, rec.Header().Get("Cache-Control"), c.cache)
		}
	}
	// The app's pages are read, not written to; HEAD works as GET does.
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("POST", "/watch/123", nil))
	if rec.Code != http.StatusMethodNotAllowed || rec.Header().Get("Allow") != "GET, HEAD" {
		t.Errorf("POST /watch/123: got %d, Allow %q, want 405 with GET, HEAD", rec.Code, rec.Header().Get("Allow"))
	}
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("HEAD", "/assets/app-1.js", nil))
	if rec.Code != http.StatusOK || rec.Header().Get("Cache-Control") != "public, max-age=31536000, immutable" {
		t.Errorf("HEAD /assets/app-1.js: got %d %v, want 200 as for GET", rec.Code, rec.Header())
	}

	// The API is never answered with the app.
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/api/nothing", nil))
	if rec.Code != http.StatusNotFound || !strings.Contains(rec.Body.String(), `"error"`) {
		t.Errorf("GET /api/nothing: got %d %q, want a JSON 404", rec.Code, rec.Body)
	}
}

func TestCleanFilename(t *testing.T) {
	for in, want := range map[string]string{
		"clip.mp4": "clip.mp4", `C:\Users\me\holiday.mov`: "holiday.mov", "../../etc/passwd": "passwd",
		"a\x00b\nc.mp4": "abc.mp4", "": "", "/": "",
	} {
		if got := cleanFilename(in); got != want {
			t.Errorf("cleanFilename(%q): got %q, want %q", in, got, want)
		}
	}
}
