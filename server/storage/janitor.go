package storage

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"time"
)

// A write in progress belongs to an owner: one store in one running process.
// Each owner shows that it is alive in storage (a locked file on the local
// backend, a marker object it rewrites on S3), and the janitor of every
// process reclaims the temp files and multipart uploads of owners that are not
// alive any more, so a crashed process's partial uploads do not wait for a
// restart or a day-long sweep. What no owner claims (left by an older version,
// or whose owner record is lost) is reclaimed by age alone.

// JanitorOptions say how often a store's janitor runs and what it reclaims.
// Every duration must be set: they come from the configuration
// (ASSETLAB_JANITOR_INTERVAL, ASSETLAB_ABORT_RETRY_INTERVAL).
type JanitorOptions struct {
	// Interval is how often the leftovers of dead processes are looked for.
	Interval time.Duration
	// RetryInterval is how often aborts that failed are retried (S3).
	RetryInterval time.Duration
	// UntrackedAfter is the age after which a leftover that no owner claims is
	// reclaimed anyway.
	UntrackedAfter time.Duration
	Log            *slog.Logger
}

// check refuses options left unset: a zero interval would spin, and a zero
// age would reclaim the writes of live processes.
func (o JanitorOptions) check() error {
	if o.Interval <= 0 || o.RetryInterval <= 0 || o.UntrackedAfter <= 0 {
		return fmt.Errorf("janitor: interval %s, retry interval %s and untracked age %s must all be set",
			o.Interval, o.RetryInterval, o.UntrackedAfter)
	}
	if o.Log == nil {
		return errors.New("janitor: no logger")
	}
	return nil
}

// newOwnerID makes an owner's name: hex, so that it holds no "." or "/".
func newOwnerID() string {
	b := make([]byte, 12)
	rand.Read(b)
	return hex.EncodeToString(b)
}
