// Package upload streams a video file from disk to an AssetLab server's upload
// API, reporting progress: the file is read as it is sent, never held whole in
// memory, and never passes through the webview.
package upload

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"mime/multipart"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"github.com/assetlab/assetlab/server/video"
)

// Progress is a snapshot of an upload.
type Progress struct {
	Sent    int64   `json:"sent"`
	Total   int64   `json:"total"`
	Percent float64 `json:"percent"`
	// Speed is in bytes per second (smoothed); ETA in seconds, -1 if unknown.
	Speed float64 `json:"speed"`
	ETA   float64 `json:"eta"`
}

// Result is the server's answer to a successful upload.
type Result struct {
	ID  string `json:"id"`
	Key string `json:"key"`
}

// Check tells why a file cannot be uploaded to a server whose limit is
// maxBytes, before anything is sent: it must be a video container (from its
// first bytes), not empty, at most maxBytes.
func Check(path string, maxBytes int64) (size int64, err error) {
	name := filepath.Base(path)
	f, err := os.Open(path)
	if err != nil {
		return 0, newError(codeUnreadable, facts{file: name, cause: errors.Unwrap(err)})
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil || fi.IsDir() {
		return 0, newError(codeUnreadable, facts{file: name, cause: errors.New("not a file")})
	}
	switch {
	case fi.Size() == 0:
		return 0, newError("empty_file", facts{file: name})
	case fi.Size() > maxBytes:
		return 0, newError("file_too_large", facts{file: name, size: fi.Size(), limit: maxBytes})
	}
	head := make([]byte, video.SniffLen)
	n, _ := io.ReadFull(f, head)
	if _, ok := video.Sniff(head[:n]); !ok {
		return 0, newError("unsupported_type", facts{file: name})
	}
	return fi.Size(), nil
}

// errorBody is the server's JSON error: its words and its machine code.
type errorBody struct {
	Error string `json:"error"`
	Code  string `json:"code"`
}

// Upload sends the file at path to server's POST /api/upload. It first asks
// the server for its limit (GET /api/config), and sends nothing for a file
// over it. progress, if not nil, is called at most ten times a second and
// once at the end. Cancelling ctx stops the upload; the server then keeps
// nothing of it.
func Upload(ctx context.Context, client *http.Client, server, token, path string, progress func(Progress)) (Result, error) {
	cfg, err := GetConfig(ctx, client, server)
	if err != nil {
		return Result{}, err
	}
	size, err := Check(path, cfg.MaxUploadBytes)
	if err != nil {
		return Result{}, err
	}
	name := filepath.Base(path)
	f, err := os.Open(path)
	if err != nil {
		return Result{}, newError(codeUnreadable, facts{file: name, cause: errors.Unwrap(err)})
	}
	defer f.Close()

	// The multipart envelope is built around the file, so the body streams
	// with an exact Content-Length.
	var head bytes.Buffer
	mw := multipart.NewWriter(&head)
	if _, err := mw.CreateFormFile("file", filepath.Base(path)); err != nil {
		return Result{}, err
	}
	tail := "\r\n--" + mw.Boundary() + "--\r\n"
	counter := &countingReader{r: f}
	body := io.MultiReader(bytes.NewReader(head.Bytes()), counter, strings.NewReader(tail))

	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimRight(server, "/")+"/api/upload", body)
	if err != nil {
		return Result{}, newError(codeBadAddress, facts{})
	}
	req.ContentLength = int64(head.Len()) + size + int64(len(tail))
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Authorization", "Bearer "+token)

	done := make(chan struct{})
	reported := make(chan struct{})
	go func() {
		defer close(reported)
		report(&counter.n, size, progress, done)
	}()
	resp, err := client.Do(req)
	close(done)
	<-reported
	if err != nil {
		if ctx.Err() != nil {
			return Result{}, newError(codeCancelled, facts{status: -1})
		}
		return Result{}, newError(codeUnreachable, facts{})
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode != http.StatusCreated {
		var e errorBody
		json.Unmarshal(raw, &e)
		f := facts{status: resp.StatusCode, server: e.Error, file: name, size: size}
		if cfg.FromServer {
			f.limit = cfg.MaxUploadBytes
		}
		return Result{}, newError(e.Code, f)
	}
	var res Result
	if err := json.Unmarshal(raw, &res); err != nil || res.ID == "" {
		return Result{}, newError(codeBadAnswer, facts{status: resp.StatusCode})
	}
	return res, nil
}

// report sends progress every 100 ms until done, then once more. The count
// c may start above zero (a resumed upload) and go back (a chunk sent again).
func report(c *atomic.Int64, total int64, progress func(Progress), done <-chan struct{}) {
	if progress == nil {
		<-done
		return
	}
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	var speed float64
	lastSent, lastTime := c.Load(), time.Now()
	for {
		var final bool
		select {
		case <-done:
			final = true
		case <-t.C:
		}
		now, sent := time.Now(), c.Load()
		if dt := now.Sub(lastTime).Seconds(); dt > 0 {
			instant := max(0, float64(sent-lastSent)/dt)
			if speed == 0 {
				speed = instant
			} else {
				speed = 0.8*speed + 0.2*instant
			}
		}
		lastSent, lastTime = sent, now
		eta := -1.0
		if speed > 0 {
			eta = float64(total-sent) / speed
		}
		progress(Progress{Sent: sent, Total: total, Percent: 100 * float64(sent) / float64(total), Speed: speed, ETA: eta})
		if final {
			return
		}
	}
}

type countingReader struct {
	r io.Reader
	n atomic.Int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}

// Status is a video's transcoding status, as GET /api/video/{id}/status says.
type Status struct {
	Status    string   `json:"status"`
	Qualities []string `json:"qualities,omitempty"`
	Progress  *int     `json:"progress,omitempty"`
	Error     string   `json:"error,omitempty"`
}

// GetStatus reads a video's status.
func GetStatus(ctx context.Context, client *http.Client, server, id string) (Status, error) {
	if !video.ValidID(id) {
		return Status{}, newError("malformed_id", facts{status: http.StatusBadRequest})
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimRight(server, "/")+"/api/video/"+id+"/status", nil)
	if err != nil {
		return Status{}, newError(codeBadAddress, facts{})
	}
	resp, err := client.Do(req)
	if err != nil {
		return Status{}, newError(codeUnreachable, facts{})
	}
	defer resp.Body.Close()
	var st Status
	if resp.StatusCode != http.StatusOK {
		var e errorBody
		json.NewDecoder(io.LimitReader(resp.Body, 64<<10)).Decode(&e)
		if e.Code == "" && resp.StatusCode == http.StatusNotFound {
			e.Code = "video_not_found" // an older server: the only 404 here
		}
		return st, newError(e.Code, facts{status: resp.StatusCode, server: e.Error})
	}
	return st, json.NewDecoder(resp.Body).Decode(&st)
}
