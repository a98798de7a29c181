// Package app assembles and runs an AssetLab server from a Config: storage, the
// HTTP API, the in-process transcode workers (ASSETLAB_WORKERS of them) and the
// janitor. The server binary, the desktop app and the tests all start it the
// same way. It is the one package that imports both the API and the worker.
package app

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/assetlab/assetlab/server/api"
	"github.com/assetlab/assetlab/server/config"
	"github.com/assetlab/assetlab/server/storage"
	"github.com/assetlab/assetlab/server/stores"
	"github.com/assetlab/assetlab/server/uploads"
	"github.com/assetlab/assetlab/server/video"
	"github.com/assetlab/assetlab/worker"
)

// Options configures a Server.
type Options struct {
	// Config is the server's settings; Config.Workers says how many
	// transcode workers run in the server process (0: none).
	Config config.Config
	// Frontend is the built web UI (nil: none).
	Frontend fs.FS
	Log      *slog.Logger
}

// Server is a running AssetLab server.
type Server struct {
	cfg    config.Config
	log    *slog.Logger
	stores *stores.Set
	ln     net.Listener
	http   *http.Server
	wake   chan string
	url    string
	token  string
	tus    *uploads.Server

	workerMu   sync.Mutex
	workerErrs map[int]error // by loop, as last reported
}

// New opens storage and starts listening; Run serves.
func New(ctx context.Context, o Options) (*Server, error) {
	cfg, log := o.Config, o.Log
	if log == nil {
		log = slog.Default()
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg, log: log, wake: make(chan string, 64)}
	s.token = cfg.AdminToken
	if s.token == "" {
		path, err := TokenFile()
		if err != nil {
			return nil, err
		}
		if s.token, _, err = LoadOrCreateToken(path); err != nil {
			return nil, err
		}
	} else if len(s.token) < 16 {
		log.Warn("ADMIN_TOKEN is short; use 16 characters or more")
	}
	// Listen first: the local backend's signed URLs need the port.
	ln, err := net.Listen("tcp", cfg.Addr())
	if err != nil {
		return nil, err
	}
	s.ln = ln
	port := ln.Addr().(*net.TCPAddr).Port
	s.url = fmt.Sprintf("http://localhost:%d", port)
	if cfg.PublicURL != "" {
		s.url = cfg.PublicURL
	}
	set, err := stores.Open(ctx, cfg, port, log)
	if err != nil {
		ln.Close()
		return nil, err
	}
	s.stores = set
	pingCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	reachable := true
	for _, st := range []storage.Store{set.Raw, set.Videos} {
		if err := st.Ping(pingCtx); err != nil {
			// Not fatal: storage may come up later; /readyz tells.
			log.Warn("storage not reachable at start", slog.Any("err", err))
			reachable = false
		}
	}
	if reachable {
		corsCtx, cancelCORS := context.WithTimeout(ctx, 10*time.Second)
		defer cancelCORS()
		set.EnsureCORS(corsCtx, log)
	}

	// The endpoint commits a finished upload through the API, made below.
	var a *api.API
	tus, err := uploads.New(uploads.Options{
		Raw:     set.Raw,
		S3:      rawS3(set),
		Videos:  set.Videos,
		TempDir: cmp.Or(cfg.TmpDir, os.TempDir()),
		MaxSize: cfg.MaxUploadBytes,
		Stall:   cfg.UploadStallTimeout,
		Expiry:  cfg.UploadExpiry,
		Commit:  func(ctx context.Context, m video.Meta) error { return a.CommitUpload(ctx, m) },
		Log:     log,
	})
	if err != nil {
		ln.Close()
		return nil, err
	}
	s.tus = tus
	a = api.New(api.Options{
		Raw:            set.Raw,
		Videos:         set.Videos,
		AdminToken:     s.token,
		CORSOrigins:    cfg.CORSOrigins,
		PublicURL:      cfg.PublicURL,
		URLTTL:         cfg.URLTTL,
		MaxUploadBytes: cfg.MaxUploadBytes,
		MaxUploads:     cfg.MaxUploads,
		ReadTimeout:    cfg.ReadTimeout,
		UploadStall:    cfg.UploadStallTimeout,
		Resumable:      tus,
		Frontend:       o.Frontend,
		OnUpload:       s.notify,
		WorkerProblem:  s.workerProblem,
		Log:            log,
	})
	s.http = &http.Server{
		Handler: a.Handler(),
		// Slow or stalled headers are cut off. There is no whole-request
		// ReadTimeout, so that a long upload is never cut: the API gives each
		// body its own deadline (short, or for an upload, against stalls).
		ReadHeaderTimeout: cfg.ReadTimeout,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	return s, nil
}

// rawS3 is the raw store for tusd's s3store, or nil (a nil *storage.S3
// must not become a non-nil interface).
func rawS3(set *stores.Set) uploads.S3Backend {
	if s := set.RawS3(); s != nil {
		return s
	}
	return nil
}

// URL is the address the server can be reached at on this machine.
func (s *Server) URL() string { return s.url }

// Port is the TCP port the server listens on.
func (s *Server) Port() int { return s.ln.Addr().(*net.TCPAddr).Port }

// Token is the admin token in force.
func (s *Server) Token() string { return s.token }

// TokenFromFile reports whether the token was made (or read from the config
// folder) rather than given in ADMIN_TOKEN.
func (s *Server) TokenFromFile() bool { return s.cfg.AdminToken == "" }

// Stores are the server's stores.
func (s *Server) Stores() *stores.Set { return s.stores }

func (s *Server) notify(id string) {
	select {
	case s.wake <- id:
	default: // workers are busy; they will find the job on their next scan
	}
}

// Run serves until ctx ends, then shuts down gracefully: in-flight requests get
// up to 30 s to finish, and the workers are stopped.
func (s *Server) Run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	errc := make(chan error, 2+s.cfg.Workers) // the HTTP server, the janitor, each worker

	wg.Go(func() {
		if err := s.stores.RunJanitor(ctx); err != nil {
			errc <- err
		}
	})

	// Expired resumable uploads are removed at the janitor's pace.
	wg.Go(func() { s.tus.RunJanitor(ctx, s.cfg.JanitorInterval) })

	for i := range s.cfg.Workers {
		w := worker.New(s.cfg, s.stores.Raw, s.stores.Videos, s.log.With(slog.Int("loop", i)))
		wg.Go(func() {
			err := w.RunInProcess(ctx, s.wake, func(err error) { s.reportWorker(i, err) })
			if err != nil && ctx.Err() == nil {
				errc <- fmt.Errorf("worker %d: %w", i, err)
			}
		})
	}

	go func() {
		if err := s.http.Serve(s.ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			errc <- err
		}
	}()
	s.log.Info("listening", slog.String("url", s.url), slog.Bool("s3", s.cfg.UsesS3()),
		slog.Int("workers", s.cfg.Workers))

	var err error
	select {
	case <-ctx.Done():
	case err = <-errc:
	}
	cancel()
	shutCtx, stop := context.WithTimeout(context.Background(), 30*time.Second)
	defer stop()
	if serr := s.http.Shutdown(shutCtx); serr != nil {
		s.http.Close()
	}
	wg.Wait()
	if cerr := s.tus.Close(); cerr != nil {
		s.log.Warn("resumable uploads' temp folder not removed", slog.Any("err", cerr))
	}
	s.log.Info("stopped")
	return err
}

func (s *Server) reportWorker(loop int, err error) {
	s.workerMu.Lock()
	defer s.workerMu.Unlock()
	if s.workerErrs == nil {
		s.workerErrs = map[int]error{}
	}
	s.workerErrs[loop] = err
}

// workerProblem is why an in-process worker cannot work, or nil.
func (s *Server) workerProblem() error {
	s.workerMu.Lock()
	defer s.workerMu.Unlock()
	for i := range s.cfg.Workers {
		if err := s.workerErrs[i]; err != nil {
			return err
		}
	}
	return nil
}

// WorkerProblem is why the in-process workers cannot transcode (FFmpeg
// missing, or lacking what the transcode needs: a *transcode.ToolsError), or
// nil while they can or have not checked yet.
func (s *Server) WorkerProblem() error { return s.workerProblem() }

// Banner is what the server prints at start for a person: where it is, and the
// upload token when it was made for them.
func (s *Server) Banner() string {
	var b strings.Builder
	fmt.Fprintf(&b, "\n  AssetLab is running at %s\n", s.url)
	if !s.cfg.UsesS3() {
		fmt.Fprintf(&b, "  Storage: %s\n", s.cfg.DataDir)
	}
	if s.TokenFromFile() {
		path, _ := TokenFile()
		fmt.Fprintf(&b, "  Upload token: %s\n  (kept in %s; set ADMIN_TOKEN to choose your own)\n", s.token, path)
	}
	return b.String()
}
