// Package uploads serves resumable uploads (tus 1.0).
package uploads

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/assetlab/assetlab/server/storage"
	"github.com/tus/tusd/v2/pkg/handler"
)

// locksPrefix holds the locks of resumable uploads, one folder per upload.
const locksPrefix = "uploads/locks/"

// Locker lets one request at a time, in any API process, write an upload:
// tusd's own lockers are per process or per machine, and a resumed upload may
// reach another server than the one it started on.
//
// A lock is a numbered claim document, {upload}/{n}.json, taken with the
// store's create-if-absent, as the job protocol takes attempts: of two
// processes claiming claim n+1, one wins. A claim lasts Lease unless its
// holder renews it; after that, or once released, the next claim may be
// taken. A process that wants a lock another holds asks it to let go with a
// request document, which the holder looks for every Poll and answers by
// calling tusd's requestUnlock: the request it serves stops, and unlocks.
type Locker struct {
	Store storage.Store
	// Holder names this process in the claims it takes.
	Holder string
	// Lease is how long a claim lasts without renewal; Poll how often a
	// waiting process tries again and a holder looks for requests to let go.
	Lease, Poll time.Duration
}

var _ handler.Locker = (*Locker)(nil)

// validUploadID are the upload IDs a lock is made for: what tusd's stores
// make, nothing that could leave the lock's folder.
var validUploadID = regexp.MustCompile(`^[A-Za-z0-9._+-]{1,200}$`)

// NewLock returns the (unlocked) lock of upload id.
func (lk *Locker) NewLock(id string) (handler.Lock, error) {
	if !validUploadID.MatchString(id) || strings.Contains(id, "..") {
		return nil, fmt.Errorf("lock upload %q: not an upload ID", id)
	}
	return &lock{lk: lk, id: id}, nil
}

// Forget removes every document of upload id's lock, once the upload is
// finished or terminated.
func (lk *Locker) Forget(ctx context.Context, id string) error {
	list, err := lk.Store.List(ctx, locksPrefix+id+"/")
	if err != nil {
		return err
	}
	for _, o := range list {
		if err := lk.Store.Delete(ctx, o.Key); err != nil {
			return err
		}
	}
	return nil
}

// errLocked answers a request that waited in vain for an upload's lock: 423,
// which tus clients retry.
var errLocked = apiError(http.StatusLocked, "upload_locked", "another request is using this upload: try again shortly")

// claim is a lock document.
type claim struct {
	Holder   string    `json:"holder"`
	N        int       `json:"n"`
	Expires  time.Time `json:"expires"`
	Released bool      `json:"released,omitempty"`
}

func (c *claim) free(now time.Time) bool { return c == nil || c.Released || now.After(c.Expires) }

type lock struct {
	lk *Locker
	id string

	mu    sync.Mutex
	n     int // the claim held, 0 if none
	since time.Time
	stop  context.CancelFunc
	kept  chan struct{}
}

func (l *lock) claimKey(n int) string { return fmt.Sprintf("%s%s/%010d.json", locksPrefix, l.id, n) }
func (l *lock) requestKey() string    { return locksPrefix + l.id + "/request.json" }

// newest returns the newest claim on the upload (nil if none) and its number.
func (l *lock) newest(ctx context.Context) (*claim, int, error) {
	list, err := l.lk.Store.List(ctx, locksPrefix+l.id+"/")
	if err != nil {
		return nil, 0, err
	}
	for i := len(list) - 1; i >= 0; i-- {
		name := strings.TrimSuffix(strings.TrimPrefix(list[i].Key, locksPrefix+l.id+"/"), ".json")
		n, err := strconv.Atoi(name)
		if err != nil {
			continue // the request document
		}
		var c claim
		b, err := storage.ReadAll(ctx, l.lk.Store, list[i].Key)
		if errors.Is(err, storage.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, 0, err
		}
		if err := json.Unmarshal(b, &c); err != nil {
			return nil, 0, fmt.Errorf("read lock %s: %w", list[i].Key, err)
		}
		return &c, n, nil
	}
	return nil, 0, nil
}

// Lock takes the upload's lock, waiting (and, unless ctx is a writing
// request's, asking its holder to let go) until ctx ends, when it returns
// errLocked.
func (l *lock) Lock(ctx context.Context, requestUnlock func()) error {
	asked := false
	for {
		c, n, err := l.newest(ctx)
		if err != nil && ctx.Err() == nil {
			return fmt.Errorf("lock upload %s: %w", l.id, err)
		}
		if err == nil && c.free(time.Now()) {
			mine := claim{Holder: l.lk.Holder, N: n + 1, Expires: time.Now().Add(l.lk.Lease)}
			err := l.write(ctx, mine, true)
			if err == nil {
				// A request to let go made before now was this wait's own.
				l.lk.Store.Delete(ctx, l.requestKey())
				l.hold(mine.N, requestUnlock)
				return nil
			}
			if !errors.Is(err, storage.ErrExists) && ctx.Err() == nil {
				return fmt.Errorf("lock upload %s: %w", l.id, err)
			}
		} else if err == nil && !asked && !waits(ctx) {
			// Held: ask the holder to let go, once per wait. A request that
			// writes waits instead: stopping a PATCH that is writing for
			// another would fail both (the other then meets a moved offset).
			b, _ := json.Marshal(map[string]any{"by": l.lk.Holder, "at": time.Now().UTC()})
			if _, err := l.lk.Store.Put(ctx, l.requestKey(), bytes.NewReader(b), "application/json"); err == nil {
				asked = true
			}
		}
		t := time.NewTimer(l.lk.Poll)
		select {
		case <-ctx.Done():
			t.Stop()
			return errLocked
		case <-t.C:
		}
	}
}

func (l *lock) write(ctx context.Context, c claim, create bool) error {
	b, err := json.Marshal(c)
	if err != nil {
		return err
	}
	if create {
		return l.lk.Store.Create(ctx, l.claimKey(c.N), b, "application/json")
	}
	_, err = l.lk.Store.Put(ctx, l.claimKey(c.N), bytes.NewReader(b), "application/json")
	return err
}

// hold keeps claim n while it is held: it renews it every third of the lease,
// and calls requestUnlock once another process asks for the lock or a newer
// claim shows this one was lost (it was not renewed in time).
func (l *lock) hold(n int, requestUnlock func()) {
	ctx, cancel := context.WithCancel(context.Background())
	l.mu.Lock()
	l.n, l.since, l.stop, l.kept = n, time.Now(), cancel, make(chan struct{})
	kept := l.kept
	l.mu.Unlock()
	go func() {
		defer close(kept)
		renewed := time.Now()
		told := false
		tell := func() {
			if !told && requestUnlock != nil {
				told = true
				requestUnlock()
			}
		}
		t := time.NewTicker(l.lk.Poll)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			// Storage may keep whole seconds only.
			if info, err := l.lk.Store.Stat(ctx, l.requestKey()); err == nil && !info.ModTime.Before(l.since.Truncate(time.Second)) {
				tell()
			}
			if _, err := l.lk.Store.Stat(ctx, l.claimKey(n+1)); err == nil {
				tell() // lost
				return
			}
			if time.Since(renewed) >= l.lk.Lease/3 {
				c := claim{Holder: l.lk.Holder, N: n, Expires: time.Now().Add(l.lk.Lease)}
				if err := l.write(ctx, c, false); err == nil {
					renewed = time.Now()
				}
			}
		}
	}()
}

// Unlock releases the claim held.
func (l *lock) Unlock() error {
	l.mu.Lock()
	n, stop, kept := l.n, l.stop, l.kept
	l.n, l.stop = 0, nil
	l.mu.Unlock()
	if n == 0 {
		return nil
	}
	stop()
	<-kept
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return l.write(ctx, claim{Holder: l.lk.Holder, N: n, Expires: time.Now(), Released: true}, false)
}
