package desktop

import (
	"context"
	"errors"
	"log/slog"
	"path/filepath"
	"time"

	"github.com/assetlab/assetlab/desktop/upload"
)

// PendingUpload is an upload left unfinished when the app last closed, as
// the upload page offers it: resume it, or discard it.
type PendingUpload struct {
	// URL is the upload's address on the server: what ResumeUpload and
	// DiscardUpload take.
	URL    string `json:"url"`
	Server string `json:"server"`
	Name   string `json:"name"` // the file's base name
	Path   string `json:"path"`
	Size   int64  `json:"size"`
	// Sent is what the server has of it, and Percent that share; both -1
	// when the server cannot be reached to ask.
	Sent    int64     `json:"sent"`
	Percent float64   `json:"percent"`
	Started time.Time `json:"started"`
	// Problem, when set, says why this upload cannot go on (Code: the error
	// code, file_changed or upload_gone); the app has forgotten it, and the
	// page only tells.
	Problem string `json:"problem,omitempty"`
	Code    string `json:"code,omitempty"`
}

// resumable is the tus client for the server in info.
func (a *App) resumable(info Info) *upload.Resumable {
	return &upload.Resumable{Client: a.client, Server: info.ServerURL, Token: info.Token, StatePath: a.statePath}
}

// PendingUploads lists the unfinished uploads to the server in use, asking
// the server how much of each it has. An upload whose file has changed is
// ended on the server, one the server no longer has is dropped: both are
// forgotten and listed once more with their Problem, for the page to tell.
func (a *App) PendingUploads() ([]PendingUpload, error) {
	info := a.Info()
	if info.ServerURL == "" {
		return nil, nil
	}
	a.mu.Lock()
	running := a.running
	a.mu.Unlock()
	r := a.resumable(info)
	pending, err := r.Pending()
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(a.baseContext(), 15*time.Second)
	defer cancel()
	out := []PendingUpload{}
	for _, p := range pending {
		if p.URL == running {
			continue
		}
		u := PendingUpload{URL: p.URL, Server: p.Server, Name: filepath.Base(p.Path), Path: p.Path,
			Size: p.Size, Sent: -1, Percent: -1, Started: p.Started}
		if err := r.Verify(p.URL); err != nil {
			if code(err) == upload.CodeFileChanged {
				a.discard(ctx, r, p.URL)
				u.Problem, u.Code = err.Error(), upload.CodeFileChanged
			}
			// A file that cannot be read now (a drive not plugged in) is
			// still offered: resuming says why it cannot go on.
			out = append(out, u)
			continue
		}
		sent, err := r.Offset(ctx, p.URL)
		switch {
		case err == nil:
			u.Sent, u.Percent = sent, 100*float64(sent)/float64(max(p.Size, 1))
		case code(err) == upload.CodeUploadGone:
			u.Problem, u.Code = err.Error(), upload.CodeUploadGone // Offset forgot it
		case ctx.Err() != nil:
			a.log.Warn("the server did not say in time how much of an upload it has", slog.String("file", u.Name))
		default:
			a.log.Warn("cannot ask the server about an upload", slog.String("file", u.Name), slog.Any("err", err))
		}
		out = append(out, u)
	}
	return out, nil
}

// ResumeUpload goes on with the unfinished upload at uploadURL, from where
// the server stands, once the file is seen to be unchanged; it sends
// "upload:progress" events and returns what Upload returns. A changed file is
// refused (file_changed) and its upload ended on the server; an upload the
// server no longer has is refused (upload_gone). Both are forgotten.
func (a *App) ResumeUpload(uploadURL string) (upload.Result, error) {
	info, ctx, done, err := a.begin()
	if err != nil {
		return upload.Result{}, err
	}
	defer done()
	r := a.resumable(info)
	a.mu.Lock()
	a.running = uploadURL
	a.mu.Unlock()
	res, err := r.Resume(ctx, uploadURL, a.progress)
	if code(err) == upload.CodeFileChanged {
		a.discard(ctx, r, uploadURL)
	}
	return a.ended(r, uploadURL, res, err)
}

// DiscardUpload ends the unfinished upload at uploadURL on the server (tus
// termination) and forgets it. When the server cannot be reached it is
// forgotten all the same: the server lets it expire.
func (a *App) DiscardUpload(uploadURL string) error {
	ctx, cancel := context.WithTimeout(a.baseContext(), 30*time.Second)
	defer cancel()
	return a.discard(ctx, a.resumable(a.Info()), uploadURL)
}

// uploadResumable creates a resumable upload of the file at path and sends
// it.
func (a *App) uploadResumable(ctx context.Context, info Info, path string) (upload.Result, error) {
	r := a.resumable(info)
	p, err := r.Create(ctx, path)
	if err != nil {
		return upload.Result{}, err
	}
	a.mu.Lock()
	a.running = p.URL
	a.mu.Unlock()
	res, err := r.Resume(ctx, p.URL, a.progress)
	return a.ended(r, p.URL, res, err)
}

// ended ends on the server an upload stopped by CancelUpload (not one
// stopped by the app closing, which stays resumable).
func (a *App) ended(r *upload.Resumable, uploadURL string, res upload.Result, err error) (upload.Result, error) {
	a.mu.Lock()
	terminate, switching := a.terminate, a.switching
	a.mu.Unlock()
	if err != nil && !terminate && switching && code(err) == upload.CodeCancelled {
		err = &upload.Error{Status: -1, Code: upload.CodeCancelled, Message: "The upload stopped because the built-in server " +
			"stopped when you chose another server. It is offered again when you go back to the built-in server."}
	}
	if err != nil && terminate && code(err) == upload.CodeCancelled {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if derr := a.discard(ctx, r, uploadURL); derr != nil {
			a.log.Warn("cancelled upload not ended on the server", slog.Any("err", derr))
		}
	}
	return res, err
}

// discard ends an upload on the server and forgets it. The server may still
// hold the upload's lock for a moment after a PATCH was cut off (423, or a
// 5xx): it is asked again, a few times.
func (a *App) discard(ctx context.Context, r *upload.Resumable, uploadURL string) error {
	var err error
	for wait := 200 * time.Millisecond; ; wait *= 2 {
		if err = r.Cancel(ctx, uploadURL); err == nil {
			return nil
		}
		var ue *upload.Error
		if !errors.As(err, &ue) || ue.Code == upload.CodeCancelled || ue.Status >= 400 && ue.Status < 500 && ue.Status != 423 {
			break
		}
		if ue.Code == upload.CodeUnreachable || wait > 5*time.Second {
			break
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(wait):
		}
	}
	// Unreachable, or refused: the server expires what it is not sent.
	if ferr := r.Forget(uploadURL); ferr != nil {
		return ferr
	}
	a.log.Warn("upload forgotten without ending it on the server", slog.String("url", uploadURL), slog.Any("err", err))
	return nil
}

// code is the uploader's error code of err, "" if none.
func code(err error) string {
	var ue *upload.Error
	if errors.As(err, &ue) {
		return ue.Code
	}
	return ""
}
