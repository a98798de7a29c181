// Package worker runs transcode jobs: it finds queued jobs in object storage,
// claims one with an atomic create-if-absent, keeps its lease alive while FFmpeg
// runs, uploads the renditions and ends the job with a create-once result, so
// each job ends exactly once however many workers race for it or crash.
package worker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
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

// Worker processes transcode jobs.
type Worker struct {
	raw, videos storage.Store
	cfg         config.Config
	name        string
	log         *slog.Logger
	opts        transcode.Options

	queue *jobs.Queue

	// rawFiles is set when the originals are files on this machine, which
	// FFmpeg reads in place.
	rawFiles storage.Files

	// tools is set once CheckTools has passed.
	tools *transcode.Tools
	// current is the lease of the attempt being run, for the announcement.
	mu      sync.Mutex
	current *jobs.Lease
}

// New makes a worker on the given stores.
func New(cfg config.Config, raw, videos storage.Store, log *slog.Logger) *Worker {
	if log == nil {
		log = slog.Default()
	}
	host, _ := os.Hostname()
	name := fmt.Sprintf("%s-%d-%04x", host, os.Getpid(), rand.IntN(1<<16))
	log = log.With(slog.String("worker", name))
	return &Worker{
		raw: raw, videos: videos, rawFiles: storage.Compose(raw).Files, cfg: cfg, name: name, log: log,
		opts: transcode.Options{FFmpeg: cfg.FFmpeg, FFprobe: cfg.FFprobe, Preset: cfg.X264Preset},
		queue: &jobs.Queue{Raw: raw, Videos: videos, Lease: cfg.JobLease,
			MaxAttempts: cfg.MaxAttempts, Backoff: cfg.RetryBackoff, Log: log},
	}
}

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
		if err := jobs.RunDeletions(ctx, w.videos, w.log); err != nil && ctx.Err() == nil {
			w.log.Warn("delete what was due; trying again at the next scan", slog.Any("err", err))
		}
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
	queued, err := jobs.Queued(ctx, w.videos)
	if err != nil {
		return false, err
	}
	for _, id := range queued {
		l, err := w.queue.Claim(ctx, id, w.name)
		switch {
		case err == nil:
			w.process(ctx, l)
			return true, nil
		case errors.Is(err, jobs.ErrGaveUp):
			w.log.Warn("job ended in error", slog.String("video_id", id), slog.Any("reason", err))
			return true, nil
		case errors.Is(err, jobs.ErrBusy), errors.Is(err, jobs.ErrTaken), errors.Is(err, jobs.ErrEnded), errors.Is(err, jobs.ErrDeleted):
		case ctx.Err() != nil:
			return false, nil
		default:
			w.log.Warn("job failed to run", slog.String("video_id", id), slog.Any("err", err))
		}
	}
	return false, nil
}

// process runs a claimed attempt to its end: transcode and upload under the
// lease, then finish, fail or (shutting down) release it.
func (w *Worker) process(ctx context.Context, l *jobs.Lease) {
	meta := l.Video()
	log := w.log.With(slog.String("video_id", meta.ID), slog.Int("attempt", l.N()))
	jctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	w.setCurrent(l)
	defer w.setCurrent(nil)
	var wg sync.WaitGroup
	beat := make(chan struct{}, 1)
	wg.Go(func() { w.keep(jctx, l, cancel, beat, log) })
	nudge := func() {
		select {
		case beat <- struct{}{}:
		default:
		}
	}

	start := time.Now()
	log.Info("transcoding", slog.Int64("bytes", meta.Size))
	res, separate, err := w.transcode(jctx, l, nudge, log)
	// No more heartbeats: what follows ends the attempt.
	cancel(nil)
	wg.Wait()
	bg := context.WithoutCancel(ctx)
	switch {
	case err == nil:
		// The separate segments go once players have moved on to the
		// finished playlists; recorded first, so that they go even if this
		// worker is gone by then.
		if err := jobs.DeleteLater(bg, w.videos, time.Now().Add(w.cfg.SegmentGrace), meta.ID, l.N(), separate); err != nil {
			log.Warn("the separate segments will outlive the transcode", slog.Any("err", err))
		}
		err = l.Finish(bg, res)
		if err == nil {
			log.Info("transcoded", slog.Duration("took", time.Since(start)), slog.Int("renditions", len(res.Renditions)))
			if w.cfg.DeleteOriginal {
				if err := w.raw.Delete(bg, meta.OriginalKey); err != nil {
					log.Warn("delete original", slog.Any("err", err))
				}
			}
			return
		}
		if !stopped(log, err) {
			// The result could not be stored: a failure like any other.
			w.fail(bg, l, err, log)
		}
	case ctx.Err() != nil:
		// Shutting down: hand the job back, so that another worker (or
		// this one, restarted) takes it at once, without it counting as
		// a failure.
		err := l.Release(bg)
		if err == nil {
			log.Info("released the job: shutting down")
		} else if !stopped(log, err) {
			log.Warn("release the job", slog.Any("err", err))
		}
	default:
		w.fail(bg, l, err, log)
	}
}

// fail records a failed attempt. The attempt and the result keep only the
// public reason and the class; the details (FFmpeg's words, paths) go to the
// log.
func (w *Worker) fail(ctx context.Context, l *jobs.Lease, err error, log *slog.Logger) {
	te := transcode.Classify(err)
	res, ferr := l.Fail(ctx, jobs.Failure{Class: string(te.Class), Reason: te.Reason, Retryable: te.Class != transcode.ClassInput})
	if stopped(log, ferr) {
		return
	}
	log.Warn("attempt failed", slog.String("class", string(te.Class)), slog.String("reason", te.Reason), slog.String("detail", te.Detail))
	if ferr != nil {
		log.Warn("record the failure", slog.Any("err", ferr))
	}
	if res != nil {
		log.Warn("job ended in error", slog.String("reason", res.Error))
	}
}

// stopped logs an attempt that ended because it was over already: the
// video was deleted, or another attempt took the job or ended it.
func stopped(log *slog.Logger, err error) bool {
	switch {
	case errors.Is(err, jobs.ErrDeleted):
		log.Info("stopped: the video was deleted")
	case errors.Is(err, jobs.ErrLeaseLost):
		log.Warn("stopped: another worker took the job over")
	case errors.Is(err, jobs.ErrEnded):
		log.Warn("another attempt ended the job first")
	default:
		return false
	}
	return true
}

// publishEvery is how often the worker looks for segments FFmpeg has
// finished; after publishFailuresWarned failed looks in a row it warns.
const (
	publishEvery          = 250 * time.Millisecond
	publishFailuresWarned = 20
)

// transcode makes and uploads the renditions of one attempt, publishing its
// HLS stream as it goes; nudge asks for a heartbeat now (the stream became
// playable). It also returns the keys of the separate segment objects, which
// the finished playlists no longer name.
func (w *Worker) transcode(ctx context.Context, l *jobs.Lease, nudge func(), log *slog.Logger) (jobs.Result, []string, error) {
	meta := l.Video()
	loc, err := w.inputURL(ctx, meta.OriginalKey)
	if err != nil {
		return jobs.Result{}, nil, storageFailure("locate the original", err)
	}
	// FFmpeg reads it only as the container the server accepted.
	input, err := transcode.NewInput(loc, meta.ContentType, meta.OriginalKey)
	if err != nil {
		return jobs.Result{}, nil, err
	}
	if w.cfg.TmpDir != "" {
		os.MkdirAll(w.cfg.TmpDir, 0o755)
	}
	dir, err := os.MkdirTemp(w.cfg.TmpDir, fmt.Sprintf("assetlab-%d-", os.Getpid()))
	if err != nil {
		return jobs.Result{}, nil, tempFailure("make the temp folder", err)
	}
	defer os.RemoveAll(dir)

	src, err := transcode.Probe(ctx, w.opts.FFprobe, input)
	if err != nil {
		return jobs.Result{}, nil, err
	}
	outs := transcode.Layout(src, dir)
	nudged := false
	st := newStream(w.videos, meta.ID, l.N(), src, outs, func(seconds float64) {
		l.SetPlayable(seconds)
		// Only the first time is news worth a heartbeat of its own.
		if !nudged {
			nudged = true
			nudge()
		}
	})
	// Segments are published while FFmpeg runs; a failure to publish one
	// is tried again at the next look, and decides nothing until the end,
	// but a run of them is worth a warning: viewers wait meanwhile.
	pctx, stopPublishing := context.WithCancel(ctx)
	published := make(chan struct{})
	go func() {
		defer close(published)
		failed := 0
		every(pctx, publishEvery, func() bool {
			err := st.sync(pctx)
			switch {
			case err == nil:
				failed = 0
			case pctx.Err() != nil:
			default:
				if failed++; failed == publishFailuresWarned {
					log.Warn("segments cannot be published; trying on", slog.Any("err", err))
				}
			}
			return true
		})
	}()
	out, err := transcode.Run(ctx, input, src, outs, w.opts, l.SetProgress)
	stopPublishing()
	<-published
	if err != nil {
		return jobs.Result{}, nil, err
	}
	separate, err := st.finish(ctx, out.Outputs)
	if err != nil {
		return jobs.Result{}, nil, err
	}
	res := jobs.Result{Duration: src.Duration, Width: src.Width, Height: src.Height, HLS: true}
	for _, o := range out.Outputs {
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
			return jobs.Result{}, nil, tempFailure("open the poster", err)
		}
		_, err = w.videos.Put(ctx, video.PosterKey(meta.ID, l.N()), f, "image/jpeg")
		f.Close()
		if err != nil {
			return jobs.Result{}, nil, storageFailure("store the poster", err)
		}
		res.Poster = true
	}
	return res, separate, nil
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
