package storage_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

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
			Resolve: func(u string) string { return u },
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
			Resolve:   func(u string) string { return u },
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
