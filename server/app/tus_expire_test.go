package app_test

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/assetlab/assetlab/server/app/apptest"
)

// An abandoned resumable upload expires: every answer tells its expiry
// (Upload-Expires, ASSETLAB_UPLOAD_EXPIRY after creation), once past it the
// upload answers 410, and the janitor removes all it left (parts, .info and
// .part objects or local files, lock documents), then it answers 404. An
// upload that has not expired is left alone.
func TestTusUploadExpires(t *testing.T) {
	for _, backend := range apptest.Backends {
		t.Run(backend, func(t *testing.T) {
			start := time.Now()
			// The first server's janitor runs at its start only.
			e1 := apptest.Start(t, backend, "ASSETLAB_UPLOAD_EXPIRY=2s", "ASSETLAB_JANITOR_INTERVAL=1h")
			resp, _ := tusDo(t, "OPTIONS", e1.URL+"/api/uploads/", "", nil, nil)
			if ext := resp.Header.Get("Tus-Extension"); !strings.Contains(ext, "expiration") {
				t.Errorf("options: got Tus-Extension %q, want expiration in it", ext)
			}

			data := apptest.VideoBytes(12 << 20)
			before := time.Now()
			resp, body := tusDo(t, "POST", e1.URL+"/api/uploads/", apptest.Token, nil, map[string]string{
				"Upload-Length": "12582912", "Upload-Metadata": tusMeta("clip.mp4")})
			if resp.StatusCode != http.StatusCreated {
				t.Fatalf("create: got %d %s, want 201", resp.StatusCode, body)
			}
			loc := resp.Header.Get("Location")
			path := loc[strings.Index(loc, "/api/uploads/"):]
			expires, err := http.ParseTime(resp.Header.Get("Upload-Expires"))
			if err != nil {
				t.Fatalf("create: Upload-Expires %q: %v", resp.Header.Get("Upload-Expires"), err)
			}
			if lo, hi := before.Add(time.Second), time.Now().Add(3*time.Second); expires.Before(lo) || expires.After(hi) {
				t.Errorf("create: got Upload-Expires %v, want 2 s after creation (%v to %v)", expires, lo, hi)
			}
			sameExpiry := func(what string, resp *http.Response) {
				t.Helper()
				if got := resp.Header.Get("Upload-Expires"); got != expires.UTC().Format(http.TimeFormat) {
					t.Errorf("%s: got Upload-Expires %q, want %q", what, got, expires.UTC().Format(http.TimeFormat))
				}
			}
			// A whole S3 part, then bytes that wait in a .part object.
			for _, chunk := range [][2]int{{0, 6 << 20}, {6 << 20, 7 << 20}} {
				resp, body = tusPatch(t, e1.URL, path, chunk[0], data[chunk[0]:chunk[1]])
				if resp.StatusCode != http.StatusNoContent {
					t.Fatalf("patch: got %d %s, want 204", resp.StatusCode, body)
				}
				sameExpiry("patch", resp)
			}
			resp, _ = tusDo(t, "HEAD", e1.URL+path, apptest.Token, nil, nil)
			sameExpiry("head", resp)

			time.Sleep(time.Until(expires.Add(time.Second)))
			if resp, _ := tusDo(t, "HEAD", e1.URL+path, apptest.Token, nil, nil); resp.StatusCode != http.StatusGone {
				t.Errorf("head once expired: got %d, want 410", resp.StatusCode)
			}
			resp, body = tusPatch(t, e1.URL, path, 7<<20, data[7<<20:])
			var eb apptest.ErrorBody
			if err := json.Unmarshal([]byte(body), &eb); err != nil || resp.StatusCode != http.StatusGone || eb.Code != "upload_expired" || eb.Error == "" {
				t.Errorf("patch once expired: got %d %s, want 410 with code upload_expired", resp.StatusCode, body)
			}
			var left []string
			for _, k := range e1.Objects() {
				if strings.HasPrefix(k, "uploads/") {
					left = append(left, k)
				}
			}
			t.Logf("state of the expired upload: %v", left)
			if len(left) == 0 {
				t.Fatal("the expired upload left no state before the janitor ran: nothing to test")
			}
			if e1.S3 != nil && len(e1.S3.OpenUploads(t, "raw")) != 1 {
				t.Fatalf("open multipart uploads before the janitor ran: got %v, want the upload's", e1.S3.OpenUploads(t, "raw"))
			}
			e1.Stop()

			// A second server on the same storage, whose janitor runs often,
			// and whose expiry (10 s) the upload, 12 s old, is past.
			time.Sleep(time.Until(before.Add(12 * time.Second)))
			env := []string{"ASSETLAB_UPLOAD_EXPIRY=10s", "ASSETLAB_JANITOR_INTERVAL=200ms"}
			if e1.S3 != nil {
				env = append(env, e1.S3.Env("raw", "videos")...)
			} else {
				env = append(env, "ASSETLAB_DATA_DIR="+e1.Config.DataDir)
			}
			e2 := apptest.Start(t, "local", env...)
			created := time.Now()
			live := tusCreate(t, e2.URL, "clip.mp4", len(data))
			if resp, body := tusPatch(t, e2.URL, live, 0, data[:1<<20]); resp.StatusCode != http.StatusNoContent {
				t.Fatalf("patch the live upload: got %d %s, want 204", resp.StatusCode, body)
			}
			liveObject := strings.TrimSuffix(strings.TrimPrefix(live, "/api/uploads/"), "")
			liveObject, _, _ = strings.Cut(liveObject, "+")
			expiredObject, _, _ := strings.Cut(strings.TrimPrefix(path, "/api/uploads/"), "+")

			var objs, open, files []string
			clean := func() bool {
				objs, open, files = nil, nil, nil
				for _, k := range e2.Objects() {
					if strings.Contains(k, expiredObject) {
						objs = append(objs, k)
					}
				}
				if e1.S3 != nil {
					for _, k := range e1.S3.OpenUploads(t, "raw") {
						if strings.Contains(k, expiredObject) {
							open = append(open, k)
						}
					}
				} else {
					entries, _ := os.ReadDir(filepath.Join(e1.Config.DataDir, "raw", "uploads", "tus"))
					for _, en := range entries {
						if strings.HasPrefix(en.Name(), expiredObject) {
							files = append(files, en.Name())
						}
					}
				}
				return len(objs)+len(open)+len(files) == 0
			}
			if !apptest.Within(30*time.Second, clean) {
				t.Fatalf("expired upload not removed: objects %v, open multipart uploads %v, files %v", objs, open, files)
			}
			resp, _ = tusDo(t, "HEAD", e2.URL+path, apptest.Token, nil, nil)
			if resp.StatusCode != http.StatusNotFound && resp.StatusCode != http.StatusGone {
				t.Errorf("head once removed: got %d, want 404 or 410", resp.StatusCode)
			}

			// The live upload was left alone (unless this machine was so slow
			// that it expired too).
			resp, _ = tusDo(t, "HEAD", e2.URL+live, apptest.Token, nil, nil)
			if time.Since(created) < 8*time.Second {
				if resp.StatusCode != http.StatusOK || resp.Header.Get("Upload-Offset") != "1048576" {
					t.Errorf("live upload: got %d offset %q, want 200 offset 1048576", resp.StatusCode, resp.Header.Get("Upload-Offset"))
				}
				found := false
				for _, k := range e2.Objects() {
					found = found || strings.Contains(k, liveObject)
				}
				if !found {
					t.Errorf("live upload: its state is gone")
				}
			} else {
				t.Logf("the live upload is %v old: not checked", time.Since(created))
			}
			t.Logf("%s: took %v", backend, time.Since(start).Round(100*time.Millisecond))
		})
	}
}
