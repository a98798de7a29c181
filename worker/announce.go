package worker

import (
	"context"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/assetlab/assetlab/server/jobs"
	"github.com/assetlab/assetlab/worker/transcode"
)

// staleAnnouncement is how long the announcement of a worker that died is
// kept (for a list of workers to show) before a starting worker removes it.
const staleAnnouncement = time.Hour

// CheckTools checks that FFmpeg is there with what the transcode needs (see
// transcode.CheckTools). Until it has passed, Run claims no job.
func (w *Worker) CheckTools(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	t, err := transcode.CheckTools(ctx, w.opts)
	if err != nil {
		return err
	}
	w.tools = &t
	return nil
}

func (w *Worker) setCurrent(l *jobs.Lease) {
	w.mu.Lock()
	w.current = l
	w.mu.Unlock()
}

// info is the worker's announcement as of now.
func (w *Worker) info(started time.Time) jobs.WorkerInfo {
	host, _ := os.Hostname()
	now := time.Now().UTC()
	i := jobs.WorkerInfo{
		Name: w.name, Host: host, PID: os.Getpid(), FFmpeg: w.tools.FFmpeg,
		StartedAt: started, HeartbeatAt: now, ExpiresAt: now.Add(w.cfg.JobLease),
	}
	w.mu.Lock()
	if l := w.current; l != nil {
		i.Job, i.Attempt, i.Progress = l.Video().ID, l.N(), l.Progress()
	}
	w.mu.Unlock()
	return i
}

// announce writes the worker's announcement, rewrites it every third of the
// job lease until the returned function is called, which removes it.
func (w *Worker) announce(ctx context.Context) (stop func()) {
	started := time.Now().UTC()
	if err := jobs.Announce(ctx, w.videos, w.info(started)); err != nil {
		w.log.Warn("announce worker", slog.Any("err", err))
	}
	w.sweepAnnouncements(ctx)
	actx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Go(func() {
		every(actx, w.cfg.JobLease/3, func() bool {
			if err := jobs.Announce(actx, w.videos, w.info(started)); err != nil && actx.Err() == nil {
				w.log.Warn("announce worker", slog.Any("err", err))
			}
			return true
		})
	})
	return func() {
		cancel()
		wg.Wait()
		dctx, done := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer done()
		if err := jobs.Withdraw(dctx, w.videos, w.name); err != nil {
			w.log.Warn("withdraw worker", slog.Any("err", err))
		}
	}
}

// sweepAnnouncements removes those of workers that died long ago.
func (w *Worker) sweepAnnouncements(ctx context.Context) {
	list, err := jobs.Workers(ctx, w.videos)
	if err != nil {
		w.log.Warn("list workers", slog.Any("err", err))
		return
	}
	for _, i := range list {
		if time.Since(i.ExpiresAt) > staleAnnouncement {
			jobs.Withdraw(ctx, w.videos, i.Name)
		}
	}
}

// RunInProcess runs the worker inside an AssetLab server until ctx ends (the
// server's assembly starts ASSETLAB_WORKERS of them). wake receives the ID of
// each new upload, so that an idle worker starts at once. Without a usable
// FFmpeg it claims nothing: it reports why (report(err); report(nil) once it
// can work: the server's /readyz says so), logs it as an error, and checks
// again every minute, so that installing FFmpeg turns it on.
func (w *Worker) RunInProcess(ctx context.Context, wake <-chan string, report func(err error)) error {
	if report == nil {
		report = func(error) {}
	}
	for {
		err := w.CheckTools(ctx)
		if ctx.Err() != nil {
			return nil
		}
		report(err)
		if err == nil {
			return w.Run(ctx, wake)
		}
		w.log.Error("transcoder off: no job will be transcoded until this is fixed (checking again every minute)",
			slog.Any("err", err))
		t := time.NewTimer(time.Minute)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C:
		}
	}
}
