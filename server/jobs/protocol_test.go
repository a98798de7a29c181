package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/assetlab/assetlab/server/storage"
	"github.com/assetlab/assetlab/server/storage/s3test"
	"github.com/assetlab/assetlab/server/video"
)

// eachBackend runs f on a fresh pair of stores (raw, videos) of each backend:
// local disk, and a real S3 server (versitygw).
func eachBackend(t *testing.T, f func(t *testing.T, raw, videos storage.Store)) {
	t.Run("local", func(t *testing.T) { f(t, newStore(t), newStore(t)) })
	t.Run("s3", func(t *testing.T) {
		gw := s3test.Start(t)
		f(t, gw.CreateBucket(t, "raw"), gw.CreateBucket(t, "videos"))
	})
}

// upload stores what an upload leaves: an original, the metadata and the
// queue marker.
func upload(t *testing.T, raw, videos storage.Store) string {
	t.Helper()
	ctx := context.Background()
	id := video.NewID()
	meta := video.Meta{ID: id, ContentType: "video/mp4", Size: 1, OriginalKey: video.OriginalKey(id, ".mp4"), CreatedAt: time.Now().UTC()}
	b, _ := json.Marshal(meta)
	if err := raw.Create(ctx, meta.OriginalKey, []byte("x"), "video/mp4"); err != nil {
		t.Fatal(err)
	}
	if err := videos.Create(ctx, video.MetaKey(id), b, "application/json"); err != nil {
		t.Fatal(err)
	}
	if err := Enqueue(ctx, videos, id); err != nil {
		t.Fatal(err)
	}
	return id
}

// output uploads a rendition for attempt n, as a worker does.
func output(t *testing.T, videos storage.Store, id string, n int) string {
	t.Helper()
	key := video.RenditionKey(id, n, "360p")
	if err := videos.Create(context.Background(), key, []byte("mp4"), "video/mp4"); err != nil {
		t.Fatal(err)
	}
	return key
}

// age moves attempt n's heartbeat and expiry d into the past, as if d had
// passed since it last wrote.
func age(t *testing.T, videos storage.Store, id string, n int, d time.Duration) {
	t.Helper()
	ctx := context.Background()
	var a Attempt
	if err := readJSON(ctx, videos, attemptKey(id, n), &a); err != nil {
		t.Fatal(err)
	}
	a.HeartbeatAt, a.ExpiresAt = a.HeartbeatAt.Add(-d), a.ExpiresAt.Add(-d)
	if err := writeAttempt(ctx, videos, id, a, false); err != nil {
		t.Fatal(err)
	}
}

func mustClaim(t *testing.T, q *Queue, id string) *Lease {
	t.Helper()
	l, err := q.Claim(context.Background(), id, "w")
	if err != nil {
		t.Fatalf("claim: %v", err)
	}
	return l
}

func latest(t *testing.T, videos storage.Store, id string) *Attempt {
	t.Helper()
	a, err := LatestAttempt(context.Background(), videos, id)
	if err != nil || a == nil {
		t.Fatalf("latest attempt: %v %v", a, err)
	}
	return a
}

func loadResult(t *testing.T, videos storage.Store, id string) *Result {
	t.Helper()
	st, err := Load(context.Background(), videos, id)
	if err != nil {
		t.Fatal(err)
	}
	return st.Result
}

func exists(t *testing.T, s storage.Store, key string) bool {
	t.Helper()
	_, err := s.Stat(context.Background(), key)
	if err != nil && !errors.Is(err, storage.ErrNotFound) {
		t.Fatal(err)
	}
	return err == nil
}

// The queue marker is an empty object, and the queue lists the jobs oldest
// first.
func TestEnqueue(t *testing.T) {
	eachBackend(t, func(t *testing.T, raw, videos storage.Store) {
		ctx := context.Background()
		var want []string
		for i := range 3 {
			if i > 0 {
				time.Sleep(1100 * time.Millisecond) // S3 times have whole seconds
			}
			want = append(want, upload(t, raw, videos))
		}
		// Not a job: ignored.
		if err := videos.Create(ctx, queuePrefix+"not-an-id.json", nil, ""); err != nil {
			t.Fatal(err)
		}
		got, err := Queued(ctx, videos)
		if err != nil || strings.Join(got, " ") != strings.Join(want, " ") {
			t.Errorf("queued: got %v, %v; want %v", got, err, want)
		}
		b, err := storage.ReadAll(ctx, videos, QueueKey(want[0]))
		if err != nil || len(b) != 0 {
			t.Errorf("queue marker: got %q, %v; want an empty object", b, err)
		}
		if err := Enqueue(ctx, videos, want[0]); !errors.Is(err, storage.ErrExists) {
			t.Errorf("enqueue twice: got %v, want ErrExists", err)
		}
	})
}

// Of twenty workers claiming one job at once, exactly one gets it, five
// rounds out of five; the others are told it is taken or busy.
func TestClaimRace(t *testing.T) {
	eachBackend(t, func(t *testing.T, raw, videos storage.Store) {
		q := &Queue{Raw: raw, Videos: videos, Lease: time.Minute, MaxAttempts: 3, Backoff: time.Second}
		for round := range 5 {
			id := upload(t, raw, videos)
			var (
				wg      sync.WaitGroup
				mu      sync.Mutex
				won     int
				outcome = map[string]int{}
				start   = make(chan struct{})
			)
			for i := range 20 {
				wg.Go(func() {
					<-start
					l, err := q.Claim(context.Background(), id, fmt.Sprintf("w%d", i))
					mu.Lock()
					defer mu.Unlock()
					switch {
					case err == nil && l.N() == 1:
						won++
					case errors.Is(err, ErrTaken):
						outcome["taken"]++
					case errors.Is(err, ErrBusy):
						outcome["busy"]++
					default:
						t.Errorf("claim: got %v, %v; want a lease, ErrTaken or ErrBusy", l, err)
					}
				})
			}
			close(start)
			wg.Wait()
			if won != 1 {
				t.Errorf("round %d: %d claimers won, want 1 (others %v)", round, won, outcome)
			}
			if list, err := Attempts(context.Background(), videos, id); err != nil || len(list) != 1 {
				t.Errorf("round %d: attempts %+v, %v; want one", round, list, err)
			}
			t.Logf("round %d: others %v", round, outcome)
		}
	})
}

// Renew rewrites the attempt when a third of the lease has passed or the
// progress moved, and not otherwise.
func TestRenew(t *testing.T) {
	raw, videos := newStore(t), newStore(t)
	q := &Queue{Raw: raw, Videos: videos, Lease: time.Minute, MaxAttempts: 3}
	id := upload(t, raw, videos)
	l := mustClaim(t, q, id)
	first := latest(t, videos, id)
	if err := l.Renew(context.Background()); err != nil {
		t.Fatal(err)
	}
	if a := latest(t, videos, id); !a.HeartbeatAt.Equal(first.HeartbeatAt) {
		t.Errorf("renewed with nothing due: heartbeat %v, was %v", a.HeartbeatAt, first.HeartbeatAt)
	}
	l.SetProgress(42)
	if err := l.Renew(context.Background()); err != nil {
		t.Fatal(err)
	}
	a := latest(t, videos, id)
	if a.Progress != 42 || !a.ExpiresAt.After(first.ExpiresAt) || a.State != AttemptRunning {
		t.Errorf("after progress: %+v, want progress 42, a later expiry, running", a)
	}
	if st, _ := Load(context.Background(), videos, id); st.Status != video.StatusProcessing || st.Progress != 42 {
		t.Errorf("state %+v, want processing at 42", st)
	}

	// The first published seconds of the stream are written at once, for
	// viewers waiting to start; more of them wait for the next write due.
	l.SetPlayable(1)
	if err := l.Renew(context.Background()); err != nil {
		t.Fatal(err)
	}
	if a := latest(t, videos, id); a.Playable != 1 {
		t.Errorf("playable %v after the stream first became playable, want 1 written at once", a.Playable)
	}
	l.SetPlayable(3)
	l.Renew(context.Background())
	if a := latest(t, videos, id); a.Playable != 1 {
		t.Errorf("playable %v, want 1 until a write is due", a.Playable)
	}
}

// An attempt is over once a newer attempt exists, another attempt's result
// exists, its lease ran out, or its video was deleted: Renew says so, and the
// attempt can then write nothing but the removal of what it made.
func TestFencing(t *testing.T) {
	eachBackend(t, func(t *testing.T, raw, videos storage.Store) {
		ctx := context.Background()
		const lease = 300 * time.Millisecond

		t.Run("newer attempt", func(t *testing.T) {
			// The zombie's own clock says its lease holds: only the newer
			// attempt tells it otherwise.
			q := &Queue{Raw: raw, Videos: videos, Lease: time.Minute, MaxAttempts: 3}
			id := upload(t, raw, videos)
			zombie := mustClaim(t, q, id)
			a1 := output(t, videos, id, 1)
			age(t, videos, id, 1, 2*time.Minute) // frozen: its lease ran out
			winner := mustClaim(t, q, id)
			if winner.N() != 2 || latest(t, videos, id).Failures != 1 {
				t.Fatalf("takeover: attempt %d %+v, want attempt 2 counting one failure", winner.N(), latest(t, videos, id))
			}
			if err := zombie.Renew(ctx); !errors.Is(err, ErrLeaseLost) {
				t.Errorf("zombie renew: got %v, want ErrLeaseLost", err)
			}
			if err := zombie.Finish(ctx, Result{}); !errors.Is(err, ErrLeaseLost) {
				t.Errorf("zombie finish: got %v, want ErrLeaseLost", err)
			}
			if loadResult(t, videos, id) != nil {
				t.Errorf("the zombie left a result")
			}
			// Its stream stays whole for its viewers while the job runs,
			// and goes when the winner finishes.
			if !exists(t, videos, a1) {
				t.Errorf("the zombie's output went while the job runs on")
			}
			if err := winner.Finish(ctx, Result{}); err != nil {
				t.Fatal(err)
			}
			if r := loadResult(t, videos, id); r == nil || r.Attempt != 2 || r.Status != video.StatusDone {
				t.Errorf("result %+v, want done by attempt 2", r)
			}
			if exists(t, videos, a1) {
				t.Errorf("the zombie's output outlived the job")
			}
		})

		t.Run("result first", func(t *testing.T) {
			// The zombie did not notice (no heartbeat since): its finish
			// cannot replace the winner's result, and its outputs go.
			q := &Queue{Raw: raw, Videos: videos, Lease: time.Minute, MaxAttempts: 3}
			id := upload(t, raw, videos)
			zombie := mustClaim(t, q, id)
			age(t, videos, id, 1, 2*time.Minute)
			winner := mustClaim(t, q, id)
			a2 := output(t, videos, id, 2)
			if err := winner.Finish(ctx, Result{Width: 2}); err != nil {
				t.Fatal(err)
			}
			a1 := output(t, videos, id, 1) // the zombie goes on uploading
			before := loadResult(t, videos, id)
			if err := zombie.Finish(ctx, Result{Width: 1}); !errors.Is(err, ErrEnded) {
				t.Errorf("zombie finish: got %v, want ErrEnded", err)
			}
			if r := loadResult(t, videos, id); r.Attempt != 2 || r.Width != 2 || !r.FinishedAt.Equal(before.FinishedAt) {
				t.Errorf("result %+v, want attempt 2's, unchanged", r)
			}
			if exists(t, videos, a1) || !exists(t, videos, a2) {
				t.Errorf("outputs: attempt 1's there %v, attempt 2's there %v; want only attempt 2's",
					exists(t, videos, a1), exists(t, videos, a2))
			}
		})

		t.Run("another attempt's result", func(t *testing.T) {
			q := &Queue{Raw: raw, Videos: videos, Lease: time.Minute, MaxAttempts: 3}
			id := upload(t, raw, videos)
			l := mustClaim(t, q, id)
			if err := writeResult(ctx, videos, id, Result{Status: video.StatusDone, Attempt: 7}); err != nil {
				t.Fatal(err)
			}
			if err := l.Renew(ctx); !errors.Is(err, ErrLeaseLost) {
				t.Errorf("renew: got %v, want ErrLeaseLost", err)
			}
		})

		t.Run("lease ran out", func(t *testing.T) {
			q := &Queue{Raw: raw, Videos: videos, Lease: lease, MaxAttempts: 3}
			id := upload(t, raw, videos)
			l := mustClaim(t, q, id)
			time.Sleep(lease + 100*time.Millisecond) // storage unreachable meanwhile
			if err := l.Renew(ctx); !errors.Is(err, ErrLeaseLost) {
				t.Errorf("renew: got %v, want ErrLeaseLost", err)
			}
			if _, err := l.Fail(ctx, Failure{Class: "transient", Reason: "x", Retryable: true}); !errors.Is(err, ErrLeaseLost) {
				t.Errorf("fail: got %v, want ErrLeaseLost", err)
			}
			if a := latest(t, videos, id); a.State != AttemptRunning {
				t.Errorf("an attempt that lost its lease recorded %q, want nothing written", a.State)
			}
		})

		t.Run("video deleted", func(t *testing.T) {
			q := &Queue{Raw: raw, Videos: videos, Lease: time.Minute, MaxAttempts: 3}
			id := upload(t, raw, videos)
			l := mustClaim(t, q, id)
			output(t, videos, id, 1)
			if err := Delete(ctx, raw, videos, id); err != nil {
				t.Fatal(err)
			}
			if begun, _ := tombstoned(ctx, videos, id); !begun {
				t.Fatal("no tombstone left for the running attempt")
			}
			if err := l.Renew(ctx); !errors.Is(err, ErrDeleted) {
				t.Errorf("renew: got %v, want ErrDeleted", err)
			}
			if err := l.Finish(ctx, Result{}); !errors.Is(err, ErrDeleted) {
				t.Errorf("finish: got %v, want ErrDeleted", err)
			}
			assertGone(t, raw, videos, id)
		})

		t.Run("video deleted while the lease had lapsed", func(t *testing.T) {
			// The delete took the attempt for dead and finished at once:
			// no tombstone is left, only the metadata's absence tells.
			q := &Queue{Raw: raw, Videos: videos, Lease: time.Minute, MaxAttempts: 3}
			id := upload(t, raw, videos)
			l := mustClaim(t, q, id)
			age(t, videos, id, 1, 2*time.Minute)
			if err := Delete(ctx, raw, videos, id); err != nil {
				t.Fatal(err)
			}
			assertGone(t, raw, videos, id)
			output(t, videos, id, 1) // the attempt goes on uploading
			if err := l.Renew(ctx); !errors.Is(err, ErrDeleted) {
				t.Errorf("renew: got %v, want ErrDeleted", err)
			}
			if _, err := l.Fail(ctx, Failure{Class: "transient", Reason: "x", Retryable: true}); !errors.Is(err, ErrDeleted) {
				t.Errorf("fail: got %v, want ErrDeleted", err)
			}
			assertGone(t, raw, videos, id)
		})
	})
}

// assertGone fails if anything of video id is left in either store.
func assertGone(t *testing.T, raw, videos storage.Store, id string) {
	t.Helper()
	for name, s := range map[string]storage.Store{"raw": raw, "videos": videos} {
		var left []string
		for _, k := range strings.Fields(keys(t, s)) {
			if strings.Contains(k, id) {
				left = append(left, k)
			}
		}
		if len(left) > 0 {
			t.Errorf("%s store still holds %v", name, left)
		}
	}
}

// A failure worth retrying is retried after a backoff that doubles, up to
// the cap; then the job ends in error saying how often it failed.
func TestRetryCap(t *testing.T) {
	eachBackend(t, func(t *testing.T, raw, videos storage.Store) {
		ctx := context.Background()
		const backoff = time.Hour // time is moved with age, not waited for
		q := &Queue{Raw: raw, Videos: videos, Lease: time.Minute, MaxAttempts: 3, Backoff: backoff}
		id := upload(t, raw, videos)
		f := Failure{Class: "transient", Reason: "storage could not be reached", Retryable: true}
		for n := 1; n <= 3; n++ {
			l := mustClaim(t, q, id)
			if l.N() != n || latest(t, videos, id).Failures != n-1 {
				t.Fatalf("claim %d: attempt %d %+v", n, l.N(), latest(t, videos, id))
			}
			out := output(t, videos, id, n)
			res, err := l.Fail(ctx, f)
			if err != nil {
				t.Fatal(err)
			}
			if exists(t, videos, out) {
				t.Errorf("attempt %d: its output is left", n)
			}
			if a := latest(t, videos, id); a.State != AttemptFailed || a.Error != f.Reason || a.ErrorClass != f.Class || !a.Retryable {
				t.Errorf("attempt %d: %+v, want failed saying why", n, a)
			}
			if n < 3 {
				if res != nil {
					t.Fatalf("attempt %d ended the job: %+v", n, res)
				}
				wait := backoff << (n - 1)
				age(t, videos, id, n, wait-time.Minute)
				if _, err := q.Claim(ctx, id, "w"); !errors.Is(err, ErrBusy) {
					t.Fatalf("claim before the backoff of %v: got %v, want ErrBusy", wait, err)
				}
				age(t, videos, id, n, time.Minute)
				continue
			}
			want := "transcoding failed 3 times because of a problem on the server, not with the file; last: storage could not be reached"
			if res == nil || res.Status != video.StatusError || res.Error != want || res.ErrorClass != "transient" || res.Attempt != 3 {
				t.Errorf("result %+v, want error %q", res, want)
			}
		}
		if r := loadResult(t, videos, id); r == nil || r.Error == "" {
			t.Errorf("stored result %+v, want the error", r)
		}
		if q, _ := Queued(ctx, videos); len(q) != 0 {
			t.Errorf("queue holds %v, want nothing", q)
		}
		if _, err := q.Claim(ctx, id, "w"); !errors.Is(err, ErrEnded) {
			t.Errorf("claim after the end: got %v, want ErrEnded", err)
		}
	})
}

// Bad input ends the job at once, with its own reason; a worker that stops
// responding counts as a failure; a released attempt does not, and its job
// is taken again at once.
func TestFailureKinds(t *testing.T) {
	ctx := context.Background()
	raw, videos := newStore(t), newStore(t)

	t.Run("bad input", func(t *testing.T) {
		q := &Queue{Raw: raw, Videos: videos, Lease: time.Minute, MaxAttempts: 3, Backoff: time.Hour}
		id := upload(t, raw, videos)
		res, err := mustClaim(t, q, id).Fail(ctx, Failure{Class: "input", Reason: "not a readable video"})
		if err != nil || res == nil || res.Error != "not a readable video" || res.ErrorClass != "input" {
			t.Errorf("got %+v, %v; want the job ended with the input's reason", res, err)
		}
	})

	t.Run("worker stopped responding", func(t *testing.T) {
		q := &Queue{Raw: raw, Videos: videos, Lease: time.Minute, MaxAttempts: 1, Backoff: time.Hour}
		id := upload(t, raw, videos)
		mustClaim(t, q, id)
		// What it published before it died goes with the job's end.
		dead := output(t, videos, id, 1)
		defer func() {
			if exists(t, videos, dead) {
				t.Error("the dead attempt's output outlived the job's end in error")
			}
		}()
		if _, err := q.Claim(ctx, id, "w"); !errors.Is(err, ErrBusy) {
			t.Fatalf("claim of a live lease: got %v, want ErrBusy", err)
		}
		age(t, videos, id, 1, 2*time.Minute)
		if _, err := q.Claim(ctx, id, "w"); !errors.Is(err, ErrGaveUp) {
			t.Fatalf("claim at the cap: got %v, want ErrGaveUp", err)
		}
		want := "transcoding failed because of a problem on the server, not with the file: the worker stopped responding"
		if r := loadResult(t, videos, id); r == nil || r.Error != want || r.ErrorClass != ClassEnvironment || r.Attempt != 1 {
			t.Errorf("result %+v, want %q", r, want)
		}
		if exists(t, videos, QueueKey(id)) {
			t.Error("queue marker left")
		}
	})

	t.Run("released", func(t *testing.T) {
		q := &Queue{Raw: raw, Videos: videos, Lease: time.Minute, MaxAttempts: 1, Backoff: time.Hour}
		id := upload(t, raw, videos)
		l := mustClaim(t, q, id)
		out := output(t, videos, id, 1)
		if err := l.Release(ctx); err != nil {
			t.Fatal(err)
		}
		// Its output stays until an attempt finishes the job: deleting a
		// long video's segments would outlast a shutdown.
		if a := latest(t, videos, id); a.State != AttemptReleased || !exists(t, videos, out) {
			t.Errorf("released attempt %+v, output left %v", a, exists(t, videos, out))
		}
		l2, err := q.Claim(ctx, id, "w")
		if err != nil || l2.N() != 2 || latest(t, videos, id).Failures != 0 {
			t.Fatalf("claim after a release: %v, %v; want attempt 2 at once, no failure counted", l2, err)
		}
		if err := l2.Finish(ctx, Result{}); err != nil || exists(t, videos, out) {
			t.Errorf("finish after a release: %v, released attempt's output left %v", err, exists(t, videos, out))
		}
	})
}

// Finish ends the job as done, removes the queue marker and the outputs of
// earlier attempts, and keeps its own.
func TestFinish(t *testing.T) {
	eachBackend(t, func(t *testing.T, raw, videos storage.Store) {
		ctx := context.Background()
		q := &Queue{Raw: raw, Videos: videos, Lease: time.Minute, MaxAttempts: 3}
		id := upload(t, raw, videos)
		mustClaim(t, q, id)
		dead := output(t, videos, id, 1)
		age(t, videos, id, 1, 2*time.Minute) // its worker died
		l := mustClaim(t, q, id)
		mine := output(t, videos, id, 2)
		res := Result{Renditions: []Rendition{{Quality: "360p", Width: 640, Height: 360, Size: 3}}, Duration: 1}
		if err := l.Finish(ctx, res); err != nil {
			t.Fatal(err)
		}
		r := loadResult(t, videos, id)
		if r == nil || r.Status != video.StatusDone || r.Attempt != 2 || len(r.Renditions) != 1 || r.FinishedAt.IsZero() {
			t.Errorf("result %+v, want done by attempt 2 with its rendition", r)
		}
		if exists(t, videos, dead) || !exists(t, videos, mine) || exists(t, videos, QueueKey(id)) {
			t.Errorf("after finish: dead attempt's output %v, own %v, queue marker %v; want only its own",
				exists(t, videos, dead), exists(t, videos, mine), exists(t, videos, QueueKey(id)))
		}
		if !exists(t, raw, video.OriginalKey(id, ".mp4")) {
			t.Error("the original went")
		}
	})
}

// Claim finishes what others left: a deletion whose running attempt died, a
// queue marker whose job had ended, the leftovers of a deleted video.
func TestClaimFinishesLeftovers(t *testing.T) {
	ctx := context.Background()
	eachBackend(t, func(t *testing.T, raw, videos storage.Store) {
		q := &Queue{Raw: raw, Videos: videos, Lease: time.Minute, MaxAttempts: 3}

		t.Run("deletion left for a running attempt", func(t *testing.T) {
			id := upload(t, raw, videos)
			mustClaim(t, q, id)
			output(t, videos, id, 1)
			if err := Delete(ctx, raw, videos, id); err != nil {
				t.Fatal(err)
			}
			if _, err := q.Claim(ctx, id, "w"); !errors.Is(err, ErrBusy) {
				t.Fatalf("claim while the attempt holds its lease: got %v, want ErrBusy", err)
			}
			age(t, videos, id, 1, 2*time.Minute) // its worker died
			if _, err := q.Claim(ctx, id, "w"); !errors.Is(err, ErrDeleted) {
				t.Errorf("claim: got %v, want ErrDeleted", err)
			}
			assertGone(t, raw, videos, id)
		})

		t.Run("ended job's marker", func(t *testing.T) {
			id := upload(t, raw, videos)
			if err := writeResult(ctx, videos, id, Result{Status: video.StatusDone, Attempt: 1}); err != nil {
				t.Fatal(err)
			}
			if _, err := q.Claim(ctx, id, "w"); !errors.Is(err, ErrEnded) {
				t.Errorf("claim: got %v, want ErrEnded", err)
			}
			if exists(t, videos, QueueKey(id)) {
				t.Error("queue marker left")
			}
		})

		t.Run("metadata gone", func(t *testing.T) {
			id := upload(t, raw, videos)
			output(t, videos, id, 1)
			if err := videos.Delete(ctx, video.MetaKey(id)); err != nil {
				t.Fatal(err)
			}
			if _, err := q.Claim(ctx, id, "w"); !errors.Is(err, ErrDeleted) {
				t.Errorf("claim: got %v, want ErrDeleted", err)
			}
			assertGone(t, raw, videos, id)
		})
	})
}

// deletingStore deletes the video just before a worker's claim lands, as a
// delete that comes between Claim's checks and its write would.
type deletingStore struct {
	storage.Store
	raw  storage.Store
	once sync.Once
}

func (d *deletingStore) Create(ctx context.Context, key string, body []byte, contentType string) error {
	if strings.HasPrefix(key, root) && strings.Contains(key, "/attempt-") {
		d.once.Do(func() {
			id := strings.Split(key, "/")[1]
			if err := Delete(ctx, d.raw, d.Store, id); err != nil {
				panic(err)
			}
		})
	}
	return d.Store.Create(ctx, key, body, contentType)
}

// A claim that lands just after a delete removes itself and what the delete
// could not see.
func TestClaimAfterDelete(t *testing.T) {
	eachBackend(t, func(t *testing.T, raw, videos storage.Store) {
		id := upload(t, raw, videos)
		q := &Queue{Raw: raw, Videos: &deletingStore{Store: videos, raw: raw}, Lease: time.Minute, MaxAttempts: 3}
		if l, err := q.Claim(context.Background(), id, "w"); !errors.Is(err, ErrDeleted) {
			t.Errorf("claim: got %v, %v; want ErrDeleted", l, err)
		}
		assertGone(t, raw, videos, id)
	})
}

// The retry cap, as a table.
func TestGiveUp(t *testing.T) {
	q := &Queue{MaxAttempts: 3}
	server := Failure{Class: "transient", Reason: "r", Retryable: true}
	for _, c := range []struct {
		failures int
		f        Failure
		want     string
		end      bool
	}{
		{1, server, "", false},
		{2, server, "", false},
		{3, server, "transcoding failed 3 times because of a problem on the server, not with the file; last: r", true},
		{1, Failure{Class: "input", Reason: "not a video"}, "not a video", true},
	} {
		got, end := q.giveUp(c.failures, c.f)
		if got != c.want || end != c.end {
			t.Errorf("giveUp(%d, %+v): got %q %v, want %q %v", c.failures, c.f, got, end, c.want, c.end)
		}
	}
	if got, _ := (&Queue{MaxAttempts: 1}).giveUp(1, server); got != "transcoding failed because of a problem on the server, not with the file: r" {
		t.Errorf("cap of one: got %q", got)
	}
	for n, want := range map[int]time.Duration{1: time.Second, 2: 2 * time.Second, 3: 4 * time.Second} {
		if got := (&Queue{Backoff: time.Second}).backoff(n); got != want {
			t.Errorf("backoff(%d): got %v, want %v", n, got, want)
		}
	}
}
