package storage

import (
	"context"
	"errors"
	"math/rand/v2"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Many uploads working the way putMultipart does (a reader taking buffers,
// senders handing them back) never hold more than the budget between them,
// never make more buffers than it allows, and all finish.
func TestBudgetSharedByManyUploads(t *testing.T) {
	for _, c := range []struct {
		name             string
		buffers, uploads int
		limit, senders   int
	}{
		{"one buffer, many uploads", 1, 30, 6, 4},
		{"fewer buffers than uploads", 3, 40, 6, 4},
		{"as many buffers as one upload wants", 6, 20, 6, 4},
		{"plenty", 64, 10, 6, 4},
	} {
		t.Run(c.name, func(t *testing.T) {
			b := NewBudget(int64(c.buffers) * PartSize)
			if got := b.Buffers(); got != c.buffers {
				t.Fatalf("got %d buffers, want %d", got, c.buffers)
			}
			var inUse, peak atomic.Int32
			var seen sync.Map // buffers handed out, by address
			use := func() {
				n := inUse.Add(1)
				for p := peak.Load(); n > p && !peak.CompareAndSwap(p, n); p = peak.Load() {
				}
			}
			upload := func(seed uint64) error {
				rng := rand.New(rand.NewPCG(seed, 1))
				ctx := context.Background()
				bufs, err := b.reserve(ctx, c.limit)
				if err != nil {
					return err
				}
				defer bufs.release()
				work := make(chan *[]byte, 1)
				var wg sync.WaitGroup
				for range c.senders {
					wg.Add(1)
					go func() {
						defer wg.Done()
						for buf := range work {
							runtime.Gosched()
							inUse.Add(-1)
							bufs.put(buf)
						}
					}()
				}
				for range 5 + rng.IntN(10) {
					buf, err := bufs.get(ctx)
					if err != nil {
						return err
					}
					use()
					seen.Store(buf, true)
					(*buf)[rng.IntN(PartSize)] = 1 // the memory is there to use
					work <- buf
				}
				close(work)
				wg.Wait()
				return nil
			}
			done := make(chan error, c.uploads)
			for i := range c.uploads {
				go func() { done <- upload(uint64(i)) }()
			}
			timeout := time.After(60 * time.Second)
			for range c.uploads {
				select {
				case err := <-done:
					if err != nil {
						t.Fatal(err)
					}
				case <-timeout:
					buf := make([]byte, 1<<20)
					t.Fatalf("uploads still running after 60 s (deadlock?)\n%s", buf[:runtime.Stack(buf, true)])
				}
			}
			distinct := 0
			seen.Range(func(any, any) bool { distinct++; return true })
			if p := int(peak.Load()); p > c.buffers {
				t.Errorf("got %d buffers in use at once, want at most %d", p, c.buffers)
			}
			if m := int(b.made.Load()); m > c.buffers || distinct > c.buffers {
				t.Errorf("got %d buffers made (%d distinct handed out), want at most %d", m, distinct, c.buffers)
			}
			if b.InUse() != 0 || b.Waiting() != 0 {
				t.Errorf("after all uploads: got %d in use, %d waiting, want 0 and 0", b.InUse(), b.Waiting())
			}
		})
	}
}

// An upload alone takes extra buffers up to its limit without waiting, and
// gives them back to an upload that waits for its first.
func TestBudgetExtraBuffers(t *testing.T) {
	b := NewBudget(3 * PartSize)
	ctx := context.Background()
	a, err := b.reserve(ctx, 3)
	if err != nil {
		t.Fatal(err)
	}
	var held []*[]byte
	for i := range 3 {
		buf, err := b.tryGet(a)
		if err != nil {
			t.Fatalf("buffer %d of an upload alone: %v", i+1, err)
		}
		held = append(held, buf)
	}
	if _, err := b.tryGet(a); err == nil {
		t.Fatal("a fourth buffer, over the upload's limit: got one, want a wait")
	}

	second := make(chan *partBuffers)
	go func() {
		p, err := b.reserve(ctx, 3)
		if err != nil {
			t.Error(err)
		}
		second <- p
	}()
	waitFor(t, "the second upload to wait", func() bool { return b.Waiting() == 1 })
	a.put(held[0])
	var p *partBuffers
	select {
	case p = <-second:
	case <-time.After(10 * time.Second):
		t.Fatal("the second upload did not get the buffer the first gave back")
	}
	// The first keeps working with what it holds.
	a.put(held[1])
	if held[1], err = b.tryGet(a); err != nil {
		t.Errorf("the first upload's own buffer, back: %v", err)
	}
	if b.InUse() != 3 {
		t.Errorf("got %d buffers in use, want 3", b.InUse())
	}
	p.put(mustGet(t, p))
	p.release()
	a.put(held[1])
	a.put(held[2])
	a.release()
	if b.InUse() != 0 {
		t.Errorf("after both: got %d buffers in use, want 0", b.InUse())
	}
}

// Cancelling an upload that waits for memory ends its wait and leaves
// nothing held; releasing one that holds buffers lets the next one in.
func TestBudgetCancel(t *testing.T) {
	b := NewBudget(PartSize) // one buffer
	holder, err := b.reserve(context.Background(), 6)
	if err != nil {
		t.Fatal(err)
	}
	buf := mustGet(t, holder)

	ctx, cancel := context.WithCancel(context.Background())
	waited := make(chan error, 1)
	go func() {
		_, err := b.reserve(ctx, 6)
		waited <- err
	}()
	waitFor(t, "the second upload to wait", func() bool { return b.Waiting() == 1 })
	cancel()
	select {
	case err := <-waited:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("cancelled wait: got %v, want context.Canceled", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("cancelling did not end the wait")
	}
	if b.Waiting() != 0 || b.InUse() != 1 {
		t.Errorf("after the cancelled wait: got %d waiting, %d in use, want 0 and 1", b.Waiting(), b.InUse())
	}

	// The holder waits for its own buffer to come back (it has no other):
	// cancelling that wait works too.
	ctx, cancel = context.WithCancel(context.Background())
	got := make(chan error, 1)
	go func() {
		_, err := holder.get(ctx)
		got <- err
	}()
	time.Sleep(20 * time.Millisecond)
	cancel()
	if err := <-got; !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled get: got %v, want context.Canceled", err)
	}

	next := make(chan *partBuffers, 1)
	go func() {
		p, _ := b.reserve(context.Background(), 6)
		next <- p
	}()
	holder.put(buf)
	holder.release()
	select {
	case p := <-next:
		p.release()
	case <-time.After(10 * time.Second):
		t.Fatal("a released buffer did not reach the next upload")
	}
	if b.InUse() != 0 || b.made.Load() != 1 {
		t.Errorf("at the end: got %d in use, %d made, want 0 and 1", b.InUse(), b.made.Load())
	}
}

// tryGet is get that fails instead of waiting.
func (b *Budget) tryGet(p *partBuffers) (*[]byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	return p.get(ctx)
}

func mustGet(t *testing.T, p *partBuffers) *[]byte {
	t.Helper()
	buf, err := p.b.tryGet(p)
	if err != nil {
		t.Fatal(err)
	}
	return buf
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
