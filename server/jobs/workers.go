package jobs

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/assetlab/assetlab/server/storage"
)

// workersPrefix holds one announcement per running worker, so that the API
// can tell "no transcoder is running" from "waiting in line".
const workersPrefix = "workers/"

// workerKey is the announcement of the worker called name.
func workerKey(name string) string { return workersPrefix + name + ".json" }

// WorkerInfo is a worker's announcement. The worker writes it when it starts
// (once its FFmpeg has passed the checks), rewrites it every third of the job
// lease, and removes it when it stops cleanly; one whose ExpiresAt has passed
// belongs to a worker that died.
type WorkerInfo struct {
	Name string `json:"name"`
	Host string `json:"host"`
	PID  int    `json:"pid"`
	// FFmpeg is the first line of `ffmpeg -version`.
	FFmpeg      string    `json:"ffmpeg"`
	StartedAt   time.Time `json:"started_at"`
	HeartbeatAt time.Time `json:"heartbeat_at"`
	ExpiresAt   time.Time `json:"expires_at"`
	// Job is the ID of the video being transcoded, if any, with its attempt
	// and progress (0-100) at the last heartbeat.
	Job      string  `json:"job,omitempty"`
	Attempt  int     `json:"attempt,omitempty"`
	Progress float64 `json:"progress,omitempty"`
}

// Live reports whether the worker announced itself recently enough to be
// taken as running at time now.
func (w *WorkerInfo) Live(now time.Time) bool { return now.Before(w.ExpiresAt) }

// Announce writes (or rewrites) a worker's announcement.
func Announce(ctx context.Context, s storage.Store, w WorkerInfo) error {
	b, err := json.Marshal(w)
	if err != nil {
		return err
	}
	if _, err := s.Put(ctx, workerKey(w.Name), bytes.NewReader(b), "application/json"); err != nil {
		return fmt.Errorf("announce worker %s: %w", w.Name, err)
	}
	return nil
}

// Withdraw removes a worker's announcement.
func Withdraw(ctx context.Context, s storage.Store, name string) error {
	if err := s.Delete(ctx, workerKey(name)); err != nil {
		return fmt.Errorf("withdraw worker %s: %w", name, err)
	}
	return nil
}

// Workers reads every announcement, live or expired, in name order: one LIST
// and one read each.
func Workers(ctx context.Context, s storage.Store) ([]WorkerInfo, error) {
	list, err := s.List(ctx, workersPrefix)
	if err != nil {
		return nil, fmt.Errorf("list workers: %w", err)
	}
	out := make([]WorkerInfo, 0, len(list))
	for _, o := range list {
		if !strings.HasSuffix(o.Key, ".json") {
			continue
		}
		var w WorkerInfo
		err := readJSON(ctx, s, o.Key, &w)
		if errors.Is(err, storage.ErrNotFound) {
			continue // withdrawn meanwhile
		}
		if err != nil {
			return nil, fmt.Errorf("read worker: %w", err)
		}
		out = append(out, w)
	}
	return out, nil
}

// RosterTTL is how long the server reuses a listing of the workers: about
// as often as the web UI polls a video's details, and far shorter than the
// third of the job lease at which workers announce themselves again.
const RosterTTL = 2 * time.Second

// Roster caches the announcements for a short while, so that many pages
// polling a video's details cost one listing per TTL, not one each.
type Roster struct {
	Store storage.Store
	// TTL is how long a listing is reused (the server's is RosterTTL; 0: never).
	TTL time.Duration

	mu   sync.Mutex
	at   time.Time
	list []WorkerInfo
}

// Workers returns the announcements as of at most TTL ago. Concurrent callers
// wait for one listing rather than each making their own.
func (r *Roster) Workers(ctx context.Context) ([]WorkerInfo, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.at.IsZero() && time.Since(r.at) < r.TTL {
		return r.list, nil
	}
	list, err := Workers(ctx, r.Store)
	if err != nil {
		return nil, err
	}
	r.list, r.at = list, time.Now()
	return list, nil
}

// Live counts the workers that are running now.
func (r *Roster) Live(ctx context.Context) (int, error) {
	list, err := r.Workers(ctx)
	if err != nil {
		return 0, err
	}
	n, now := 0, time.Now()
	for _, w := range list {
		if w.Live(now) {
			n++
		}
	}
	return n, nil
}
