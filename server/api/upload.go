package api

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"mime/multipart"
	"net/http"
	"path"
	"strings"
	"time"

	"github.com/assetlab/assetlab/server/config"
	"github.com/assetlab/assetlab/server/jobs"
	"github.com/assetlab/assetlab/server/video"
)

var errTooLarge = errors.New("upload exceeds the size limit")

// bodyError marks a failure to read the request body (the client went away or
// sent a broken multipart body), as opposed to a storage failure.
type bodyError struct{ err error }

func (e bodyError) Error() string { return "read upload: " + e.err.Error() }
func (e bodyError) Unwrap() error { return e.err }

// limitReader counts what passes through and fails with errTooLarge past max.
type limitReader struct {
	r   io.Reader
	n   int64
	max int64
}

func (l *limitReader) Read(p []byte) (int, error) {
	n, err := l.r.Read(p)
	l.n += int64(n)
	if l.n > l.max {
		return n, errTooLarge
	}
	if err != nil && err != io.EOF && !errors.As(err, new(bodyError)) {
		err = bodyError{err}
	}
	return n, err
}

// upload handles POST /api/upload: multipart/form-data with the video in the
// field "file". The file streams to storage (to S3 in 5 MiB parts from the
// shared memory budget, to local disk straight into a file); nothing is kept
// unless the whole file, its metadata and its job are all stored.
func (a *API) upload(w http.ResponseWriter, r *http.Request) error {
	if !a.uploads.acquire() {
		return errBusy
	}
	defer a.uploads.release()
	// The multipart envelope adds a few hundred bytes: a body much larger than
	// the limit cannot hold an acceptable file, and is refused before it is read.
	if r.ContentLength > a.MaxUploadBytes+1<<20 {
		return a.tooLarge()
	}
	ct, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || ct != "multipart/form-data" {
		return errorf(http.StatusBadRequest, CodeBadRequest, `expected multipart/form-data with the video in the field "file"`)
	}
	if params["boundary"] == "" {
		return errorf(http.StatusBadRequest, CodeBadRequest, "malformed multipart body: no boundary")
	}
	// The multipart parser reads 4 KiB at a time; a larger buffer under it
	// turns a quarter of a million small reads per GiB into a few thousand.
	mr := multipart.NewReader(bufio.NewReaderSize(r.Body, 256<<10), params["boundary"])
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			return errorf(http.StatusBadRequest, CodeBadRequest, `missing the field "file"`)
		}
		if errors.As(err, new(bodyError)) {
			return uploadErr(a, err) // stalled or cut off before the file
		}
		if err != nil {
			return &Error{Status: http.StatusBadRequest, Code: CodeBadRequest, Msg: "malformed multipart body", Err: err}
		}
		if part.FormName() != "file" {
			// Other fields are ignored, but may not smuggle in a large body.
			if _, err := io.CopyN(io.Discard, part, 64<<10); err == nil {
				return errorf(http.StatusBadRequest, CodeBadRequest, "form field too large")
			}
			continue
		}
		return a.storeUpload(w, r, part.FileName(), part)
	}
}

func (a *API) tooLarge() error {
	return errorf(http.StatusRequestEntityTooLarge, CodeFileTooLarge,
		"file too large: the limit is "+config.FormatSize(a.MaxUploadBytes))
}

func (a *API) storeUpload(w http.ResponseWriter, r *http.Request, filename string, body io.Reader) error {
	ctx := r.Context()
	// No whole-request timeout can fit a 1 GiB upload over a slow link: a
	// stall is what is cut, by the body's reader (streamBody).
	br := bufio.NewReaderSize(&limitReader{r: body, max: a.MaxUploadBytes}, 64<<10)
	head, err := br.Peek(video.SniffLen)
	switch {
	case len(head) == 0 && (err == io.EOF || err == nil):
		return errorf(http.StatusBadRequest, CodeEmptyFile, "the file is empty")
	case err != nil && err != io.EOF && !errors.Is(err, bufio.ErrBufferFull):
		return uploadErr(a, err)
	}
	c, ok := video.Sniff(head)
	if !ok {
		return errorf(http.StatusUnsupportedMediaType, CodeUnsupportedType, "not a supported video file: upload MP4, MOV, WebM or MKV")
	}

	id := video.NewID()
	meta := video.Meta{
		ID:          id,
		Filename:    cleanFilename(filename),
		ContentType: c.ContentType,
		OriginalKey: video.OriginalKey(id, c.Ext),
		CreatedAt:   time.Now().UTC(),
	}
	log := a.log.With(slog.String("video_id", id))
	start := time.Now()
	info, err := a.Raw.Put(ctx, meta.OriginalKey, br, c.ContentType)
	if err != nil {
		return uploadErr(a, err)
	}
	meta.Size = info.Size

	// The original is stored: from here on, a failure removes it again.
	if err := a.commit(ctx, meta); err != nil {
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		a.Videos.Delete(cctx, jobs.QueueKey(id))
		a.Videos.Delete(cctx, video.MetaKey(id))
		a.Raw.Delete(cctx, meta.OriginalKey)
		return err
	}
	log.Info("upload stored", slog.Int64("bytes", info.Size), slog.String("container", c.Name),
		slog.Duration("took", time.Since(start)))
	if a.OnUpload != nil {
		a.OnUpload(id)
	}
	writeJSON(w, http.StatusCreated, map[string]string{"id": id, "key": meta.OriginalKey})
	return nil
}

// CommitUpload makes a video of an original stored by another route
// (resumable uploads) as a plain upload does: its metadata, its job, the
// in-process worker woken. meta.Filename is the client's, cleaned here.
func (a *API) CommitUpload(ctx context.Context, meta video.Meta) error {
	meta.Filename = cleanFilename(meta.Filename)
	if err := a.commit(ctx, meta); err != nil {
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		a.Videos.Delete(cctx, jobs.QueueKey(meta.ID))
		a.Videos.Delete(cctx, video.MetaKey(meta.ID))
		return err
	}
	if a.OnUpload != nil {
		a.OnUpload(meta.ID)
	}
	return nil
}

// commit writes the metadata and the job of a stored original.
func (a *API) commit(ctx context.Context, meta video.Meta) error {
	// A client that goes away now no longer stops the upload: it is complete.
	ctx = context.WithoutCancel(ctx)
	b, err := json.Marshal(meta)
	if err != nil {
		return err
	}
	if err := a.Videos.Create(ctx, video.MetaKey(meta.ID), b, "application/json"); err != nil {
		return fmt.Errorf("store metadata: %w", err)
	}
	return jobs.Enqueue(ctx, a.Videos, meta.ID)
}

func uploadErr(a *API, err error) error {
	var be bodyError
	switch {
	case errors.Is(err, errTooLarge):
		return a.tooLarge()
	case errors.As(err, &be):
		return &Error{Status: http.StatusBadRequest, Code: CodeUploadInterrupted, Msg: "the upload was interrupted", Err: err}
	}
	return err
}

// cleanFilename keeps the base name of a client-supplied filename, for display.
func cleanFilename(name string) string {
	name = path.Base(strings.ReplaceAll(name, "\\", "/"))
	if name == "." || name == "/" {
		return ""
	}
	name = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return -1
		}
		return r
	}, name)
	if len(name) > 255 {
		name = name[:255]
	}
	return strings.ToValidUTF8(name, "")
}
