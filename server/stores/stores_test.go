package stores_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/assetlab/assetlab/server/config"
	"github.com/assetlab/assetlab/server/storage/s3test"
	"github.com/assetlab/assetlab/server/stores"
)

func TestLocalURL(t *testing.T) {
	for _, c := range []struct {
		host string
		port int
		want string
	}{
		{"", 3000, "http://127.0.0.1:3000"},
		{"0.0.0.0", 3000, "http://127.0.0.1:3000"},
		{"::", 8080, "http://127.0.0.1:8080"},
		{"127.0.0.1", 41234, "http://127.0.0.1:41234"},
		{"192.168.1.20", 3000, "http://192.168.1.20:3000"},
		{"::1", 3000, "http://[::1]:3000"},
		{"localhost", 3000, "http://localhost:3000"},
	} {
		if got := stores.LocalURL(c.host, c.port); got != c.want {
			t.Errorf("LocalURL(%q, %d): got %q, want %q", c.host, c.port, got, c.want)
		}
	}
}

// Each store comes with its capabilities found once: the local backend's
// files are read in place and its signed URLs served by the server, whose
// address (or PUBLIC_URL) starts them; S3's are neither.
func TestOpen(t *testing.T) {
	ctx := context.Background()
	open := func(t *testing.T, vars map[string]string, port int) *stores.Set {
		t.Helper()
		cfg, err := config.FromEnv(func(k string) string { return vars[k] })
		if err != nil {
			t.Fatal(err)
		}
		set, err := stores.Open(ctx, cfg, port, nil)
		if err != nil {
			t.Fatal(err)
		}
		return set
	}
	for _, c := range []struct {
		name, publicURL, host string
		port                  int
		want                  string
	}{
		{"server's own address", "", "", 41234, "http://127.0.0.1:41234/files/"},
		{"the host it listens on", "", "192.168.1.20", 3000, "http://192.168.1.20:3000/files/"},
		{"PUBLIC_URL", "https://media.example.org", "", 41234, "https://media.example.org/files/"},
	} {
		t.Run("local/"+c.name, func(t *testing.T) {
			set := open(t, map[string]string{"ASSETLAB_DATA_DIR": t.TempDir(), "HOST": c.host,
				"ASSETLAB_PUBLIC_URL": c.publicURL}, c.port)
			for name, s := range map[string]struct {
				files, served bool
				store         interface {
					PresignGet(context.Context, string, time.Duration) (string, error)
				}
			}{
				"raw":    {set.Raw.Files != nil, set.Raw.SelfServed != nil, set.Raw},
				"videos": {set.Videos.Files != nil, set.Videos.SelfServed != nil, set.Videos},
			} {
				if !s.files || !s.served {
					t.Errorf("%s: got Files %v, SelfServed %v, want both", name, s.files, s.served)
				}
				u, err := s.store.PresignGet(ctx, "a/b.mp4", time.Minute)
				if want := c.want + name + "/a/b.mp4?"; err != nil || !strings.HasPrefix(u, want) {
					t.Errorf("%s: PresignGet: got %q (%v), want it to start with %q", name, u, err, want)
				}
			}
		})
	}
	t.Run("s3", func(t *testing.T) {
		gw := s3test.Start(t, "raw", "videos")
		vars := map[string]string{}
		for _, kv := range gw.Env("raw", "videos") {
			k, v, _ := strings.Cut(kv, "=")
			vars[k] = v
		}
		set := open(t, vars, 3000)
		for name, s := range map[string]bool{
			"raw Files": set.Raw.Files != nil, "raw SelfServed": set.Raw.SelfServed != nil,
			"videos Files": set.Videos.Files != nil, "videos SelfServed": set.Videos.SelfServed != nil,
		} {
			if s {
				t.Errorf("%s: got one, want none on S3", name)
			}
		}
		u, err := set.Raw.PresignGet(ctx, "a/b.mp4", time.Minute)
		if err != nil || !strings.HasPrefix(u, gw.Endpoint+"/raw/a/b.mp4?") {
			t.Errorf("PresignGet: got %q (%v), want it to start with %q", u, err, gw.Endpoint+"/raw/a/b.mp4?")
		}
	})
}

// The sweep of untracked multipart uploads never takes a resumable upload
// that has not expired: tusd's multipart uploads are untracked.
func TestUntrackedAfterOutlivesUploadExpiry(t *testing.T) {
	for _, expiry := range []time.Duration{time.Minute, 24 * time.Hour, 72 * time.Hour} {
		cfg := config.Config{UploadExpiry: expiry}
		if got := stores.UntrackedAfter(cfg); got <= expiry || got < 24*time.Hour {
			t.Errorf("expiry %v: got untracked age %v, want more than the expiry and at least 24h", expiry, got)
		}
	}
}
