package app_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/assetlab/assetlab/server/app/apptest"
	"github.com/assetlab/assetlab/server/storage"
)

// tusDo sends one tus request and returns the answer, its body read.
func tusDo(t *testing.T, method, url, token string, body []byte, hdr map[string]string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Tus-Resumable", "1.0.0")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp, string(b)
}

func tusMeta(filename string) string {
	return "filename " + base64.StdEncoding.EncodeToString([]byte(filename))
}

// A resumable upload sent in two PATCHes becomes a video, as a plain upload
// does: the original at originals/{id}.mp4 with the file's bytes, its
// metadata and job, the ID in the final PATCH's answer, and none of tusd's
// state left.
func TestTusUploadInTwoPatches(t *testing.T) {
	for _, backend := range apptest.Backends {
		t.Run(backend, func(t *testing.T) {
			e := apptest.Start(t, backend)
			data := apptest.VideoBytes(13 << 20)
			resp, body := tusDo(t, "POST", e.URL+"/api/uploads/", apptest.Token, nil, map[string]string{
				"Upload-Length": strconv.Itoa(len(data)), "Upload-Metadata": tusMeta("holiday.mp4")})
			if resp.StatusCode != http.StatusCreated {
				t.Fatalf("create: got %d %s, want 201", resp.StatusCode, body)
			}
			loc := resp.Header.Get("Location")
			path := loc[strings.Index(loc, "/api/uploads/"):]

			half := 6 << 20
			patch := map[string]string{"Content-Type": "application/offset+octet-stream", "Upload-Offset": "0"}
			resp, body = tusDo(t, "PATCH", e.URL+path, apptest.Token, data[:half], patch)
			if resp.StatusCode != http.StatusNoContent {
				t.Fatalf("patch 1: got %d %s, want 204", resp.StatusCode, body)
			}
			if id := resp.Header.Get("Upload-Video-Id"); id != "" {
				t.Errorf("patch 1: got Upload-Video-Id %q before the end, want none", id)
			}
			resp, _ = tusDo(t, "HEAD", e.URL+path, apptest.Token, nil, nil)
			if got := resp.Header.Get("Upload-Offset"); got != strconv.Itoa(half) {
				t.Fatalf("head: got offset %q, want %d", got, half)
			}
			patch["Upload-Offset"] = strconv.Itoa(half)
			resp, body = tusDo(t, "PATCH", e.URL+path, apptest.Token, data[half:], patch)
			if resp.StatusCode != http.StatusNoContent {
				t.Fatalf("patch 2: got %d %s, want 204", resp.StatusCode, body)
			}
			id := resp.Header.Get("Upload-Video-Id")
			if id == "" {
				t.Fatal("patch 2: got no Upload-Video-Id")
			}

			got, err := storage.ReadAll(context.Background(), e.Server.Stores().Raw, "originals/"+id+".mp4")
			if err != nil {
				t.Fatalf("read the original: %v", err)
			}
			if sha256.Sum256(got) != sha256.Sum256(data) {
				t.Fatalf("original: got %d bytes that differ from the %d sent", len(got), len(data))
			}
			d := e.Details(id)
			if d.Status != "pending" && d.Status != "processing" {
				t.Errorf("details: got status %q, want pending or processing", d.Status)
			}
			if d.Filename != "holiday.mp4" || d.Size != int64(len(data)) || d.ContentType != "video/mp4" {
				t.Errorf("details: got %q, %d bytes, %q; want holiday.mp4, %d bytes, video/mp4",
					d.Filename, d.Size, d.ContentType, len(data))
			}
			// Only the video's own objects are left: no tusd state, no locks.
			for _, k := range e.Objects() {
				if strings.HasPrefix(k, "uploads/") {
					t.Errorf("left behind: %s", k)
				}
			}
			if e.S3 != nil {
				if open := e.S3.OpenUploads(t, "raw"); len(open) != 0 {
					t.Errorf("open multipart uploads left: %v", open)
				}
			}
		})
	}
}

// The endpoint refuses what POST /api/upload refuses, at creation.
func TestTusCreateRefusals(t *testing.T) {
	for _, backend := range apptest.Backends {
		t.Run(backend, func(t *testing.T) {
			e := apptest.Start(t, backend, "ASSETLAB_MAX_UPLOAD_BYTES=1MiB")
			tests := []struct {
				name     string
				token    string
				length   string
				filename string
				want     int
			}{
				{"no token", "", "1000", "a.mp4", http.StatusUnauthorized},
				{"wrong token", "wrong-token-0123456789", "1000", "a.mp4", http.StatusUnauthorized},
				{"over the limit", apptest.Token, strconv.Itoa(1<<20 + 1), "a.mp4", http.StatusRequestEntityTooLarge},
				{"not a video", apptest.Token, "1000", "notes.txt", http.StatusUnsupportedMediaType},
				{"no filename", apptest.Token, "1000", "", http.StatusUnsupportedMediaType},
				{"empty", apptest.Token, "0", "a.mp4", http.StatusBadRequest},
			}
			for _, tt := range tests {
				hdr := map[string]string{"Upload-Length": tt.length}
				if tt.filename != "" {
					hdr["Upload-Metadata"] = tusMeta(tt.filename)
				}
				resp, body := tusDo(t, "POST", e.URL+"/api/uploads/", tt.token, nil, hdr)
				if resp.StatusCode != tt.want {
					t.Errorf("%s: got %d %s, want %d", tt.name, resp.StatusCode, body, tt.want)
				}
			}
			// Every request needs the token, not only creation.
			resp, _ := tusDo(t, "HEAD", e.URL+"/api/uploads/whatever.mp4", "", nil, nil)
			if resp.StatusCode != http.StatusUnauthorized {
				t.Errorf("head without token: got %d, want 401", resp.StatusCode)
			}
			// A CORS preflight carries no token and is answered.
			req, _ := http.NewRequest("OPTIONS", e.URL+"/api/uploads/", nil)
			req.Header.Set("Origin", "http://example.test")
			req.Header.Set("Access-Control-Request-Method", "POST")
			pre, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			pre.Body.Close()
			if pre.StatusCode == http.StatusUnauthorized {
				t.Errorf("preflight: got 401, want it answered without a token")
			}
			for _, k := range e.Objects() {
				if strings.HasPrefix(k, "uploads/") || strings.HasPrefix(k, "originals/") {
					t.Errorf("left behind by a refused creation: %s", k)
				}
			}
		})
	}
}
