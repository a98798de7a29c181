// Package stores opens the two stores of a deployment, originals and everything
// else, from its config: S3 when a bucket is set, else the local backend. It is
// how the server and the standalone worker open them, the same way; each store
// comes with its capabilities found once (storage.Compose).
package stores

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/assetlab/assetlab/server/config"
	"github.com/assetlab/assetlab/server/storage"
)

// Set is the two stores of a deployment.
type Set struct {
	// Raw holds the originals; Videos the documents, renditions and jobs.
	Raw, Videos storage.Composer
	s3          []*storage.S3
	local       []*storage.Local
	// janitor says how the stores' janitors run, from the config.
	janitor storage.JanitorOptions
}

// Open opens the stores cfg names. On the local backend, under cfg.DataDir,
// signed URLs start with cfg.PublicURL, or else with the address of the
// server on this machine: cfg.Host and port, the port it listens on (which
// is not cfg.Port when that is 0 and the system chose one).
func Open(ctx context.Context, cfg config.Config, port int, log *slog.Logger) (*Set, error) {
	if log == nil {
		log = slog.Default()
	}
	janitor := storage.JanitorOptions{
		Interval:       cfg.JanitorInterval,
		RetryInterval:  cfg.AbortRetryInterval,
		UntrackedAfter: UntrackedAfter(cfg),
		Log:            log,
	}
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
		st := &Set{Raw: storage.Compose(raw), Videos: storage.Compose(raw), s3: []*storage.S3{raw}, janitor: janitor}
		if cfg.VideoBucket != cfg.RawBucket {
			videos, err := open(cfg.VideoBucket)
			if err != nil {
				return nil, err
			}
			st.Videos = storage.Compose(videos)
			st.s3 = append(st.s3, videos)
		}
		return st, nil
	}
	base := cfg.PublicURL
	if base == "" {
		base = LocalURL(cfg.Host, port)
	}
	secret, err := signingKey(filepath.Join(cfg.DataDir, "signing.key"))
	if err != nil {
		return nil, err
	}
	raw, err := storage.NewLocal("raw", filepath.Join(cfg.DataDir, "raw"), secret, base)
	if err != nil {
		return nil, err
	}
	videos, err := storage.NewLocal("videos", filepath.Join(cfg.DataDir, "videos"), secret, base)
	if err != nil {
		return nil, err
	}
	return &Set{Raw: storage.Compose(raw), Videos: storage.Compose(videos), local: []*storage.Local{raw, videos},
		janitor: janitor}, nil
}

// RawS3 is the raw store when it is on S3, nil on the local backend (tusd's
// s3store writes to it with its client).
func (s *Set) RawS3() *storage.S3 {
	if len(s.s3) == 0 {
		return nil
	}
	return s.s3[0]
}

// LocalURL is the address, from this machine, of a server listening on host
// and port: the loopback address when it listens on every interface.
func LocalURL(host string, port int) string {
	if ip := net.ParseIP(host); host == "" || ip != nil && ip.IsUnspecified() {
		host = "127.0.0.1"
	}
	return "http://" + net.JoinHostPort(host, strconv.Itoa(port))
}

// untrackedAfter is the age at which a partial upload that no live process
// claims (left by an older version, or whose owner record is lost) is removed
// anyway.
const untrackedAfter = 24 * time.Hour

// UntrackedAfter is the age at which cfg's janitor removes untracked partial
// uploads. A resumable upload's multipart upload is untracked (tusd starts
// it) and must live until the upload expires, when the uploads' own janitor
// removes it: the age is never less than the expiry and an hour, so that no
// clock skew makes the sweep the first to act.
func UntrackedAfter(cfg config.Config) time.Duration {
	return max(untrackedAfter, cfg.UploadExpiry+time.Hour)
}

// RunJanitor cleans up after failed writes until ctx ends. Every
// ASSETLAB_JANITOR_INTERVAL it removes the partial uploads (temp files,
// multipart uploads) of processes that died, and those no live process claims
// once they are a day old; every ASSETLAB_ABORT_RETRY_INTERVAL it retries
// aborts of multipart uploads that storage was not there to abort. On S3 it
// also keeps this process's owner markers fresh, so it must run for as long as
// the stores are written to. Its error is a janitor that could not start.
func (s *Set) RunJanitor(ctx context.Context) error {
	var wg sync.WaitGroup
	errs := make([]error, len(s.s3)+len(s.local))
	for i, st := range s.s3 {
		wg.Go(func() { errs[i] = st.RunJanitor(ctx, s.janitor) })
	}
	for i, l := range s.local {
		wg.Go(func() { errs[len(s.s3)+i] = l.RunJanitor(ctx, s.janitor) })
	}
	wg.Wait()
	return errors.Join(errs...)
}

// EnsureCORS gives each S3 bucket that has no CORS configuration a rule
// letting browsers read it (storage.S3.EnsureCORS), so that
// players fetching its presigned URLs with XHR (hls.js) are not refused. A
// bucket it cannot check or change is logged, not fatal: all but
// cross-origin playback works without the rule.
func (s *Set) EnsureCORS(ctx context.Context, log *slog.Logger) {
	for _, st := range s.s3 {
		if err := st.EnsureCORS(ctx); err != nil {
			log.Warn("cannot check or set the bucket's CORS rule: browsers may be refused its streams; allow GET and HEAD from any origin with any header on the bucket",
				slog.String("bucket", st.Bucket()), slog.Any("err", err))
		}
	}
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
