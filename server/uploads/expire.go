package uploads

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	"github.com/assetlab/assetlab/server/storage"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/tus/tusd/v2/pkg/handler"
)

// An upload expires Expiry after its creation, not after its last request:
// the deadline a client is told at creation never moves, every server of a
// fleet reads it from the upload's own metadata with no write per PATCH,
// and it bounds the age of the upload's S3 multipart upload, which the
// storage's sweep of untracked multipart uploads relies on (it leaves them
// for longer than the expiry; see stores.UntrackedAfter).

// createdKey is the metadata entry that holds an upload's creation time
// (RFC 3339, UTC). The server sets it; a client's own value is replaced.
const createdKey = "assetlab_created"

// ExpiresHeader is the tus expiration extension's header.
const ExpiresHeader = "Upload-Expires"

// stamp adds the creation time to a new upload's metadata and returns the
// header that tells the client its expiry.
func (s *Server) stamp(meta map[string]string, now time.Time) (handler.HTTPResponse, map[string]string) {
	out := maps.Clone(meta)
	if out == nil {
		out = map[string]string{}
	}
	out[createdKey] = now.UTC().Format(time.RFC3339Nano)
	return handler.HTTPResponse{Header: handler.HTTPHeader{ExpiresHeader: httpDate(now.Add(s.o.Expiry))}}, out
}

// expiresAt is when the upload described by info expires. An upload without
// a creation time in its metadata (made before it was kept) counts from
// modTime, its .info document's.
func (s *Server) expiresAt(info handler.FileInfo, modTime time.Time) time.Time {
	created := modTime
	if t, err := time.Parse(time.RFC3339Nano, info.MetaData[createdKey]); err == nil {
		created = t
	}
	return created.Add(s.o.Expiry)
}

func httpDate(t time.Time) string { return t.UTC().Format(http.TimeFormat) }

// objectOf is the object part of an upload ID: s3store's IDs are
// {object}+{multipart upload}, filestore's the object alone.
func objectOf(id string) string {
	object, _, _ := strings.Cut(id, "+")
	return object
}

func infoKey(object string) string { return tusPrefix + object + ".info" }

// readInfo reads the .info document of upload id from storage.
func (s *Server) readInfo(ctx context.Context, id string) (handler.FileInfo, storage.Info, error) {
	key := infoKey(objectOf(id))
	b, err := storage.ReadAll(ctx, s.o.Raw, key)
	if err != nil {
		return handler.FileInfo{}, storage.Info{}, err
	}
	var info handler.FileInfo
	if err := json.Unmarshal(b, &info); err != nil {
		return handler.FileInfo{}, storage.Info{}, fmt.Errorf("read %s: %w", key, err)
	}
	var st storage.Info
	if _, ok := info.MetaData[createdKey]; !ok {
		// Made before the creation time was kept: its .info's time stands in.
		if st, err = s.o.Raw.Stat(ctx, key); err != nil {
			return handler.FileInfo{}, storage.Info{}, err
		}
	}
	return info, st, nil
}

// waitKey marks a request that waits for an upload's lock rather than
// asking its holder to let go (see Locker).
type waitKey struct{}

func waits(ctx context.Context) bool { b, _ := ctx.Value(waitKey{}).(bool); return b }

// before runs ahead of tusd on each request: it answers a request to an
// expired upload with 410 (DELETE still removes it), tells the expiry of a
// live one in Upload-Expires, advertises the expiration extension, and marks
// the requests that write (PATCH, POST) as waiting for a busy upload's lock:
// one PATCH must not stop another that is writing, only HEAD (a client
// resuming after a network drop asks for the offset first) and DELETE do.
// It returns the request to pass on, or nil once it has answered.
func (s *Server) before(w http.ResponseWriter, r *http.Request) (http.ResponseWriter, *http.Request) {
	switch r.Method {
	case http.MethodOptions:
		return &extensionWriter{ResponseWriter: w}, r
	case http.MethodPost:
		return w, r.WithContext(context.WithValue(r.Context(), waitKey{}, true))
	}
	id := path.Base(r.URL.Path)
	if !validUploadID.MatchString(id) || strings.Contains(id, "..") {
		return w, r // tusd answers it
	}
	info, st, err := s.readInfo(r.Context(), id)
	if err != nil {
		// Not found is tusd's to answer; anything else tusd meets again.
		return w, r
	}
	expires := s.expiresAt(info, st.ModTime)
	w.Header().Set(ExpiresHeader, httpDate(expires))
	if !time.Now().Before(expires) && r.Method != http.MethodDelete {
		writeAPIError(w, r, apiError(http.StatusGone, "upload_expired",
			"this upload has expired: start it again"))
		return w, nil
	}
	if r.Method == http.MethodPatch {
		r = r.WithContext(context.WithValue(r.Context(), waitKey{}, true))
	}
	return w, r
}

func writeAPIError(w http.ResponseWriter, r *http.Request, e handler.Error) {
	for k, v := range e.HTTPResponse.Header {
		w.Header().Set(k, v)
	}
	w.Header().Set("Tus-Resumable", "1.0.0")
	w.WriteHeader(e.HTTPResponse.StatusCode)
	if r.Method != http.MethodHead {
		w.Write([]byte(e.HTTPResponse.Body))
	}
}

// extensionWriter adds the expiration extension, which tusd does not know
// of, to the Tus-Extension header of an OPTIONS answer.
type extensionWriter struct {
	http.ResponseWriter
	done bool
}

func (e *extensionWriter) WriteHeader(code int) {
	if !e.done {
		e.done = true
		if ext := e.Header().Get("Tus-Extension"); ext != "" && !strings.Contains(ext, "expiration") {
			e.Header().Set("Tus-Extension", ext+",expiration")
		}
	}
	e.ResponseWriter.WriteHeader(code)
}

func (e *extensionWriter) Write(b []byte) (int, error) {
	if !e.done {
		e.WriteHeader(http.StatusOK)
	}
	return e.ResponseWriter.Write(b)
}

func (e *extensionWriter) Unwrap() http.ResponseWriter { return e.ResponseWriter }

// tempParent holds the folders in which each process's s3store buffers
// parts: a process killed mid-PATCH leaves its buffers there, and the
// janitor of any process on the machine removes them (storage.ReapOwnedDirs).
func (s *Server) tempParent() string {
	dir := s.o.TempDir
	if dir == "" {
		dir = os.TempDir()
	}
	return filepath.Join(dir, "assetlab-tus")
}

// tempDir makes this process's folder of part buffers on S3, once; Close
// removes it.
func (s *Server) tempDir() error {
	if s.o.S3 == nil {
		return nil
	}
	s.tempMu.Lock()
	defer s.tempMu.Unlock()
	if s.releaseTemp != nil {
		return nil
	}
	_, release, err := storage.NewOwnedDir(s.tempParent(), s.locker.Holder)
	if err != nil {
		return fmt.Errorf("tus: %w", err)
	}
	s.releaseTemp = release
	return nil
}

// Close removes this process's folder of part buffers. It is called once
// no request is served any more.
func (s *Server) Close() error {
	s.tempMu.Lock()
	defer s.tempMu.Unlock()
	if s.releaseTemp == nil {
		return nil
	}
	return s.releaseTemp()
}

// RunJanitor removes expired uploads every interval until ctx ends, and on
// S3 the part buffers of processes that ended.
func (s *Server) RunJanitor(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if s.o.S3 != nil {
			if n, err := storage.ReapOwnedDirs(s.tempParent()); err != nil {
				s.o.Log.Warn("removing the part buffers of processes that ended failed", slog.Any("err", err))
			} else if n > 0 {
				s.o.Log.Info("removed the part buffers of processes that ended", slog.Int("processes", n))
			}
		}
		n, err := s.Expire(ctx)
		if err != nil && ctx.Err() == nil {
			s.o.Log.Warn("removing expired resumable uploads failed", slog.Any("err", err))
		}
		if n > 0 {
			s.o.Log.Info("removed expired resumable uploads", slog.Int("uploads", n))
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Expire removes every expired upload completely: its S3 multipart upload
// is aborted and its .info and .part objects deleted, or its local file and
// .info removed, then its lock documents. It takes each upload's lock first,
// as tusd does to terminate one, so that no request writes it meanwhile (a
// PATCH still writing an expired upload is asked to stop). It also removes
// the lock documents of uploads that no longer exist. It returns how many
// uploads it removed.
func (s *Server) Expire(ctx context.Context) (int, error) {
	// The locks are listed before the uploads: a lock folder made before
	// the listing of uploads and with no upload in it belongs to an upload
	// that has ended (an upload exists before any lock on it).
	locks, err := s.o.Raw.List(ctx, locksPrefix)
	if err != nil {
		return 0, fmt.Errorf("list upload locks: %w", err)
	}
	list, err := s.o.Raw.List(ctx, tusPrefix)
	if err != nil {
		return 0, fmt.Errorf("list uploads: %w", err)
	}
	now := time.Now()
	live := map[string]bool{} // objects with an .info
	removed := 0
	var errs []error
	for _, o := range list {
		if !strings.HasSuffix(o.Key, ".info") {
			continue
		}
		object := strings.TrimSuffix(strings.TrimPrefix(o.Key, tusPrefix), ".info")
		live[object] = true
		b, err := storage.ReadAll(ctx, s.o.Raw, o.Key)
		if errors.Is(err, storage.ErrNotFound) {
			continue // finished or removed meanwhile
		}
		if err != nil {
			errs = append(errs, err)
			continue
		}
		var info handler.FileInfo
		if err := json.Unmarshal(b, &info); err != nil || info.ID == "" {
			errs = append(errs, fmt.Errorf("read %s: not an upload's info (%v)", o.Key, err))
			continue
		}
		if now.Before(s.expiresAt(info, o.ModTime)) {
			continue
		}
		if err := s.remove(ctx, info.ID); err != nil {
			errs = append(errs, err)
			continue
		}
		delete(live, object)
		removed++
		s.o.Log.Info("expired resumable upload removed", slog.String("upload", info.ID),
			slog.Int64("offset", info.Offset), slog.Int64("size", info.Size))
	}
	seen := map[string]bool{}
	for _, o := range locks {
		id, _, ok := strings.Cut(strings.TrimPrefix(o.Key, locksPrefix), "/")
		if !ok || seen[id] || live[objectOf(id)] {
			continue
		}
		seen[id] = true
		l := &lock{lk: s.locker, id: id}
		c, _, err := l.newest(ctx)
		if err != nil || !c.free(time.Now()) {
			continue // held: its request ends, and the next round sees it free
		}
		if err := s.locker.Forget(ctx, id); err != nil {
			errs = append(errs, fmt.Errorf("remove the lock of ended upload %s: %w", id, err))
		}
	}
	return removed, errors.Join(errs...)
}

// remove terminates upload id under its lock and removes the lock.
func (s *Server) remove(ctx context.Context, id string) error {
	lk, err := s.locker.NewLock(id)
	if err != nil {
		return err
	}
	// The claim of a process that died lapses within a lease.
	lctx, cancel := context.WithTimeout(ctx, 2*s.locker.Lease)
	err = lk.Lock(lctx, nil)
	cancel()
	if err != nil {
		return fmt.Errorf("lock expired upload %s: %w", id, err)
	}
	err = s.terminate(ctx, id)
	if uerr := lk.Unlock(); uerr != nil && err == nil {
		s.o.Log.Warn("release the lock of an expired upload", slog.String("upload", id), slog.Any("err", uerr))
	}
	if err != nil {
		return err
	}
	return s.locker.Forget(ctx, id)
}

// terminate removes an upload's data with tusd's own Terminate. On S3 that
// also deletes the object at the original's key, which is the finished
// video's once the multipart upload has completed: an upload whose
// multipart upload is no longer open loses only its .info and .part.
func (s *Server) terminate(ctx context.Context, id string) error {
	if s.o.S3 != nil {
		object, multipart, _ := strings.Cut(id, "+")
		open, err := s.multipartOpen(ctx, "originals/"+object, multipart)
		if err != nil {
			return err
		}
		if !open {
			for _, key := range []string{tusPrefix + object + ".info", tusPrefix + object + ".part"} {
				if err := s.o.Raw.Delete(ctx, key); err != nil && !errors.Is(err, storage.ErrNotFound) {
					return fmt.Errorf("remove expired upload %s: %w", id, err)
				}
			}
			return nil
		}
	}
	upload, err := s.composer.Core.GetUpload(ctx, id)
	if errors.Is(err, handler.ErrNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("remove expired upload %s: %w", id, err)
	}
	if err := s.composer.Terminater.AsTerminatableUpload(upload).Terminate(ctx); err != nil {
		return fmt.Errorf("remove expired upload %s: %w", id, err)
	}
	return nil
}

// multipartOpen reports whether S3 still has the multipart upload.
func (s *Server) multipartOpen(ctx context.Context, key, uploadID string) (bool, error) {
	if uploadID == "" {
		return false, nil
	}
	_, err := s.o.S3.Client().ListParts(ctx, &s3.ListPartsInput{
		Bucket: aws.String(s.o.S3.Bucket()), Key: aws.String(key), UploadId: aws.String(uploadID), MaxParts: aws.Int32(1),
	})
	if err == nil {
		return true, nil
	}
	var code interface{ ErrorCode() string }
	if errors.As(err, &code) && (code.ErrorCode() == "NoSuchUpload" || code.ErrorCode() == "NoSuchKey") {
		return false, nil
	}
	return false, fmt.Errorf("list the parts of %s: %w", key, err)
}

// lockLease is how long an upload's lock outlives a process that died
// holding it. It is shorter than tusd's wait for a lock (20 s), so that the
// first HEAD of a client resuming after a crash mid-PATCH gets the offset
// rather than a 423; the holder renews it every third.
const lockLease = 10 * time.Second
