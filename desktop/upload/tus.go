package upload

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/assetlab/assetlab/server/video"
)

// VideoIDHeader is the response header in which the server names the video
// made from a finished resumable upload (on the final PATCH, and on HEAD of a
// finished upload).
const VideoIDHeader = "Upload-Video-Id"

// DefaultChunkSize is how much one PATCH carries: whole 8 MiB parts of the
// server's S3 store. Each PATCH waits for its last part to be stored before
// it is answered, a pause that costs a fifth of the throughput with 16 MiB
// chunks and a twentieth with 64 MiB (make bench-resumable). What the
// server received of a dropped PATCH is kept; only a proxy that buffers
// whole requests makes a drop cost up to a chunk again.
const DefaultChunkSize = 64 << 20

// tusVersion is the protocol version this client speaks.
const tusVersion = "1.0.0"

// Resumable uploads files with the tus 1.0 protocol to a server's
// /api/uploads/, so that a dropped connection or a closed app costs at most
// one chunk. Each upload under way is kept in a state file until it ends.
type Resumable struct {
	Client *http.Client
	Server string // the server's base URL
	Token  string
	// ChunkSize is the largest PATCH body; 0 means DefaultChunkSize.
	ChunkSize int64
	// Retries is how many times a failed PATCH is tried again, after asking
	// the server where it stands; 0 means 5. Backoff is the first wait
	// between tries (doubled each time); 0 means 500 ms.
	Retries int
	Backoff time.Duration
	// StatePath is the state file; "" means StateFile().
	StatePath string
}

// Upload creates a resumable upload of the file at path and sends it.
// progress is called as Upload's is. Cancelling ctx stops sending but keeps
// the upload, on the server and in the state file, for Resume; Cancel ends
// it for good. A caller that needs the upload's URL while it is sent (to
// Cancel it) calls Create, then Resume.
func (r *Resumable) Upload(ctx context.Context, path string, progress func(Progress)) (Result, error) {
	f, entry, err := r.create(ctx, path)
	if err != nil {
		return Result{}, err
	}
	defer f.Close()
	return r.send(ctx, f, entry, 0, progress)
}

// Create creates a resumable upload of the file at path on the server, and
// keeps it in the state file, without sending the file: Resume sends it.
func (r *Resumable) Create(ctx context.Context, path string) (Pending, error) {
	f, e, err := r.create(ctx, path)
	if err != nil {
		return Pending{}, err
	}
	f.Close()
	return e.pending(), nil
}

// create checks the file, as Upload does, creates the upload (POST) and
// keeps it in the state file. It returns the file open, for sending.
func (r *Resumable) create(ctx context.Context, path string) (_ *os.File, _ entry, err error) {
	cfg, err := GetConfig(ctx, r.client(), r.Server)
	if err != nil {
		return nil, entry{}, err
	}
	size, err := Check(path, cfg.MaxUploadBytes)
	if err != nil {
		return nil, entry{}, err
	}
	name := filepath.Base(path)
	f, err := os.Open(path)
	if err != nil {
		return nil, entry{}, newError(codeUnreadable, facts{file: name, cause: errors.Unwrap(err)})
	}
	defer func() {
		if err != nil {
			f.Close()
		}
	}()
	e, err := fingerprint(f, path)
	if err != nil {
		return nil, entry{}, newError(codeUnreadable, facts{file: name, cause: err})
	}
	if e.Size != size {
		return nil, entry{}, newError(codeFileChanged, facts{file: name})
	}
	e.Server = r.Server

	head := make([]byte, video.SniffLen)
	n, _ := f.ReadAt(head, 0)
	container, _ := video.Sniff(head[:n])

	req, err := r.request(ctx, http.MethodPost, strings.TrimRight(r.Server, "/")+"/api/uploads/", nil)
	if err != nil {
		return nil, entry{}, err
	}
	req.Header.Set("Upload-Length", strconv.FormatInt(size, 10))
	req.Header.Set("Upload-Metadata", "filename "+base64.StdEncoding.EncodeToString([]byte(name))+
		",filetype "+base64.StdEncoding.EncodeToString([]byte(container.ContentType)))
	resp, err := r.client().Do(req)
	if err != nil {
		return nil, entry{}, transportError(ctx)
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusNotFound {
		return nil, entry{}, newError("not_found", facts{status: resp.StatusCode}) // a server without resumable uploads
	}
	if resp.StatusCode != http.StatusCreated {
		f := facts{file: name, size: size}
		if cfg.FromServer {
			f.limit = cfg.MaxUploadBytes
		}
		return nil, entry{}, statusError(resp, f)
	}
	loc, err := req.URL.Parse(resp.Header.Get("Location"))
	if err != nil || resp.Header.Get("Location") == "" {
		return nil, entry{}, newError(codeBadAnswer, facts{status: resp.StatusCode})
	}
	e.URL = loc.String()
	e.Started = time.Now().UTC()
	if err := r.state().put(e); err != nil {
		return nil, entry{}, newError(codeStateUnsaved, facts{cause: err})
	}
	return f, e, nil
}

// Resume continues the upload at uploadURL, from the state file, once the
// file is seen to be the same as when it began (size, modification time and
// a hash of its first and last MiB). A changed file is refused and its entry
// kept, for Cancel.
func (r *Resumable) Resume(ctx context.Context, uploadURL string, progress func(Progress)) (Result, error) {
	entry, ok, err := r.state().get(uploadURL)
	if err != nil {
		return Result{}, newError(codeStateUnsaved, facts{cause: err})
	}
	if !ok {
		return Result{}, newError(codeUploadGone, facts{})
	}
	name := filepath.Base(entry.Path)
	f, err := os.Open(entry.Path)
	if err != nil {
		return Result{}, newError(codeUnreadable, facts{file: name, cause: errors.Unwrap(err)})
	}
	defer f.Close()
	now, err := fingerprint(f, entry.Path)
	if err != nil {
		return Result{}, newError(codeUnreadable, facts{file: name, cause: err})
	}
	if !now.sameFile(entry) {
		return Result{}, newError(codeFileChanged, facts{file: name})
	}
	offset, id, err := r.offset(ctx, entry)
	if err != nil {
		var ue *Error
		if errors.As(err, &ue) && ue.Code == codeUploadGone {
			r.state().remove(entry.URL)
		}
		return Result{}, err
	}
	if offset == entry.Size {
		r.state().remove(entry.URL)
		return Result{ID: id}, nil
	}
	return r.send(ctx, f, entry, offset, progress)
}

// Cancel ends the upload at uploadURL: the server deletes what it has
// (DELETE, tus termination) and the state file forgets it. An upload the
// server no longer knows is forgotten too.
func (r *Resumable) Cancel(ctx context.Context, uploadURL string) error {
	req, err := r.request(ctx, http.MethodDelete, uploadURL, nil)
	if err != nil {
		return err
	}
	resp, err := r.client().Do(req)
	if err != nil {
		return transportError(ctx)
	}
	defer resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusNoContent, http.StatusOK, http.StatusNotFound, http.StatusGone:
	default:
		return statusError(resp, facts{})
	}
	if err := r.state().remove(uploadURL); err != nil {
		return newError(codeStateUnsaved, facts{cause: err})
	}
	return nil
}

// Forget drops the upload at uploadURL from the state file, leaving the
// server alone (it expires what it is not sent).
func (r *Resumable) Forget(uploadURL string) error {
	if err := r.state().remove(uploadURL); err != nil {
		return newError(codeStateUnsaved, facts{cause: err})
	}
	return nil
}

// Verify tells whether the file of the upload at uploadURL is still the one
// it began with: nil, or an Error with code file_changed (or unreadable, or
// upload_gone when the state file does not have it).
func (r *Resumable) Verify(uploadURL string) error {
	e, ok, err := r.state().get(uploadURL)
	if err != nil {
		return newError(codeStateUnsaved, facts{cause: err})
	}
	if !ok {
		return newError(codeUploadGone, facts{})
	}
	name := filepath.Base(e.Path)
	f, err := os.Open(e.Path)
	if err != nil {
		return newError(codeUnreadable, facts{file: name, cause: errors.Unwrap(err)})
	}
	defer f.Close()
	now, err := fingerprint(f, e.Path)
	if err != nil {
		return newError(codeUnreadable, facts{file: name, cause: err})
	}
	if !now.sameFile(e) {
		return newError(codeFileChanged, facts{file: name})
	}
	return nil
}

// Offset asks the server how many bytes of the upload at uploadURL it has
// (HEAD). An upload the server no longer knows is dropped from the state
// file, and the error's code is upload_gone.
func (r *Resumable) Offset(ctx context.Context, uploadURL string) (int64, error) {
	e, ok, err := r.state().get(uploadURL)
	if err != nil {
		return 0, newError(codeStateUnsaved, facts{cause: err})
	}
	if !ok {
		return 0, newError(codeUploadGone, facts{})
	}
	offset, _, err := r.offset(ctx, e)
	var ue *Error
	if errors.As(err, &ue) && ue.Code == codeUploadGone {
		r.state().remove(uploadURL)
	}
	return offset, err
}

// Pending lists the uploads under way that Resume can continue, for this
// Resumable's server, oldest first.
func (r *Resumable) Pending() ([]Pending, error) {
	all, err := r.state().load()
	if err != nil {
		return nil, newError(codeStateUnsaved, facts{cause: err})
	}
	var out []Pending
	for _, e := range all {
		if strings.TrimRight(e.Server, "/") == strings.TrimRight(r.Server, "/") {
			out = append(out, e.pending())
		}
	}
	return out, nil
}

// Pending is an upload that can be resumed.
type Pending struct {
	URL     string    `json:"url"`
	Server  string    `json:"server"`
	Path    string    `json:"path"`
	Size    int64     `json:"size"`
	Started time.Time `json:"started"`
}

func (e entry) pending() Pending {
	return Pending{URL: e.URL, Server: e.Server, Path: e.Path, Size: e.Size, Started: e.Started}
}

// send PATCHes the file from offset to its end, one chunk at a time. A chunk
// that fails is sent again from where the server says it stands.
func (r *Resumable) send(ctx context.Context, f *os.File, entry entry, offset int64, progress func(Progress)) (Result, error) {
	var sent atomic.Int64
	sent.Store(offset)
	done := make(chan struct{})
	reported := make(chan struct{})
	go func() {
		defer close(reported)
		report(&sent, entry.Size, progress, done)
	}()
	defer func() {
		close(done)
		<-reported
	}()

	chunk := r.ChunkSize
	if chunk <= 0 {
		chunk = DefaultChunkSize
	}
	retries, backoff := r.Retries, r.Backoff
	if retries <= 0 {
		retries = 5
	}
	if backoff <= 0 {
		backoff = 500 * time.Millisecond
	}
	failures := 0
	for {
		n := min(chunk, entry.Size-offset)
		body := &countingSection{r: io.NewSectionReader(f, offset, n), n: &sent}
		next, id, err := r.patch(ctx, entry.URL, offset, n, body)
		if err == nil {
			failures = 0
			offset = next
			sent.Store(offset)
			if offset >= entry.Size {
				r.state().remove(entry.URL)
				return Result{ID: id}, nil
			}
			continue
		}
		var ue *Error
		if ctx.Err() != nil {
			return Result{}, newError(codeCancelled, facts{status: -1})
		}
		if errors.As(err, &ue) && !retryable(ue.Status) {
			if ue.Code == codeUploadGone {
				r.state().remove(entry.URL)
			}
			return Result{}, err
		}
		// The server may have kept part of the chunk; ask, then go on from
		// there. A HEAD that fails counts as one more failure.
		for {
			failures++
			if failures > retries {
				return Result{}, err
			}
			select {
			case <-ctx.Done():
				return Result{}, newError(codeCancelled, facts{status: -1})
			case <-time.After(backoff << (failures - 1)):
			}
			var id string
			offset, id, err = r.offset(ctx, entry)
			if err == nil {
				sent.Store(offset)
				if offset >= entry.Size {
					r.state().remove(entry.URL)
					return Result{ID: id}, nil
				}
				break
			}
			if ctx.Err() != nil {
				return Result{}, newError(codeCancelled, facts{status: -1})
			}
			if errors.As(err, &ue) && !retryable(ue.Status) {
				if ue.Code == codeUploadGone {
					r.state().remove(entry.URL)
				}
				return Result{}, err
			}
		}
	}
}

// patch sends one chunk and returns the server's new offset, and the video ID
// if the server gave one.
func (r *Resumable) patch(ctx context.Context, uploadURL string, offset, n int64, body io.Reader) (int64, string, error) {
	req, err := r.request(ctx, http.MethodPatch, uploadURL, body)
	if err != nil {
		return 0, "", err
	}
	req.ContentLength = n
	req.Header.Set("Content-Type", "application/offset+octet-stream")
	req.Header.Set("Upload-Offset", strconv.FormatInt(offset, 10))
	resp, err := r.client().Do(req)
	if err != nil {
		return 0, "", transportError(ctx)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		return 0, "", statusError(resp, facts{})
	}
	next, err := strconv.ParseInt(resp.Header.Get("Upload-Offset"), 10, 64)
	if err != nil || next < offset {
		return 0, "", newError(codeBadAnswer, facts{status: resp.StatusCode})
	}
	return next, resp.Header.Get(VideoIDHeader), nil
}

// offset asks the server how much of the upload it has (HEAD).
func (r *Resumable) offset(ctx context.Context, e entry) (int64, string, error) {
	req, err := r.request(ctx, http.MethodHead, e.URL, nil)
	if err != nil {
		return 0, "", err
	}
	req.Header.Set("Cache-Control", "no-store")
	resp, err := r.client().Do(req)
	if err != nil {
		return 0, "", transportError(ctx)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return 0, "", statusError(resp, facts{})
	}
	offset, err := strconv.ParseInt(resp.Header.Get("Upload-Offset"), 10, 64)
	if err != nil || offset < 0 || offset > e.Size {
		return 0, "", newError(codeBadAnswer, facts{status: resp.StatusCode})
	}
	if l := resp.Header.Get("Upload-Length"); l != "" && l != strconv.FormatInt(e.Size, 10) {
		return 0, "", newError(codeBadAnswer, facts{status: resp.StatusCode})
	}
	return offset, resp.Header.Get(VideoIDHeader), nil
}

func (r *Resumable) request(ctx context.Context, method, target string, body io.Reader) (*http.Request, error) {
	if _, err := url.Parse(target); err != nil {
		return nil, newError(codeBadAddress, facts{})
	}
	req, err := http.NewRequestWithContext(ctx, method, target, body)
	if err != nil {
		return nil, newError(codeBadAddress, facts{})
	}
	req.Header.Set("Tus-Resumable", tusVersion)
	req.Header.Set("Authorization", "Bearer "+r.Token)
	return req, nil
}

func (r *Resumable) client() *http.Client {
	if r.Client != nil {
		return r.Client
	}
	return http.DefaultClient
}

func (r *Resumable) state() stateFile {
	return stateFile{path: r.StatePath}
}

// retryable tells whether a failed request is worth trying again: no answer,
// a server error, or a lock held by a request the server has not yet seen
// end (423, or 409 when the offsets disagree after a half-received chunk).
func retryable(status int) bool {
	return status == 0 || status >= 500 || status == http.StatusLocked || status == http.StatusConflict ||
		status == http.StatusTooManyRequests
}

func transportError(ctx context.Context) error {
	if ctx.Err() != nil {
		return newError(codeCancelled, facts{status: -1})
	}
	return newError(codeUnreachable, facts{})
}

// statusError reads a refusal: the server's JSON error if it sent one, its
// status otherwise.
func statusError(resp *http.Response, f facts) error {
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	var e errorBody
	json.Unmarshal(raw, &e)
	f.status, f.server = resp.StatusCode, e.Error
	// A server's JSON 404 says upload_not_found; a plain tus server's, nothing.
	if (e.Code == "" || e.Code == "upload_not_found") && (resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusGone) {
		e.Code = codeUploadGone
	}
	return newError(e.Code, f)
}

// countingSection counts what is read into a shared progress counter.
type countingSection struct {
	r io.Reader
	n *atomic.Int64
}

func (c *countingSection) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}
