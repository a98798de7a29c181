// Package worker runs transcode jobs: it finds queued jobs in object storage,
// claims one with an atomic create-if-absent, keeps its lease alive while FFmpeg
// runs, uploads the renditions and ends the job with a create-once result, so
// each job ends exactly once however many workers race for it or crash.
package worker

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/assetlab/assetlab/server/config"
	"github.com/assetlab/assetlab/server/jobs"
	"github.com/assetlab/assetlab/server/storage"
	"github.com/assetlab/assetlab/server/video"
	"github.com/assetlab/assetlab/worker/transcode"
)

// errLostLease stops a job whose lease another worker has taken over.
var errLostLease = errors.New("lease lost to another worker")

// errVideoDeleted stops a job whose video was deleted.
var errVideoDeleted = errors.New("the video was deleted")

// Worker processes transcode jobs.
type Worker struct {
	raw, videos storage.Store
	cfg         config.Config
	name        string
	log         *slog.Logger
	opts        transcode.Options

	// rawFiles is set when the originals are files on this machine, which
	// FFmpeg reads in place.
	rawFiles storage.Files

	// tools is set once CheckTools has passed.
	tools *transcode.Tools
	// current is the lease of the attempt being run, for the announcement.
	mu      sync.Mutex
	current *lease
}

// New makes a worker on the given stores.
func New(cfg config.Config, raw, videos storage.Store, log *slog.Logger) *Worker {
	if log == nil {
		log = slog.Default()
	}
	host, _ := os.Hostname()
	name := fmt.Sprintf("%s-%d-%04x", host, os.Getpid(), rand.IntN(1<<16))
	return &Worker{
		raw: raw, videos: videos, rawFiles: storage.Compose(raw).Files, cfg: cfg, name: name,
		log:  log.With(slog.String("worker", name)),
		opts: transcode.Options{FFmpeg: cfg.FFmpeg, FFprobe: cfg.FFprobe, Preset: cfg.X264Preset},
	}
}

// Name identifies the worker in attempt documents and logs.
func (w *Worker) Name() string { return w.name }

// Run processes jobs until ctx ends. A message on wake (the ID of a new upload)
// starts a scan at once; otherwise the worker polls, every PollInterval with
// jitter while there is work, growing to PollMax while there is none.
//
// It first checks FFmpeg (CheckTools), unless that was done already, and
// returns the *transcode.ToolsError without claiming anything if it fails.
// While it runs, the worker announces itself in storage (jobs.WorkerInfo).
func (w *Worker) Run(ctx context.Context, wake <-chan string) error {
	if w.tools == nil {
		if err := w.CheckTools(ctx); err != nil {
			return err
		}
	}
	w.cleanStaleTemp()
	stopAnnouncing := w.announce(ctx)
	defer stopAnnouncing()
	w.log.Info("worker started", slog.String("ffmpeg", w.tools.FFmpeg))
	idle := w.cfg.PollInterval
	for ctx.Err() == nil {
		did, err := w.RunOnce(ctx)
		switch {
		case err != nil && ctx.Err() == nil:
			w.log.Warn("job scan failed", slog.Any("err", err))
		case did:
			idle = w.cfg.PollInterval
			continue
		}
		t := time.NewTimer(jitter(idle))
		select {
		case <-ctx.Done():
		case <-wake:
			idle = w.cfg.PollInterval
		case <-t.C:
			idle = min(idle*3/2, w.cfg.PollMax)
		}
		t.Stop()
	}
	w.log.Info("worker stopped")
	return nil
}

func jitter(d time.Duration) time.Duration {
	return time.Duration(float64(d) * (0.75 + rand.Float64()/2))
}

// RunOnce looks through the queue, oldest first, and runs the first job it can
// claim. It reports whether it did any work.
func (w *Worker) RunOnce(ctx context.Context) (bool, error) {
	queued, err := w.videos.List(ctx, jobs.QueuePrefix)
	if err != nil {
		return false, err
	}
	slices.SortFunc(queued, func(a, b storage.Info) int { return a.ModTime.Compare(b.ModTime) })
	for _, q := range queued {
		id, ok := jobs.IDFromQueueKey(q.Key)
		if !ok {
			continue
		}
		did, err := w.tryJob(ctx, id)
		if err != nil {
			if ctx.Err() != nil {
				return did, nil
			}
			w.log.Warn("job failed to run", slog.String("video_id", id), slog.Any("err", err))
			continue
		}
		if did {
			return true, nil
		}
	}
	return false, nil
}

// backoff is the wait after failed attempt n before attempt n+1.
func (w *Worker) backoff(n int) time.Duration {
	return w.cfg.RetryBackoff << min(n-1, 10)
}

// tryJob claims and runs the job of video id if it is free. It reports whether
// it did any work (ran the job, or ended it).
func (w *Worker) tryJob(ctx context.Context, id string) (bool, error) {
	st, err := jobs.Load(ctx, w.videos, id)
	if err != nil {
		return false, err
	}
	if st.Result != nil && st.Result.Status == jobs.StatusDeleted {
		// A deletion left for an attempt that was running: finish it once
		// no attempt holds a lease (the one running finishes it itself).
		latest, err := jobs.LatestAttempt(ctx, w.videos, id)
		if err != nil || (latest != nil && latest.Live(time.Now())) {
			return false, err
		}
		_, err = jobs.Delete(ctx, w.raw, w.videos, id)
		return false, err
	}
	if st.Result != nil {
		// Ended, but the marker was not removed (a crash between the two).
		return false, w.videos.Delete(ctx, jobs.QueueKey(id))
	}
	var meta video.Meta
	b, err := storage.ReadAll(ctx, w.videos, video.MetaKey(id))
	if errors.Is(err, storage.ErrNotFound) {
		// The video was deleted: remove whatever a worker that died
		// meanwhile may have left, and the marker.
		_, err := jobs.Delete(ctx, w.raw, w.videos, id)
		return false, err
	}
	if err != nil {
		return false, err
	}
	if err := json.Unmarshal(b, &meta); err != nil {
		return false, fmt.Errorf("decode metadata: %w", err)
	}

	n, failures := 1, 0
	if last := st.Latest; last != nil {
		now := time.Now()
		if last.Live(now) {
			return false, nil // another worker has it
		}
		n, failures = last.N+1, last.Failures
		if last.State != jobs.AttemptReleased {
			reason, class, retryable, failedAt := last.Error, transcode.Class(last.ErrorClass), last.Retryable, last.HeartbeatAt
			if last.State == jobs.AttemptRunning {
				reason, class, retryable, failedAt = "the worker stopped responding", transcode.ClassEnvironment, true, last.ExpiresAt
			}
			failures++
			if !retryable || failures >= w.cfg.MaxAttempts {
				if retryable {
					reason = finalReason(failures, class, reason)
				}
				return true, w.finish(ctx, id, jobs.Result{Status: video.StatusError, Attempt: last.N, Error: reason, ErrorClass: string(class)})
			}
			if now.Before(failedAt.Add(w.backoff(failures))) {
				return false, nil
			}
		}
	}

	now := time.Now().UTC()
	a := jobs.Attempt{
		N: n, Worker: w.name, State: jobs.AttemptRunning, Failures: failures,
		StartedAt: now, HeartbeatAt: now, ExpiresAt: now.Add(w.cfg.JobLease),
	}
	body, _ := json.Marshal(a)
	if err := w.videos.Create(ctx, jobs.AttemptKey(id, n), body, "application/json"); err != nil {
		if errors.Is(err, storage.ErrExists) {
			return false, nil // another worker claimed it first
		}
		return false, err
	}
	w.process(ctx, meta, a)
	return true, nil
}

// finish ends a job with its result (the first result written wins), then
// removes its queue marker.
func (w *Worker) finish(ctx context.Context, id string, res jobs.Result) error {
	res.FinishedAt = time.Now().UTC()
	b, _ := json.Marshal(res)
	if err := w.videos.Create(ctx, jobs.ResultKey(id), b, "application/json"); err != nil && !errors.Is(err, storage.ErrExists) {
		return err
	}
	if res.Status == video.StatusError {
		w.log.Warn("job ended in error", slog.String("video_id", id), slog.String("reason", res.Error))
	}
	return w.videos.Delete(ctx, jobs.QueueKey(id))
}

// process runs a claimed attempt to its end.
func (w *Worker) process(ctx context.Context, meta video.Meta, a jobs.Attempt) {
	id := meta.ID
	log := w.log.With(slog.String("video_id", id), slog.Int("attempt", a.N))
	bg := context.WithoutCancel(ctx)
	// A delete may have come between the checks of tryJob and the claim.
	if w.purgeIfDeleted(bg, id, a.N, log) {
		return
	}
	jctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	lease := newLease(w, id, a, cancel)
	w.setCurrent(lease)
	defer w.setCurrent(nil)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		lease.keep(jctx)
	}()
	stop := func() {
		cancel(nil)
		wg.Wait()
	}

	start := time.Now()
	log.Info("transcoding", slog.Int64("bytes", meta.Size))
	res, err := w.transcode(jctx, meta, a, lease)
	if cause := context.Cause(jctx); errors.Is(cause, errVideoDeleted) {
		stop()
		log.Info("stopped: the video was deleted")
		w.purgeIfDeleted(bg, id, a.N, log)
		return
	}
	if cause := context.Cause(jctx); errors.Is(cause, errLostLease) {
		stop()
		log.Warn("stopped: another worker took the job over")
		w.removeOutputs(bg, id, a.N)
		w.purgeIfDeleted(bg, id, a.N, log)
		return
	}
	if err != nil {
		stop()
		// The input may have gone with the video before a heartbeat told.
		if w.purgeIfDeleted(bg, id, a.N, log) {
			return
		}
		defer w.purgeIfDeleted(bg, id, a.N, log) // a delete that raced the record below
		if ctx.Err() != nil {
			// Shutting down: hand the job back, so that another worker (or
			// this one, restarted) takes it at once, without it counting as
			// a failure.
			w.release(context.WithoutCancel(ctx), id, a, log)
			return
		}
		w.fail(context.WithoutCancel(ctx), id, a, err, log)
		return
	}
	if lease.lost() {
		stop()
		log.Warn("stopped before commit: another worker took the job over")
		w.removeOutputs(bg, id, a.N)
		w.purgeIfDeleted(bg, id, a.N, log)
		return
	}
	err = w.commit(jctx, id, a.N, res)
	stop()
	// Whatever the commit did, a delete may have come meanwhile: its
	// tombstone makes the commit fail, and a delete that has finished
	// already shows as metadata gone.
	if w.purgeIfDeleted(bg, id, a.N, log) {
		return
	}
	if errors.Is(err, storage.ErrExists) {
		log.Warn("another attempt ended the job first")
		w.removeOutputs(bg, id, a.N)
		return
	}
	if err != nil {
		w.fail(context.WithoutCancel(ctx), id, a, err, log)
		w.purgeIfDeleted(bg, id, a.N, log)
		return
	}
	log.Info("transcoded", slog.Duration("took", time.Since(start)), slog.Int("renditions", len(res.Renditions)))
	w.tidy(context.WithoutCancel(ctx), meta, a.N)
}

// purgeIfDeleted runs once attempt n has stopped writing (its lease is no
// longer renewed): if the video was deleted meanwhile, what the delete may
// have missed (this attempt's outputs and documents, written after it
// listed them) goes, and the deletion is finished. It reports whether the
// video was deleted.
func (w *Worker) purgeIfDeleted(ctx context.Context, id string, n int, log *slog.Logger) bool {
	deleted, err := jobs.Deleted(ctx, w.videos, id)
	if err != nil {
		log.Warn("check whether the video was deleted", slog.Any("err", err))
		return false
	}
	if !deleted {
		return false
	}
	w.removeOutputs(ctx, id, n)
	// This attempt's document first, so that Delete does not take it for a
	// running attempt and leave the tombstone for it.
	if err := w.videos.Delete(ctx, jobs.AttemptKey(id, n)); err != nil {
		log.Warn("remove the attempt of a deleted video", slog.Any("err", err))
	}
	if _, err := jobs.Delete(ctx, w.raw, w.videos, id); err != nil {
		log.Warn("finish deleting the video; the next queue scan retries", slog.Any("err", err))
		return true
	}
	log.Info("the video was deleted: removed what this attempt made")
	return true
}

// transcode makes and uploads the renditions of one attempt.
func (w *Worker) transcode(ctx context.Context, meta video.Meta, a jobs.Attempt, lease *lease) (jobs.Result, error) {
	loc, err := w.inputURL(ctx, meta.OriginalKey)
	if err != nil {
		return jobs.Result{}, storageFailure("locate the original", err)
	}
	// FFmpeg reads it only as the container the server accepted.
	input, err := transcode.NewInput(loc, meta.ContentType, meta.OriginalKey)
	if err != nil {
		return jobs.Result{}, err
	}
	if w.cfg.TmpDir != "" {
		os.MkdirAll(w.cfg.TmpDir, 0o755)
	}
	dir, err := os.MkdirTemp(w.cfg.TmpDir, fmt.Sprintf("assetlab-%d-", os.Getpid()))
	if err != nil {
		return jobs.Result{}, tempFailure("make the temp folder", err)
	}
	defer os.RemoveAll(dir)

	src, out, err := transcode.Transcode(ctx, input, dir, w.opts, lease.setProgress)
	if err != nil {
		return jobs.Result{}, err
	}
	res := jobs.Result{
		Status: video.StatusDone, Attempt: a.N,
		Duration: src.Duration, Width: src.Width, Height: src.Height,
	}
	for _, o := range out.Outputs {
		f, err := os.Open(o.Path)
		if err != nil {
			return jobs.Result{}, tempFailure("open "+string(o.Rung.Quality), err)
		}
		_, err = w.videos.Put(ctx, video.RenditionKey(meta.ID, a.N, o.Rung.Quality), f, "video/mp4")
		f.Close()
		if err != nil {
			return jobs.Result{}, storageFailure("store "+string(o.Rung.Quality), err)
		}
		var bitrate int64
		if src.Duration > 0 {
			bitrate = int64(float64(o.Size*8) / src.Duration)
		}
		res.Renditions = append(res.Renditions, jobs.Rendition{
			Quality: o.Rung.Quality, Width: o.Width, Height: o.Height, Size: o.Size, Bitrate: bitrate,
		})
	}
	if out.Poster != "" {
		f, err := os.Open(out.Poster)
		if err != nil {
			return jobs.Result{}, tempFailure("open the poster", err)
		}
		_, err = w.videos.Put(ctx, video.PosterKey(meta.ID, a.N), f, "image/jpeg")
		f.Close()
		if err != nil {
			return jobs.Result{}, storageFailure("store the poster", err)
		}
		res.Poster = true
	}
	return res, nil
}

// inputURL is what FFmpeg reads the original from: the file itself when the
// store's objects are files here (the local backend), else a presigned URL
// that outlives any job (FFmpeg makes a ranged request per seek).
func (w *Worker) inputURL(ctx context.Context, key string) (string, error) {
	if w.rawFiles != nil {
		return w.rawFiles.Path(key)
	}
	return w.raw.PresignGet(ctx, key, 24*time.Hour)
}

// commit ends the job as done, unless another attempt already ended it
// (storage.ErrExists).
func (w *Worker) commit(ctx context.Context, id string, n int, res jobs.Result) error {
	res.FinishedAt = time.Now().UTC()
	b, _ := json.Marshal(res)
	return w.videos.Create(context.WithoutCancel(ctx), jobs.ResultKey(id), b, "application/json")
}

// fail records a failed attempt; bad input, or the last allowed attempt, ends
// the job in error. The attempt and the result keep only the public reason
// and the class; the details (FFmpeg's words, paths) go to the log.
func (w *Worker) fail(ctx context.Context, id string, a jobs.Attempt, err error, log *slog.Logger) {
	w.removeOutputs(ctx, id, a.N)
	te := transcode.Classify(err)
	retryable, reason := te.Class != transcode.ClassInput, te.Reason
	log.Warn("attempt failed", slog.String("class", string(te.Class)), slog.String("reason", reason), slog.String("detail", te.Detail))
	now := time.Now().UTC()
	a.State, a.Error, a.ErrorClass, a.Retryable, a.HeartbeatAt, a.ExpiresAt = jobs.AttemptFailed, reason, string(te.Class), retryable, now, now
	b, _ := json.Marshal(a)
	if _, err := w.videos.Put(ctx, jobs.AttemptKey(id, a.N), strings.NewReader(string(b)), "application/json"); err != nil {
		log.Warn("record failed attempt", slog.Any("err", err))
		return // its lease will expire, and the job be retried
	}
	if !retryable || a.Failures+1 >= w.cfg.MaxAttempts {
		reason = finalReason(a.Failures+1, te.Class, reason)
		if err := w.finish(ctx, id, jobs.Result{Status: video.StatusError, Attempt: a.N, Error: reason, ErrorClass: string(te.Class)}); err != nil {
			log.Warn("record job error", slog.Any("err", err))
		}
	}
}

// release hands an attempt back when the worker stops: its outputs go, and
// its document says it was released, which ends its lease now.
func (w *Worker) release(ctx context.Context, id string, a jobs.Attempt, log *slog.Logger) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	w.removeOutputs(ctx, id, a.N)
	now := time.Now().UTC()
	a.State, a.HeartbeatAt, a.ExpiresAt = jobs.AttemptReleased, now, now
	b, _ := json.Marshal(a)
	if _, err := w.videos.Put(ctx, jobs.AttemptKey(id, a.N), strings.NewReader(string(b)), "application/json"); err != nil {
		log.Warn("release the job; its lease will expire instead", slog.Any("err", err))
		return
	}
	log.Info("released the job: shutting down")
}

// tidy runs after a job is done: the queue marker and the outputs of other
// attempts go, and the original too if so configured.
func (w *Worker) tidy(ctx context.Context, meta video.Meta, winner int) {
	if err := w.videos.Delete(ctx, jobs.QueueKey(meta.ID)); err != nil {
		w.log.Warn("remove queue marker", slog.Any("err", err))
	}
	for n := 1; n < winner; n++ {
		w.removeOutputs(ctx, meta.ID, n)
	}
	if w.cfg.DeleteOriginal {
		if err := w.raw.Delete(ctx, meta.OriginalKey); err != nil {
			w.log.Warn("delete original", slog.Any("err", err))
		}
	}
}

// removeOutputs deletes what attempt n uploaded.
func (w *Worker) removeOutputs(ctx context.Context, id string, n int) {
	prefix := strings.TrimSuffix(video.PosterKey(id, n), "poster.jpg")
	objs, err := w.videos.List(ctx, prefix)
	if err != nil {
		w.log.Warn("list outputs to remove", slog.Any("err", err))
		return
	}
	for _, o := range objs {
		w.videos.Delete(ctx, o.Key)
	}
}

// cleanStaleTemp removes temp folders left by worker processes that died.
func (w *Worker) cleanStaleTemp() {
	dir := w.cfg.TmpDir
	if dir == "" {
		dir = os.TempDir()
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		rest, ok := strings.CutPrefix(e.Name(), "assetlab-")
		if !ok || !e.IsDir() {
			continue
		}
		pidStr, _, _ := strings.Cut(rest, "-")
		pid, err := strconv.Atoi(pidStr)
		if err != nil || pid == os.Getpid() {
			continue
		}
		if !processAlive(pid) {
			os.RemoveAll(filepath.Join(dir, e.Name()))
		}
	}
}
