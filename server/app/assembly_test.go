package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/assetlab/assetlab/server/app/apptest"
	"github.com/assetlab/assetlab/server/jobs"
)

// The server starts its in-process transcode workers itself, as many as
// ASSETLAB_WORKERS says: each announces itself, from this process.
func TestInProcessWorkersFromConfig(t *testing.T) {
	if _, err := exec.LookPath("ffmpeg"); err != nil {
		t.Skip("ffmpeg not installed")
	}
	e := apptest.Start(t, "local", "ASSETLAB_WORKERS=2")
	var list []jobs.WorkerInfo
	two := func() bool {
		var err error
		if list, err = jobs.Workers(context.Background(), e.Server.Stores().Videos); err != nil {
			t.Fatal(err)
		}
		names := map[string]bool{}
		for _, w := range list {
			if w.PID == os.Getpid() {
				names[w.Name] = true
			}
		}
		return len(names) == 2 && len(list) == 2
	}
	if !apptest.Within(2*time.Minute, two) {
		t.Fatalf("announced workers: got %+v, want two from this process (pid %d)", list, os.Getpid())
	}
}

// Every watch URL is absolute. On the local backend the server serves them
// itself, at the address the client reached it at (so that a browser on the
// LAN gets one it can reach), or at ASSETLAB_PUBLIC_URL when that is set; on
// S3 they are the bucket's presigned URLs.
func TestWatchURLsAreAbsolute(t *testing.T) {
	content := apptest.VideoBytes(300 << 10)
	upload := func(t *testing.T, e *apptest.Env) string { return e.UploadID(content) }
	// watchURL asks for the original's URL with the given Host and headers.
	watchURL := func(t *testing.T, e *apptest.Env, id, host string, header ...string) string {
		req, _ := http.NewRequest("GET", e.URL+"/api/video/"+id, nil)
		req.Host = host
		for i := 0; i+1 < len(header); i += 2 {
			req.Header.Set(header[i], header[i+1])
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var body struct{ URL string }
		if err := json.NewDecoder(resp.Body).Decode(&body); err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("GET /api/video/%s: got %d (%v), want 200 with a URL", id, resp.StatusCode, err)
		}
		return body.URL
	}
	fetch := func(t *testing.T, url string) {
		resp, err := http.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		got, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || !bytes.Equal(got, content) {
			t.Errorf("GET %s: got %d with %d bytes, want 200 with the %d uploaded", url, resp.StatusCode, len(got), len(content))
		}
	}

	t.Run("local", func(t *testing.T) {
		e := apptest.Start(t, "local")
		id := upload(t, e)
		port := e.Server.Port()
		for _, c := range []struct {
			host   string
			header []string
			want   string
		}{
			{fmt.Sprintf("127.0.0.1:%d", port), nil, fmt.Sprintf("http://127.0.0.1:%d/files/raw/", port)},
			{fmt.Sprintf("localhost:%d", port), nil, fmt.Sprintf("http://localhost:%d/files/raw/", port)},
			{"192.168.1.20:3000", nil, "http://192.168.1.20:3000/files/raw/"},
			{"media.example.org", []string{"X-Forwarded-Proto", "https"}, "https://media.example.org/files/raw/"},
		} {
			u := watchURL(t, e, id, c.host, c.header...)
			if !strings.HasPrefix(u, c.want) {
				t.Errorf("Host %s: got %q, want it to start with %q", c.host, u, c.want)
			}
		}
		u := watchURL(t, e, id, fmt.Sprintf("localhost:%d", port))
		fetch(t, u)
	})

	t.Run("local with PUBLIC_URL", func(t *testing.T) {
		e := apptest.Start(t, "local", "ASSETLAB_PUBLIC_URL=https://media.example.org")
		id := upload(t, e)
		u := watchURL(t, e, id, fmt.Sprintf("127.0.0.1:%d", e.Server.Port()))
		if want := "https://media.example.org/files/raw/"; !strings.HasPrefix(u, want) {
			t.Errorf("got %q, want it to start with %q", u, want)
		}
		// The same URL, sent to this server, is served.
		fetch(t, strings.Replace(u, "https://media.example.org", e.URL, 1))
	})

	t.Run("s3", func(t *testing.T) {
		e := apptest.Start(t, "s3")
		id := upload(t, e)
		u := watchURL(t, e, id, fmt.Sprintf("127.0.0.1:%d", e.Server.Port()))
		if want := e.S3.Endpoint + "/raw/"; !strings.HasPrefix(u, want) {
			t.Errorf("got %q, want it to start with %q", u, want)
		}
		fetch(t, u)
	})
}
