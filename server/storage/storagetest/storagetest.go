// Package storagetest is the conformance suite every storage backend passes.
package storagetest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/assetlab/assetlab/server/storage"
)

// Backend is a store under test and a way to see what a failed write left behind.
type Backend struct {
	Store storage.Store
	// Leftovers lists what failed writes left (open multipart uploads, temp files).
	Leftovers func(t *testing.T) []string
}

// Run runs the suite against the backend made by newBackend (called once per subtest).
func Run(t *testing.T, newBackend func(t *testing.T) Backend) {
	ctx := context.Background()

	t.Run("StreamingMultipartPut", func(t *testing.T) {
		b := newBackend(t)
		const size = 23<<20 + 12345 // four full parts and a short one
		src := newPattern(1, size)
		// Hide any Seek or WriterTo: the store must stream.
		info, err := b.Store.Put(ctx, "big/one.bin", io.MultiReader(src), "application/octet-stream")
		if err != nil {
			t.Fatalf("Put: %v", err)
		}
		if info.Size != size {
			t.Errorf("Put size: got %d, want %d", info.Size, size)
		}
		rc, got, err := b.Store.Get(ctx, "big/one.bin")
		if err != nil {
			t.Fatalf("Get: %v", err)
		}
		defer rc.Close()
		if got.Size != size {
			t.Errorf("Get size: got %d, want %d", got.Size, size)
		}
		h := sha256.New()
		if _, err := io.Copy(h, rc); err != nil {
			t.Fatal(err)
		}
		if want := newPattern(1, size).sum(); !bytes.Equal(h.Sum(nil), want) {
			t.Errorf("content differs from what was put")
		}
	})

	t.Run("SmallPutAndOverwrite", func(t *testing.T) {
		b := newBackend(t)
		for _, body := range []string{"first", "second, longer"} {
			if _, err := b.Store.Put(ctx, "doc.json", strings.NewReader(body), "application/json"); err != nil {
				t.Fatal(err)
			}
			got, err := storage.ReadAll(ctx, b.Store, "doc.json")
			if err != nil || string(got) != body {
				t.Errorf("ReadAll: got %q, %v, want %q", got, err, body)
			}
		}
	})

	t.Run("FailedPutLeavesNothing", func(t *testing.T) {
		for _, size := range []int64{100, 7 << 20, 16 << 20} {
			t.Run(fmt.Sprint(size), func(t *testing.T) {
				b := newBackend(t)
				boom := errors.New("reader broke")
				r := io.MultiReader(io.LimitReader(newPattern(2, size), size), errReader{boom})
				_, err := b.Store.Put(ctx, "broken.bin", r, "")
				if !errors.Is(err, boom) {
					t.Fatalf("Put: got %v, want the reader's error", err)
				}
				if _, err := b.Store.Stat(ctx, "broken.bin"); !errors.Is(err, storage.ErrNotFound) {
					t.Errorf("Stat after failed Put: got %v, want ErrNotFound", err)
				}
				if left := b.Leftovers(t); len(left) > 0 {
					t.Errorf("failed Put left %v", left)
				}
			})
		}
	})

	t.Run("CancelledPutLeavesNothing", func(t *testing.T) {
		b := newBackend(t)
		cctx, cancel := context.WithCancel(ctx)
		pr, pw := io.Pipe()
		go func() {
			pw.Write(make([]byte, 11<<20))
			cancel()
			pw.CloseWithError(context.Canceled)
		}()
		if _, err := b.Store.Put(cctx, "cancelled.bin", pr, ""); err == nil {
			t.Fatal("Put after cancel: got no error")
		}
		if _, err := b.Store.Stat(ctx, "cancelled.bin"); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("Stat: got %v, want ErrNotFound", err)
		}
		if left := b.Leftovers(t); len(left) > 0 {
			t.Errorf("cancelled Put left %v", left)
		}
	})

	// Readers of a stored object at an offset (FFmpeg seeking in a video)
	// make ranged requests to its presigned URL.
	t.Run("RangeReads", func(t *testing.T) {
		b := newBackend(t)
		const size = 1 << 20
		data, _ := io.ReadAll(newPattern(3, size))
		if _, err := b.Store.Put(ctx, "r.bin", bytes.NewReader(data), ""); err != nil {
			t.Fatal(err)
		}
		u, err := b.Store.PresignGet(ctx, "r.bin", time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct{ off, n int64 }{{0, 10}, {500000, 4096}, {size - 7, 7}, {1000, -1}, {size - 1, -1}} {
			rng := fmt.Sprintf("bytes=%d-", c.off)
			want := data[c.off:]
			if c.n >= 0 {
				rng += fmt.Sprint(c.off + c.n - 1)
				want = data[c.off : c.off+c.n]
			}
			req, _ := http.NewRequest("GET", u, nil)
			req.Header.Set("Range", rng)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatalf("GET %s: %v", rng, err)
			}
			got, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusPartialContent || err != nil || !bytes.Equal(got, want) {
				t.Errorf("GET %s: got %d with %d bytes (%v), want 206 with %d matching bytes", rng, resp.StatusCode, len(got), err, len(want))
			}
		}
	})

	t.Run("PresignedURL", func(t *testing.T) {
		b := newBackend(t)
		data, _ := io.ReadAll(newPattern(4, 100000))
		if _, err := b.Store.Put(ctx, "dir/video.mp4", bytes.NewReader(data), "video/mp4"); err != nil {
			t.Fatal(err)
		}
		u, err := b.Store.PresignGet(ctx, "dir/video.mp4", time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		// Browsers and FFmpeg get it as it is: it must say where to go.
		if p, err := url.Parse(u); err != nil || !p.IsAbs() || p.Host == "" {
			t.Errorf("presigned URL %q: want an absolute URL", u)
		}
		req, _ := http.NewRequest("GET", u, nil)
		req.Header.Set("Range", "bytes=100-199")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		got, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusPartialContent || !bytes.Equal(got, data[100:200]) {
			t.Errorf("ranged GET of presigned URL: got %d with %d bytes, want 206 with bytes 100-199", resp.StatusCode, len(got))
		}
		// A tampered URL is refused.
		if code := getStatus(t, strings.Replace(u, "video.mp4", "other.mp4", 1)); code != http.StatusForbidden && code != http.StatusNotFound {
			t.Errorf("tampered URL: got %d, want 403", code)
		}

		short, err := b.Store.PresignGet(ctx, "dir/video.mp4", time.Second)
		if err != nil {
			t.Fatal(err)
		}
		if code := getStatus(t, short); code != http.StatusOK {
			t.Errorf("fresh URL: got %d, want 200", code)
		}
		time.Sleep(2100 * time.Millisecond)
		if code := getStatus(t, short); code != http.StatusForbidden {
			t.Errorf("expired URL: got %d, want 403", code)
		}
	})

	t.Run("CreateIsExclusive", func(t *testing.T) {
		b := newBackend(t)
		for round := 0; round < 3; round++ {
			const n = 20
			key := fmt.Sprintf("claims/job-%d", round)
			var wg sync.WaitGroup
			errs := make([]error, n)
			for i := range n {
				wg.Add(1)
				go func() {
					defer wg.Done()
					errs[i] = b.Store.Create(ctx, key, []byte(fmt.Sprintf("creator %d", i)), "text/plain")
				}()
			}
			wg.Wait()
			winner, wins := -1, 0
			for i, err := range errs {
				switch {
				case err == nil:
					winner, wins = i, wins+1
				case !errors.Is(err, storage.ErrExists):
					t.Errorf("creator %d: got %v, want nil or ErrExists", i, err)
				}
			}
			if wins != 1 {
				t.Fatalf("round %d: %d creators won, want exactly 1", round, wins)
			}
			got, err := storage.ReadAll(ctx, b.Store, key)
			if want := fmt.Sprintf("creator %d", winner); err != nil || string(got) != want {
				t.Errorf("content: got %q (%v), want the winner's %q", got, err, want)
			}
		}
	})

	t.Run("DeleteAndList", func(t *testing.T) {
		b := newBackend(t)
		keys := []string{"a/1", "a/2", "a/sub/3", "ab/4", "b/5"}
		for _, k := range keys {
			if _, err := b.Store.Put(ctx, k, strings.NewReader(k), ""); err != nil {
				t.Fatal(err)
			}
		}
		list := func(prefix string) string {
			infos, err := b.Store.List(ctx, prefix)
			if err != nil {
				t.Fatalf("List(%q): %v", prefix, err)
			}
			var ks []string
			for _, i := range infos {
				ks = append(ks, i.Key)
			}
			return strings.Join(ks, ",")
		}
		for prefix, want := range map[string]string{
			"a/": "a/1,a/2,a/sub/3", "a": "a/1,a/2,a/sub/3,ab/4", "": "a/1,a/2,a/sub/3,ab/4,b/5",
			"a/s": "a/sub/3", "c/": "",
		} {
			if got := list(prefix); got != want {
				t.Errorf("List(%q): got %q, want %q", prefix, got, want)
			}
		}
		if err := b.Store.Delete(ctx, "a/sub/3"); err != nil {
			t.Fatal(err)
		}
		if err := b.Store.Delete(ctx, "a/sub/3"); err != nil {
			t.Errorf("Delete of a missing key: got %v, want nil", err)
		}
		if _, _, err := b.Store.Get(ctx, "a/sub/3"); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("Get after Delete: got %v, want ErrNotFound", err)
		}
		if got, want := list("a/"), "a/1,a/2"; got != want {
			t.Errorf("List after Delete: got %q, want %q", got, want)
		}
		if _, err := b.Store.Stat(ctx, "nope"); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("Stat of a missing key: got %v, want ErrNotFound", err)
		}
	})
}

func getStatus(t *testing.T, url string) int {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }

// pattern is a deterministic pseudo-random stream of n bytes.
type pattern struct {
	rng  *rand.ChaCha8
	left int64
}

func newPattern(seed byte, n int64) *pattern {
	return &pattern{rng: rand.NewChaCha8([32]byte{seed}), left: n}
}

func (p *pattern) Read(b []byte) (int, error) {
	if p.left <= 0 {
		return 0, io.EOF
	}
	if int64(len(b)) > p.left {
		b = b[:p.left]
	}
	p.rng.Read(b)
	p.left -= int64(len(b))
	return len(b), nil
}

func (p *pattern) sum() []byte {
	h := sha256.New()
	io.Copy(h, p)
	return h.Sum(nil)
}
