package api

import (
	"errors"
	"time"
)

// errBusy refuses an upload over the cap on uploads in flight.
var errBusy = errors.New("too many uploads in flight")

// busyRetryAfter is the Retry-After of a refused upload.
const busyRetryAfter = 5 * time.Second

// uploadLimit caps the uploads in flight. Their part buffers are bounded by
// the storage memory budget, where uploads beyond it wait their turn; this
// bounds how many may wait, and what each holds besides (read buffers, about
// 0.3 MiB, and a connection). Over the cap, an upload is refused at once,
// before its body is read.
type uploadLimit struct {
	slots chan struct{} // nil: no cap
}

func newUploadLimit(n int) *uploadLimit {
	l := &uploadLimit{}
	if n > 0 {
		l.slots = make(chan struct{}, n)
	}
	return l
}

// acquire takes a slot if one is free.
func (l *uploadLimit) acquire() bool {
	if l.slots == nil {
		return true
	}
	select {
	case l.slots <- struct{}{}:
		return true
	default:
		return false
	}
}

func (l *uploadLimit) release() {
	if l.slots != nil {
		<-l.slots
	}
}
