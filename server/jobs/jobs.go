// Package jobs is the transcode job protocol. Object storage is the only shared
// state: the server enqueues a job by creating a queue marker; a worker claims
// attempt N of a job by creating its attempt document with an atomic
// create-if-absent, keeps it alive with heartbeats, and ends the job by creating
// its result document, again create-if-absent, so exactly one attempt decides how
// a job ends.
//
// Every state change of a job is a function or method of this package
// (Enqueue, Queue.Claim, Lease.Renew, Lease.Fail, Lease.Release, Lease.Finish,
// Delete), and the keys of the queue markers, attempts and results are known
// only to it.
package jobs

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/assetlab/assetlab/server/storage"
	"github.com/assetlab/assetlab/server/video"
)

// Key layout, in the video store.
const (
	root        = "jobs/"
	queuePrefix = root + "queue/"
)

// QueueKey is the queue marker of a video's job: an empty object, there while
// the job has not ended. Its key says which video; its time, how long it has
// waited. A worker reads the video's own Meta document, not the marker: that
// document is there anyway, and its absence is how a deleted video shows.
func QueueKey(id string) string { return queuePrefix + id + ".json" }

func idFromQueueKey(key string) (string, bool) {
	id, ok := strings.CutSuffix(strings.TrimPrefix(key, queuePrefix), ".json")
	return id, ok && video.ValidID(id)
}

// jobPrefix holds a job's attempts and result.
func jobPrefix(id string) string { return root + id + "/" }

func attemptPrefix(id string) string { return jobPrefix(id) + "attempt-" }

// attemptKey is the document of attempt n (1-based) of a job.
func attemptKey(id string, n int) string { return fmt.Sprintf("%s%04d.json", attemptPrefix(id), n) }

// resultKey is the document that ends a job.
func resultKey(id string) string { return jobPrefix(id) + "result.json" }

// Attempt states.
const (
	AttemptRunning = "running"
	AttemptFailed  = "failed"
	// AttemptReleased is an attempt handed back by a worker that was shutting
	// down: another worker takes the job at once, and it is not a failure.
	AttemptReleased = "released"
)

// Attempt is one worker's try at a job. Only the worker that created it writes it.
type Attempt struct {
	N        int     `json:"n"`
	Worker   string  `json:"worker"`
	State    string  `json:"state"`
	Progress float64 `json:"progress"`
	// Playable is how many seconds of the attempt's HLS stream are
	// published, from the start: 0 until its master playlist exists.
	Playable    float64   `json:"playable,omitempty"`
	StartedAt   time.Time `json:"started_at"`
	HeartbeatAt time.Time `json:"heartbeat_at"`
	// ExpiresAt is when the lease ends unless renewed: after it another worker
	// may take the job over as attempt N+1.
	ExpiresAt time.Time `json:"expires_at"`
	// Error is the failure's public reason, in plain words.
	Error string `json:"error,omitempty"`
	// ErrorClass says whose fault the failure was: "input" (the file's),
	// "environment" (the machine's) or "transient" (storage's).
	ErrorClass string `json:"error_class,omitempty"`
	// Retryable is false for failures that another try would not fix (bad input).
	Retryable bool `json:"retryable,omitempty"`
	// Failures counts the earlier attempts that failed (or whose worker died);
	// released attempts do not count. The retry cap applies to it.
	Failures int `json:"failures"`
}

// Live reports whether the attempt still holds its lease at time now.
func (a *Attempt) Live(now time.Time) bool {
	return a.State == AttemptRunning && now.Before(a.ExpiresAt)
}

// Rendition is one finished output.
type Rendition struct {
	Quality video.Quality `json:"quality"`
	Width   int           `json:"width"`
	Height  int           `json:"height"`
	Size    int64         `json:"size"`
	Bitrate int64         `json:"bitrate,omitempty"`
}

// Result ends a job: done with its renditions, or error with a reason.
type Result struct {
	Status     string      `json:"status"` // video.StatusDone, video.StatusError or StatusDeleted
	Attempt    int         `json:"attempt"`
	Renditions []Rendition `json:"renditions,omitempty"`
	Poster     bool        `json:"poster,omitempty"`
	// HLS says the attempt published an HLS stream (video.MasterPlaylist).
	HLS      bool    `json:"hls,omitempty"`
	Duration float64 `json:"duration,omitempty"`
	Width    int     `json:"width,omitempty"`
	Height   int     `json:"height,omitempty"`
	Error    string  `json:"error,omitempty"`
	// ErrorClass is the class of the failure that ended the job (see Attempt).
	ErrorClass string    `json:"error_class,omitempty"`
	FinishedAt time.Time `json:"finished_at"`
}

// Enqueue creates the queue marker of video id's job.
func Enqueue(ctx context.Context, s storage.Store, id string) error {
	if err := s.Create(ctx, QueueKey(id), nil, "application/octet-stream"); err != nil {
		return fmt.Errorf("enqueue %s: %w", id, err)
	}
	return nil
}

// Queued lists the videos whose jobs are queued, oldest first.
func Queued(ctx context.Context, s storage.Store) ([]string, error) {
	list, err := s.List(ctx, queuePrefix)
	if err != nil {
		return nil, fmt.Errorf("list the queue: %w", err)
	}
	slices.SortFunc(list, func(a, b storage.Info) int { return a.ModTime.Compare(b.ModTime) })
	ids := make([]string, 0, len(list))
	for _, o := range list {
		if id, ok := idFromQueueKey(o.Key); ok {
			ids = append(ids, id)
		}
	}
	return ids, nil
}

// State is what is known of a job at one moment.
type State struct {
	Status string
	// Progress is 0-100 while processing.
	Progress float64
	// Result is set once the job has ended.
	Result *Result
	// Latest is the newest attempt, if any.
	Latest *Attempt
}

// Load reads the state of a video's job.
func Load(ctx context.Context, s storage.Store, id string) (State, error) {
	var res Result
	err := readJSON(ctx, s, resultKey(id), &res)
	switch {
	case err == nil:
		return State{Status: res.Status, Result: &res, Progress: 100}, nil
	case !errors.Is(err, storage.ErrNotFound):
		return State{}, err
	}
	latest, err := LatestAttempt(ctx, s, id)
	if err != nil {
		return State{}, err
	}
	st := State{Status: video.StatusPending, Latest: latest}
	if latest != nil && latest.Live(time.Now()) {
		st.Status = video.StatusProcessing
		st.Progress = latest.Progress
	}
	return st, nil
}

// LatestAttempt returns the newest attempt of a job, or nil if none was made.
func LatestAttempt(ctx context.Context, s storage.Store, id string) (*Attempt, error) {
	list, err := s.List(ctx, attemptPrefix(id))
	if err != nil {
		return nil, err
	}
	for i := len(list) - 1; i >= 0; i-- {
		var a Attempt
		err := readJSON(ctx, s, list[i].Key, &a)
		if errors.Is(err, storage.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		return &a, nil
	}
	return nil, nil
}

// Attempts returns every attempt of a job, oldest first.
func Attempts(ctx context.Context, s storage.Store, id string) ([]Attempt, error) {
	list, err := s.List(ctx, attemptPrefix(id))
	if err != nil {
		return nil, err
	}
	out := make([]Attempt, 0, len(list))
	for _, o := range list {
		var a Attempt
		err := readJSON(ctx, s, o.Key, &a)
		if errors.Is(err, storage.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, nil
}

// writeAttempt writes an attempt's document: create-if-absent for the claim
// (ErrExists if another worker made that attempt first), overwriting after.
func writeAttempt(ctx context.Context, s storage.Store, id string, a Attempt, create bool) error {
	b, err := json.Marshal(a)
	if err != nil {
		return err
	}
	if create {
		return s.Create(ctx, attemptKey(id, a.N), b, "application/json")
	}
	_, err = s.Put(ctx, attemptKey(id, a.N), bytes.NewReader(b), "application/json")
	return err
}

// writeResult ends a job. An attempt's result is created once (ErrExists if
// the job has ended already); a tombstone overwrites whatever is there.
func writeResult(ctx context.Context, s storage.Store, id string, res Result) error {
	res.FinishedAt = time.Now().UTC()
	b, err := json.Marshal(res)
	if err != nil {
		return err
	}
	if res.Status == StatusDeleted {
		_, err = s.Put(ctx, resultKey(id), bytes.NewReader(b), "application/json")
		return err
	}
	return s.Create(ctx, resultKey(id), b, "application/json")
}

func readJSON(ctx context.Context, s storage.Store, key string, v any) error {
	b, err := storage.ReadAll(ctx, s, key)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("decode %s: %w", key, err)
	}
	return nil
}
