package storage

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

// On S3 each store is an owner with a marker object, {ownersPrefix}{id}.{lease},
// that its janitor rewrites every quarter of the lease. Each multipart upload
// is recorded by an empty object {inflightPrefix}{owner}/{upload ID} between
// its start and its end: two small writes per upload, none for an object
// small enough for one PUT. The janitor of any process aborts the uploads of
// an owner whose marker has not been rewritten for a lease.
//
// Keys under tmpPrefix cannot be object keys (ValidKey refuses them) and List
// leaves them out.
const (
	tmpPrefix      = ".tmp/"
	ownersPrefix   = tmpPrefix + "owners/"
	inflightPrefix = tmpPrefix + "inflight/"
)

type s3Owner struct {
	id    string
	lease time.Duration
	key   string
	// mu makes a heartbeat and the listing that reads its time back one step
	// (see ownerStates).
	mu     sync.Mutex
	beaten atomic.Bool  // the marker has been written at least once
	active atomic.Int64 // multipart uploads started and not yet ended

	rmu     sync.Mutex
	recheck map[string]abortedUpload // by upload ID
}

type abortedUpload struct {
	key string
	at  time.Time
}

// recheckAfter is how long after aborting an upload the abort is repeated.
const recheckAfter = 10 * time.Second

func newS3Owner(lease time.Duration) *s3Owner {
	id := newOwnerID()
	return &s3Owner{id: id, lease: lease, key: fmt.Sprintf("%s%s.%dms", ownersPrefix, id, lease.Milliseconds()),
		recheck: map[string]abortedUpload{}}
}

// hidden reports whether List leaves key out when asked for prefix.
func hidden(prefix, key string) bool {
	return strings.HasPrefix(key, tmpPrefix) && !strings.HasPrefix(prefix, tmpPrefix)
}

func inflightKey(owner, uploadID string) string {
	// Upload IDs are opaque: some servers' could hold a "/".
	return inflightPrefix + owner + "/" + base64.RawURLEncoding.EncodeToString([]byte(uploadID))
}

// Owner is the name under which this store records its multipart uploads.
func (s *S3) Owner() string { return s.own.id }

// beat rewrites this store's owner marker.
func (s *S3) beat(ctx context.Context) error {
	host, _ := os.Hostname()
	body, _ := json.Marshal(map[string]any{"host": host, "pid": os.Getpid(), "lease": s.own.lease.String()})
	_, err := s.client.PutObject(ctx, &s3.PutObjectInput{
		Bucket:        &s.bucket,
		Key:           &s.own.key,
		Body:          bytes.NewReader(body),
		ContentLength: aws.Int64(int64(len(body))),
		ContentType:   aws.String("application/json"),
	})
	if err != nil {
		return mapS3Err("write owner marker", s.own.key, err)
	}
	s.own.beaten.Store(true)
	return nil
}

// createUpload starts a multipart upload and records it against this store's
// owner marker. If the record cannot be written the upload goes on untracked:
// should this process die, it is then aborted by age only.
func (s *S3) createUpload(ctx context.Context, key, contentType string) (*string, error) {
	if !s.own.beaten.Load() {
		// The marker must exist before an upload names it; RunJanitor keeps it
		// fresh from then on.
		s.own.mu.Lock()
		if !s.own.beaten.Load() {
			if err := s.beat(ctx); err != nil {
				s.log.Warn("could not write owner marker", slog.Any("err", err))
			}
		}
		s.own.mu.Unlock()
	}
	created, err := s.client.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{
		Bucket:      &s.bucket,
		Key:         &key,
		ContentType: nonEmpty(contentType),
	})
	if err != nil {
		return nil, err
	}
	s.own.active.Add(1)
	marker := inflightKey(s.own.id, aws.ToString(created.UploadId))
	_, err = s.client.PutObject(ctx, &s3.PutObjectInput{
		Bucket: &s.bucket, Key: &marker, Body: strings.NewReader(key), ContentLength: aws.Int64(int64(len(key))),
	})
	if err != nil {
		s.log.Warn("could not record multipart upload; if this process dies it is aborted after a day",
			slog.String("key", key), slog.Any("err", err))
	}
	return created.UploadId, nil
}

// ended forgets a multipart upload of this store that was completed or
// aborted (or whose abort is left to retryAborts).
func (s *S3) ended(uploadID string) {
	s.own.active.Add(-1)
	s.dropMarker(inflightKey(s.own.id, uploadID))
}

// aborted notes a multipart upload aborted after a failure. A part whose
// request was cancelled may still be being written by the server, and its
// arrival after the abort can bring the upload back (versitygw recreates it):
// retryAborts aborts it once more, recheckAfter later, and only then drops its
// record.
func (s *S3) aborted(key, uploadID string) {
	s.own.active.Add(-1)
	s.own.rmu.Lock()
	s.own.recheck[uploadID] = abortedUpload{key: key, at: time.Now()}
	s.own.rmu.Unlock()
}

// dropMarker deletes an in-flight record. One left behind is harmless: the
// janitor deletes records whose upload is gone.
func (s *S3) dropMarker(marker string) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := s.client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &s.bucket, Key: &marker}); err != nil {
		s.log.Debug("delete multipart upload record failed", slog.String("marker", marker), slog.Any("err", err))
	}
}

// PendingAborts is the number of failed uploads whose abort is still to be retried.
func (s *S3) PendingAborts() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.orphans)
}

// RunJanitor keeps this store's owner marker fresh (every quarter of the
// upload lease), retries failed aborts every o.RetryInterval, and every
// o.Interval aborts the multipart uploads of owners whose marker has expired
// (processes that died mid-upload) and untracked uploads older than
// o.UntrackedAfter, until ctx ends. A process that uploads must run it: an
// owner whose marker goes stale loses its uploads to other janitors. It
// refuses options left unset.
func (s *S3) RunJanitor(ctx context.Context, o JanitorOptions) error {
	if err := o.check(); err != nil {
		return err
	}
	var wg sync.WaitGroup
	defer wg.Wait()
	wg.Go(func() { s.heartbeat(ctx, o.Log) })

	t := time.NewTicker(min(o.RetryInterval, o.Interval))
	defer t.Stop()
	var lastSweep time.Time
	for {
		s.retryAborts(ctx) // without failed aborts, no request
		if time.Since(lastSweep) >= o.Interval {
			lastSweep = time.Now()
			if err := s.sweep(ctx, o.UntrackedAfter); err != nil && ctx.Err() == nil {
				o.Log.Warn("sweep of unfinished multipart uploads failed", slog.String("bucket", s.bucket), slog.Any("err", err))
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// heartbeat rewrites the owner marker every quarter of the lease. Once ctx
// ends it goes on while uploads are still finishing (a graceful shutdown
// lets them), so that no other janitor takes them for a dead process's.
func (s *S3) heartbeat(ctx context.Context, log *slog.Logger) {
	every := s.own.lease / 4
	beat := func() {
		bctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), every)
		defer cancel()
		s.own.mu.Lock()
		defer s.own.mu.Unlock()
		if err := s.beat(bctx); err != nil {
			log.Warn("owner marker not renewed", slog.String("bucket", s.bucket), slog.Any("err", err))
		}
	}
	beat()
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			beat()
			continue
		case <-ctx.Done():
		}
		// A graceful shutdown gives uploads 30 s, and their aborts 30 s more.
		last, deadline := time.Now(), time.Now().Add(90*time.Second)
		for s.own.active.Load() > 0 && time.Now().Before(deadline) {
			time.Sleep(50 * time.Millisecond)
			if time.Since(last) >= every {
				beat()
				last = time.Now()
			}
		}
		return
	}
}

// retryAborts retries the aborts that failed, and repeats those due for a
// second one (see aborted).
func (s *S3) retryAborts(ctx context.Context) {
	due := map[string]string{}
	s.mu.Lock()
	maps.Copy(due, s.orphans)
	s.mu.Unlock()
	s.own.rmu.Lock()
	for id, a := range s.own.recheck {
		if time.Since(a.at) >= recheckAfter {
			due[id] = a.key
		}
	}
	s.own.rmu.Unlock()
	for id, key := range due {
		if err := s.abortNow(ctx, key, id); err != nil {
			if errors.Is(mapS3Err("", key, err), ErrUnavailable) {
				return // still unreachable; next round
			}
			s.log.Warn("abort multipart upload failed", slog.String("key", key), slog.Any("err", err))
			continue
		}
		s.mu.Lock()
		_, failed := s.orphans[id]
		delete(s.orphans, id)
		s.mu.Unlock()
		s.own.rmu.Lock()
		delete(s.own.recheck, id)
		s.own.rmu.Unlock()
		s.dropMarker(inflightKey(s.own.id, id))
		if failed {
			s.log.Info("aborted multipart upload left by a failed upload", slog.String("key", key))
		}
	}
}

type ownerState struct {
	seen  time.Time // the marker's last write, in the storage server's clock
	lease time.Duration
	key   string
}

// ownerStates writes this store's marker and lists every owner's. It also
// returns the storage server's current time, read from the marker just
// written, so that markers are judged in the server's clock alone: a process
// whose clock is off by minutes takes no live owner for dead.
func (s *S3) ownerStates(ctx context.Context) (map[string]ownerState, time.Time, error) {
	s.own.mu.Lock()
	defer s.own.mu.Unlock()
	if err := s.beat(ctx); err != nil {
		return nil, time.Time{}, err
	}
	wrote := time.Now()
	list, err := s.List(ctx, ownersPrefix)
	if err != nil {
		return nil, time.Time{}, err
	}
	owners := map[string]ownerState{}
	var now time.Time
	for _, o := range list {
		id, lease, ok := strings.Cut(strings.TrimPrefix(o.Key, ownersPrefix), ".")
		d, err := time.ParseDuration(lease)
		if !ok || err != nil || d <= 0 {
			continue
		}
		owners[id] = ownerState{seen: o.ModTime, lease: d, key: o.Key}
		if o.Key == s.own.key {
			// Counted from when the write had returned, so that this errs
			// towards taking markers for younger than they are.
			now = o.ModTime.Add(time.Since(wrote))
		}
	}
	if now.IsZero() {
		return nil, time.Time{}, fmt.Errorf("own owner marker %s not listed", s.own.key)
	}
	return owners, now, nil
}

type inflight struct {
	owner, key string
	seen       time.Time
}

// sweep aborts the multipart uploads of dead owners, and untracked ones older
// than untrackedAfter, and deletes the records and markers they leave.
func (s *S3) sweep(ctx context.Context, untrackedAfter time.Duration) error {
	owners, now, err := s.ownerStates(ctx)
	if err != nil {
		return err
	}
	// The records are listed before the uploads: a record is written only
	// once its upload exists, so a record whose upload is not listed belongs
	// to an upload that has ended.
	list, err := s.List(ctx, inflightPrefix)
	if err != nil {
		return err
	}
	records := map[string]inflight{}
	for _, o := range list {
		owner, enc, _ := strings.Cut(strings.TrimPrefix(o.Key, inflightPrefix), "/")
		id, err := base64.RawURLEncoding.DecodeString(enc)
		if err != nil {
			continue
		}
		records[string(id)] = inflight{owner: owner, key: o.Key, seen: o.ModTime}
	}
	dead := func(r inflight) bool {
		if r.owner == s.own.id {
			return false
		}
		if o, ok := owners[r.owner]; ok {
			return now.Sub(o.seen) > o.lease
		}
		// No marker at all: its owner was reaped already, or this is a record
		// from a process that never wrote one. Give it a lease from the record.
		return now.Sub(r.seen) > s.own.lease
	}
	live := map[string]bool{} // owners with uploads still open
	open := map[string]bool{}
	p := s3.NewListMultipartUploadsPaginator(s.client, &s3.ListMultipartUploadsInput{Bucket: &s.bucket})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return mapS3Err("list multipart uploads in", s.bucket, err)
		}
		for _, u := range page.Uploads {
			id, key := aws.ToString(u.UploadId), aws.ToString(u.Key)
			open[id] = true
			r, tracked := records[id]
			switch {
			case tracked && !dead(r):
				live[r.owner] = true
				continue
			case tracked:
				if err := s.abortNow(ctx, key, id); err != nil {
					return mapS3Err("abort", key, err)
				}
				s.dropMarker(r.key)
				delete(records, id)
				s.log.Info("aborted multipart upload of a process that ended", slog.String("key", key),
					slog.String("owner", r.owner))
			case u.Initiated != nil && now.Sub(*u.Initiated) > untrackedAfter:
				if err := s.abortNow(ctx, key, id); err != nil {
					return mapS3Err("abort", key, err)
				}
				s.log.Info("aborted stale multipart upload", slog.String("key", key))
			}
		}
	}
	for id, r := range records {
		if open[id] {
			continue
		}
		// The upload has ended; its owner failed to delete the record. Left a
		// lease, in case a listing lags behind a write.
		if now.Sub(r.seen) > s.own.lease {
			s.dropMarker(r.key)
			continue
		}
		live[r.owner] = true
	}
	for id, o := range owners {
		if id != s.own.id && !live[id] && now.Sub(o.seen) > o.lease {
			s.dropMarker(o.key)
		}
	}
	return nil
}
