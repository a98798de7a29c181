// Package jobs is the transcode job protocol. Object storage is the only shared
// state: the server enqueues a job by creating a queue marker; a worker claims
// attempt N of a job by creating its attempt document with an atomic
// create-if-absent, keeps it alive with heartbeats, and ends the job by creating
// its result document, again create-if-absent, so exactly one attempt decides how
// a job ends.
package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/assetlab/assetlab/server/storage"
	"github.com/assetlab/assetlab/server/video"
)

// QueuePrefix is the prefix of the queue markers, one per unfinished job.
const QueuePrefix = "jobs/queue/"

// QueueKey is the queue marker of a video's job.
func QueueKey(id string) string { return QueuePrefix + id + ".json" }

// IDFromQueueKey returns the video ID of a queue marker key.
func IDFromQueueKey(key string) (string, bool) {
	id, ok := strings.CutSuffix(strings.TrimPrefix(key, QueuePrefix), ".json")
	return id, ok && video.ValidID(id)
}

// AttemptPrefix is the prefix of a job's attempt documents.
func AttemptPrefix(id string) string { return "jobs/" + id + "/attempt-" }

// AttemptKey is the document of attempt n (1-based) of a job.
func AttemptKey(id string, n int) string { return fmt.Sprintf("%s%04d.json", AttemptPrefix(id), n) }

// ResultKey is the document that ends a job.
func ResultKey(id string) string { return "jobs/" + id + "/result.json" }

// Job is the queue marker's content: what a worker needs to start.
type Job struct {
	VideoID     string    `json:"video_id"`
	OriginalKey string    `json:"original_key"`
	CreatedAt   time.Time `json:"created_at"`
}

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
	N           int       `json:"n"`
	Worker      string    `json:"worker"`
	State       string    `json:"state"`
	Progress    float64   `json:"progress"`
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
	Status     string      `json:"status"` // video.StatusDone or video.StatusError
	Attempt    int         `json:"attempt"`
	Renditions []Rendition `json:"renditions,omitempty"`
	Poster     bool        `json:"poster,omitempty"`
	Duration   float64     `json:"duration,omitempty"`
	Width      int         `json:"width,omitempty"`
	Height     int         `json:"height,omitempty"`
	Error      string      `json:"error,omitempty"`
	// ErrorClass is the class of the failure that ended the job (see Attempt).
	ErrorClass string    `json:"error_class,omitempty"`
	FinishedAt time.Time `json:"finished_at"`
}

// Enqueue creates the queue marker of a job.
func Enqueue(ctx context.Context, s storage.Store, j Job) error {
	b, err := json.Marshal(j)
	if err != nil {
		return err
	}
	if err := s.Create(ctx, QueueKey(j.VideoID), b, "application/json"); err != nil {
		return fmt.Errorf("enqueue %s: %w", j.VideoID, err)
	}
	return nil
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
	err := readJSON(ctx, s, ResultKey(id), &res)
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
	list, err := s.List(ctx, AttemptPrefix(id))
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
