package app

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/assetlab/assetlab/server/config"
	"github.com/assetlab/assetlab/server/storage"
)

// Stores are the two stores of a deployment: originals and everything else.
type Stores struct {
	Raw, Videos storage.Store
	// Local is set for the local backend: the stores whose signed URLs the
	// server serves.
	Local []*storage.Local
	s3    []*storage.S3
	// sweep is how often the janitor looks for dead processes' leftovers.
	sweep time.Duration
	log   *slog.Logger
}

// OpenStores opens S3 when a bucket is configured, and the local backend
// under cfg.DataDir otherwise.
func OpenStores(ctx context.Context, cfg config.Config, log *slog.Logger) (*Stores, error) {
	if cfg.UsesS3() {
		// One budget for both stores: uploads of originals and of renditions
		// share the same memory.
		budget := storage.NewBudget(cfg.UploadMemory)
		open := func(bucket string) (*storage.S3, error) {
			return storage.NewS3(ctx, storage.S3Options{
				Bucket:         bucket,
				Region:         cfg.Region,
				Endpoint:       cfg.Endpoint,
				PublicEndpoint: cfg.PublicEndpoint,
				PathStyle:      cfg.PathStyle,
				Concurrency:    cfg.UploadConcurrency,
				Budget:         budget,
				AccessKey:      cfg.AccessKey,
				SecretKey:      cfg.SecretKey,
				SessionToken:   cfg.SessionToken,
				UploadLease:    cfg.UploadLease,
			}, log)
		}
		raw, err := open(cfg.RawBucket)
		if err != nil {
			return nil, err
		}
		st := &Stores{Raw: raw, Videos: raw, s3: []*storage.S3{raw}, sweep: cfg.JanitorInterval, log: log}
		if cfg.VideoBucket != cfg.RawBucket {
			videos, err := open(cfg.VideoBucket)
			if err != nil {
				return nil, err
			}
			st.Videos = videos
			st.s3 = append(st.s3, videos)
		}
		return st, nil
	}
	secret, err := signingKey(filepath.Join(cfg.DataDir, "signing.key"))
	if err != nil {
		return nil, err
	}
	raw, err := storage.NewLocal("raw", filepath.Join(cfg.DataDir, "raw"), secret, cfg.PublicURL)
	if err != nil {
		return nil, err
	}
	videos, err := storage.NewLocal("videos", filepath.Join(cfg.DataDir, "videos"), secret, cfg.PublicURL)
	if err != nil {
		return nil, err
	}
	return &Stores{Raw: raw, Videos: videos, Local: []*storage.Local{raw, videos}, sweep: cfg.JanitorInterval, log: log}, nil
}

// WithBaseURL returns the stores with the local backend's URLs rooted at base
// (the S3 stores are returned as they are).
func (s *Stores) WithBaseURL(base string) *Stores {
	if len(s.Local) == 0 {
		return s
	}
	raw, videos := s.Local[0].WithBaseURL(base), s.Local[1].WithBaseURL(base)
	return &Stores{Raw: raw, Videos: videos, Local: []*storage.Local{raw, videos}, sweep: s.sweep, log: s.log}
}

// RunJanitor cleans up after failed writes until ctx ends. Every
// ASSETLAB_JANITOR_INTERVAL it removes the partial uploads (temp files,
// multipart uploads) of processes that died, and those no live process claims
// once they are a day old; every retryInterval it retries aborts of multipart
// uploads that storage was not there to abort. On S3 it also keeps this
// process's owner markers fresh, so it must run for as long as the stores are
// written to.
func (s *Stores) RunJanitor(ctx context.Context, retryInterval time.Duration) {
	o := storage.JanitorOptions{Interval: s.sweep, RetryInterval: retryInterval, UntrackedAfter: 24 * time.Hour, Log: s.log}
	var wg sync.WaitGroup
	for _, st := range s.s3 {
		wg.Go(func() { st.RunJanitor(ctx, o) })
	}
	for _, l := range s.Local {
		wg.Go(func() { l.RunJanitor(ctx, o) })
	}
	wg.Wait()
}

// signingKey reads the local backend's URL signing key, making it on first use.
// It is shared by every process using the same data folder.
func signingKey(path string) ([]byte, error) {
	if b, err := os.ReadFile(path); err == nil && len(b) >= 32 {
		return b, nil
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("data folder: %w", err)
	}
	key := make([]byte, 32)
	rand.Read(key)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		// Another process made it first; use theirs.
		time.Sleep(50 * time.Millisecond)
		return os.ReadFile(path)
	}
	if err != nil {
		return nil, fmt.Errorf("signing key: %w", err)
	}
	defer f.Close()
	if _, err := f.Write(key); err != nil {
		return nil, fmt.Errorf("signing key: %w", err)
	}
	return key, f.Sync()
}
