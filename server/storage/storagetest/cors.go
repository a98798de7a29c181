package storagetest

import (
	"io"
	"net/http"
	"testing"
)

// RangedGet fetches url with a Range header (e.g. "bytes=100-199") from a
// page on origin, as hls.js fetches a segment, and returns the answer with its
// body read.
func RangedGet(t testing.TB, url, origin, byteRange string) (*http.Response, []byte) {
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

// PreflightRange asks, as a browser does before an XHR with a Range header,
// whether a GET of url from origin is allowed.
func PreflightRange(t testing.TB, url, origin string) *http.Response {
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

// AllowsOrigin reports whether an answer's Access-Control-Allow-Origin lets a
// page on origin read it.
func AllowsOrigin(resp *http.Response, origin string) bool {
	got := resp.Header.Get("Access-Control-Allow-Origin")
	return got == "*" || got == origin
}
