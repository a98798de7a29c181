package uploads

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/assetlab/assetlab/server/storage"
	"github.com/assetlab/assetlab/server/storage/s3test"
	"github.com/tus/tusd/v2/pkg/handler"
)

func eachBackend(t *testing.T, f func(t *testing.T, s storage.Store)) {
	t.Run("local", func(t *testing.T) {
		s, err := storage.NewLocal("videos", t.TempDir(), []byte("0123456789abcdef0123456789abcdef"), "http://127.0.0.1")
		if err != nil {
			t.Fatal(err)
		}
		f(t, s)
	})
	t.Run("s3", func(t *testing.T) {
		gw := s3test.Start(t)
		f(t, gw.CreateBucket(t, "videos"))
	})
}

func newLocker(s storage.Store, holder string) *Locker {
	return &Locker{Store: s, Holder: holder, Lease: 2 * time.Second, Poll: 100 * time.Millisecond}
}

// A second process waiting for an upload's lock asks its holder to let go;
// the holder is told, unlocks, and the waiter gets it.
func TestLockerAsksTheHolderToLetGo(t *testing.T) {
	eachBackend(t, func(t *testing.T, s storage.Store) {
		a, _ := newLocker(s, "a").NewLock("up1")
		b, _ := newLocker(s, "b").NewLock("up1")
		asked := make(chan struct{})
		if err := a.Lock(context.Background(), func() { close(asked) }); err != nil {
			t.Fatal(err)
		}
		go func() {
			<-asked
			a.Unlock()
		}()
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		start := time.Now()
		if err := b.Lock(ctx, func() {}); err != nil {
			t.Fatalf("b: %v", err)
		}
		t.Logf("b got the lock %v after asking", time.Since(start).Round(time.Millisecond))
		b.Unlock()
	})
}

// A holder that dies (never unlocks, never renews) loses the lock once its
// lease has run out; a holder that does not let go keeps it, and the waiter
// times out.
func TestLockerLeases(t *testing.T) {
	eachBackend(t, func(t *testing.T, s storage.Store) {
		dead, _ := newLocker(s, "dead").NewLock("up2")
		if err := dead.Lock(context.Background(), nil); err != nil {
			t.Fatal(err)
		}
		// Dies: its renewals stop, nothing is released.
		l := dead.(*lock)
		l.stop()
		<-l.kept

		b, _ := newLocker(s, "b").NewLock("up2")
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		start := time.Now()
		if err := b.Lock(ctx, nil); err != nil {
			t.Fatalf("b after the holder died: %v", err)
		}
		if waited := time.Since(start); waited < time.Second {
			t.Errorf("b got the lock after %v, before the dead holder's lease ran out", waited)
		}

		// b keeps it while alive and not letting go.
		c, _ := newLocker(s, "c").NewLock("up2")
		short, cancel2 := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel2()
		var herr handler.Error
		if err := c.Lock(short, nil); !errors.As(err, &herr) || herr.HTTPResponse.StatusCode != http.StatusLocked {
			t.Errorf("c while b holds and renews: got %v, want a 423 answer", err)
		}
		b.Unlock()
	})
}

// Processes racing for one upload's lock hold it one at a time.
func TestLockerExclusive(t *testing.T) {
	eachBackend(t, func(t *testing.T, s storage.Store) {
		var inside, most, turns atomic.Int32
		var wg sync.WaitGroup
		for i := range 5 {
			wg.Go(func() {
				l, _ := newLocker(s, "p"+string(rune('0'+i))).NewLock("up3")
				for range 2 {
					ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
					err := l.Lock(ctx, func() {})
					cancel()
					if err != nil {
						t.Errorf("lock: %v", err)
						return
					}
					n := inside.Add(1)
					for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
					}
					time.Sleep(50 * time.Millisecond)
					inside.Add(-1)
					turns.Add(1)
					l.Unlock()
				}
			})
		}
		wg.Wait()
		if most.Load() != 1 || turns.Load() != 10 {
			t.Errorf("at most %d holders at once over %d turns, want 1 over 10", most.Load(), turns.Load())
		}
	})
}

// A request that writes (a PATCH) waits for a held lock without asking its
// holder to let go: stopping a PATCH that is writing would fail both. It
// gets the lock once the holder is done, or a 423 if it is not in time.
func TestLockerWriterWaits(t *testing.T) {
	eachBackend(t, func(t *testing.T, s storage.Store) {
		a, _ := newLocker(s, "a").NewLock("up3")
		asked := make(chan struct{}, 1)
		if err := a.Lock(context.Background(), func() { asked <- struct{}{} }); err != nil {
			t.Fatal(err)
		}
		writing := context.WithValue(context.Background(), waitKey{}, true)
		b, _ := newLocker(s, "b").NewLock("up3")
		short, cancel := context.WithTimeout(writing, 1500*time.Millisecond)
		defer cancel()
		var herr handler.Error
		if err := b.Lock(short, func() {}); !errors.As(err, &herr) || herr.HTTPResponse.StatusCode != http.StatusLocked {
			t.Errorf("b while a holds: got %v, want a 423 answer", err)
		}
		select {
		case <-asked:
			t.Error("a was asked to let go by a writing request")
		default:
		}
		a.Unlock()
		ctx, cancel2 := context.WithTimeout(writing, 20*time.Second)
		defer cancel2()
		if err := b.Lock(ctx, func() {}); err != nil {
			t.Fatalf("b once a let go: %v", err)
		}
		b.Unlock()
	})
}
