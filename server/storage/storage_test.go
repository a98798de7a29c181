package storage_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/assetlab/assetlab/server/storage"
	"github.com/assetlab/assetlab/server/storage/s3test"
	"github.com/assetlab/assetlab/server/storage/storagetest"
)

func TestLocalConformance(t *testing.T) {
	storagetest.Run(t, func(t *testing.T) storagetest.Backend {
		root := t.TempDir()
		var l *storage.Local
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			l.ServeSigned(w, r, strings.TrimPrefix(r.URL.Path, "/files/videos/"))
		}))
		t.Cleanup(srv.Close)
		l, err := storage.NewLocal("videos", root, []byte("0123456789abcdef0123456789abcdef"), srv.URL)
		if err != nil {
			t.Fatal(err)
		}
		return storagetest.Backend{
			Store: l,
			Leftovers: func(t *testing.T) []string {
				entries, _ := os.ReadDir(filepath.Join(root, ".tmp"))
				var names []string
				for _, e := range entries {
					names = append(names, e.Name())
				}
				return names
			},
		}
	})
}

func TestS3Conformance(t *testing.T) {
	gw := s3test.Start(t)
	var n atomic.Int32
	storagetest.Run(t, func(t *testing.T) storagetest.Backend {
		// A fresh bucket for each subtest, on one server.
		bucket := fmt.Sprintf("conformance-%d", n.Add(1))
		st := gw.CreateBucket(t, bucket)
		return storagetest.Backend{
			Store:     st,
			Leftovers: func(t *testing.T) []string { return gw.OpenUploads(t, bucket) },
		}
	})
}

func TestValidKey(t *testing.T) {
	for key, want := range map[string]bool{
		"a": true, "a/b.mp4": true, "videos/x/meta.json": true,
		"": false, "/a": false, "a/": false, "a//b": false, "../a": false, "a/../b": false,
		"a/./b": false, `a\b`: false, "a\x00": false, ".tmp/x": false, strings.Repeat("a", 1025): false,
	} {
		if got := storage.ValidKey(key); got != want {
			t.Errorf("ValidKey(%q): got %v, want %v", key, got, want)
		}
	}
}

// The local backend's signed URLs are absolute, whoever asks: PresignGet
// starts them with the base it was opened with, PresignGetAt with the one
// given (the address a client reached the server at), and a store cannot be
// opened with a base that would make them relative.
func TestLocalSignedURLsAreAbsolute(t *testing.T) {
	secret := []byte("0123456789abcdef0123456789abcdef")
	for _, base := range []string{"", "/", "/files", "localhost:3000", "127.0.0.1:3000", "ftp://host", "http://"} {
		if _, err := storage.NewLocal("videos", t.TempDir(), secret, base); err == nil {
			t.Errorf("NewLocal with base %q: got no error, want one", base)
		}
	}
	l, err := storage.NewLocal("videos", t.TempDir(), secret, "http://127.0.0.1:3000/")
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	u, err := l.PresignGet(ctx, "v/a b.mp4", time.Minute)
	if want := "http://127.0.0.1:3000/files/videos/v/a%20b.mp4?exp="; err != nil || !strings.HasPrefix(u, want) {
		t.Errorf("PresignGet: got %q (%v), want it to start with %q", u, err, want)
	}
	u, err = l.PresignGetAt(ctx, "https://media.example.org", "v/a.mp4", time.Minute)
	if want := "https://media.example.org/files/videos/v/a.mp4?exp="; err != nil || !strings.HasPrefix(u, want) {
		t.Errorf("PresignGetAt: got %q (%v), want it to start with %q", u, err, want)
	}
	if u, err := l.PresignGetAt(ctx, "", "v/a.mp4", time.Minute); err == nil {
		t.Errorf("PresignGetAt with no base: got %q, want an error", u)
	}
}

// Compose finds what each backend offers besides Store, once: the local
// backend's files are readable in place and its URLs served by this process;
// S3 has neither. A Composer keeps what was found when it is composed again.
func TestCompose(t *testing.T) {
	l, err := storage.NewLocal("raw", t.TempDir(), []byte("0123456789abcdef0123456789abcdef"), "http://127.0.0.1:3000")
	if err != nil {
		t.Fatal(err)
	}
	c := storage.Compose(l)
	if c.Files == nil || c.SelfServed == nil || c.Store != l {
		t.Errorf("Compose(local): got Files %v, SelfServed %v, want both", c.Files, c.SelfServed)
	}
	if again := storage.Compose(c); again != c {
		t.Errorf("Compose(Compose(local)): got %+v, want %+v", again, c)
	}
	gw := s3test.Start(t)
	s3 := storage.Compose(gw.CreateBucket(t, "compose"))
	if s3.Files != nil || s3.SelfServed != nil {
		t.Errorf("Compose(s3): got Files %v, SelfServed %v, want neither", s3.Files, s3.SelfServed)
	}
}
