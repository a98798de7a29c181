package storage

import (
	"context"
	"sync"
	"sync/atomic"
)

// Budget is the memory that every upload of a process shares for its part
// buffers: at most Buffers() buffers of PartSize exist at once, so that the
// memory uploads take is bounded however many run.
//
// An upload takes one buffer up front, waiting for it in turn (first come,
// first served), and can finish with that one alone by sending its parts one
// after the other. More buffers, to read ahead and send parts in parallel, it
// takes only when they are free at that moment, never by waiting. So an upload
// never waits for memory while it holds some, and uploads cannot deadlock on
// the budget however many there are. An upload's extra buffers go back to the
// budget as each of its parts is sent, whenever another upload is waiting.
//
// Buffers live outside the Go heap where the platform allows (allocPart), so
// that they do not raise the collector's heap goal either, and are kept for
// reuse rather than made afresh for every part.
type Budget struct {
	tokens  chan struct{} // one per buffer that may be in use
	free    chan *[]byte  // buffers made and not in use
	waiting atomic.Int32  // uploads waiting for their first buffer
	made    atomic.Int32  // buffers made, ever
}

// NewBudget makes a budget of size bytes (at least one buffer).
func NewBudget(size int64) *Budget {
	n := int(max(size/PartSize, 1))
	b := &Budget{tokens: make(chan struct{}, n), free: make(chan *[]byte, n)}
	for range n {
		b.tokens <- struct{}{}
	}
	return b
}

// Buffers is the number of PartSize buffers the budget allows.
func (b *Budget) Buffers() int { return cap(b.tokens) }

// InUse is the number of buffers held by uploads now.
func (b *Budget) InUse() int { return cap(b.tokens) - len(b.tokens) }

// Waiting is the number of uploads waiting for their first buffer.
func (b *Budget) Waiting() int { return int(b.waiting.Load()) }

// take returns a buffer for a token just taken.
func (b *Budget) take() *[]byte {
	select {
	case buf := <-b.free:
		return buf
	default:
		// Buffers are made only while free ones run out, and a token is held
		// for each in use: there are never more than Buffers().
		b.made.Add(1)
		return allocPart()
	}
}

// give returns a buffer and its token. The buffer goes back first, so that
// whoever gets the token finds it.
func (b *Budget) give(buf *[]byte) {
	b.free <- buf
	b.tokens <- struct{}{}
}

// acquire waits for a buffer until ctx ends. Waiters are served in the order
// they came: a token given back goes straight to the longest waiting, and
// tryAcquire cannot take it from under them.
func (b *Budget) acquire(ctx context.Context) (*[]byte, error) {
	select {
	case <-b.tokens:
		return b.take(), nil
	default:
	}
	b.waiting.Add(1)
	defer b.waiting.Add(-1)
	select {
	case <-b.tokens:
		return b.take(), nil
	case <-ctx.Done():
		return nil, context.Cause(ctx)
	}
}

// tryAcquire returns a buffer if one is free now, and nil otherwise.
func (b *Budget) tryAcquire() *[]byte {
	select {
	case <-b.tokens:
		return b.take()
	default:
		return nil
	}
}

// reserve waits for an upload's first buffer, and returns the upload's share
// of the budget: that buffer, and up to limit buffers in all as they are free.
func (b *Budget) reserve(ctx context.Context, limit int) (*partBuffers, error) {
	buf, err := b.acquire(ctx)
	if err != nil {
		return nil, err
	}
	p := &partBuffers{b: b, limit: max(limit, 1), held: 1, idle: make(chan *[]byte, max(limit, 1))}
	p.idle <- buf
	return p, nil
}

// partBuffers is one upload's share of a Budget. get is called by the one
// goroutine that reads the source; put by any.
type partBuffers struct {
	b     *Budget
	limit int
	idle  chan *[]byte // held and not in use

	mu   sync.Mutex
	held int // taken from the budget and not given back
}

// get returns a buffer for the next part: an idle one of the upload's own, or
// a free one of the budget's, or else the next of the upload's own to come
// back (it holds at least one, which a part being sent will return).
func (p *partBuffers) get(ctx context.Context) (*[]byte, error) {
	select {
	case buf := <-p.idle:
		return buf, nil
	default:
	}
	p.mu.Lock()
	if p.held < p.limit {
		if buf := p.b.tryAcquire(); buf != nil {
			p.held++
			p.mu.Unlock()
			return buf, nil
		}
	}
	p.mu.Unlock()
	select {
	case buf := <-p.idle:
		return buf, nil
	case <-ctx.Done():
		return nil, context.Cause(ctx)
	}
}

// put hands back a buffer the upload is done with. A buffer beyond the
// upload's first goes back to the budget if another upload is waiting.
func (p *partBuffers) put(buf *[]byte) {
	p.mu.Lock()
	if p.held > 1 && p.b.waiting.Load() > 0 {
		p.held--
		p.mu.Unlock()
		p.b.give(buf)
		return
	}
	p.mu.Unlock()
	p.idle <- buf // never blocks: idle holds up to limit
}

// release gives every buffer back to the budget. Each buffer got must have
// been put first.
func (p *partBuffers) release() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for ; p.held > 0; p.held-- {
		select {
		case buf := <-p.idle:
			p.b.give(buf)
		default:
			panic("storage: an upload's part buffer was not handed back")
		}
	}
}
