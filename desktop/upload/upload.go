// Package upload streams a video file from disk to an AssetLab server's upload
// API, reporting progress: the file is read as it is sent, never held whole in
// memory, and never passes through the webview.
package upload

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
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

// MaxBytes is the largest file the server accepts.
const MaxBytes = 1 << 30

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

// Error is a failed upload: the HTTP status (0 when the server could not be
// reached, -1 when cancelled) and what a person should read.
type Error struct {
	Status  int
	Message string
}

func (e *Error) Error() string { return e.Message }

// Check tells why a file cannot be uploaded, before anything is sent: it
// must be a video container (from its first bytes), not empty, at most 1 GiB.
func Check(path string) (size int64, err error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, &Error{Message: fmt.Sprintf("“%s” cannot be opened: %v", filepath.Base(path), errors.Unwrap(err))}
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil || fi.IsDir() {
		return 0, &Error{Message: fmt.Sprintf("“%s” is not a file.", filepath.Base(path))}
	}
	name := filepath.Base(path)
	switch {
	case fi.Size() == 0:
		return 0, &Error{Message: fmt.Sprintf("“%s” is empty.", name)}
	case fi.Size() > MaxBytes:
		return 0, &Error{Message: fmt.Sprintf("“%s” is %.1f GB; the limit is 1 GB.", name, float64(fi.Size())/(1<<30))}
	}
	head := make([]byte, video.SniffLen)
	n, _ := io.ReadFull(f, head)
	if _, ok := video.Sniff(head[:n]); !ok {
		return 0, &Error{Message: fmt.Sprintf("“%s” is not a video AssetLab can take. Choose an MP4, MOV, WebM or MKV file.", name)}
	}
	return fi.Size(), nil
}

// statusMessage is what a person reads for a refused upload (the web UI says
// the same).
func statusMessage(status int, server string) string {
	switch status {
	case 0:
		return "The upload was interrupted: the server cannot be reached. Check your connection and try again."
	case http.StatusUnauthorized:
		return "The upload token was refused. Check it and try again."
	case http.StatusRequestEntityTooLarge:
		return "The file is too large. " + server
	case http.StatusUnsupportedMediaType:
		return "This file is not a video AssetLab can take. Upload an MP4, MOV, WebM or MKV file."
	}
	if server != "" {
		return server
	}
	return fmt.Sprintf("The server answered %d.", status)
}

// Upload sends the file at path to server's POST /api/upload. progress, if not
// nil, is called at most ten times a second and once at the end. Cancelling
// ctx stops the upload; the server then keeps nothing of it.
func Upload(ctx context.Context, client *http.Client, server, token, path string, progress func(Progress)) (Result, error) {
	size, err := Check(path)
	if err != nil {
		return Result{}, err
	}
	f, err := os.Open(path)
	if err != nil {
		return Result{}, &Error{Message: err.Error()}
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
		return Result{}, &Error{Message: fmt.Sprintf("Bad server address %q.", server)}
	}
	req.ContentLength = int64(head.Len()) + size + int64(len(tail))
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Authorization", "Bearer "+token)

	done := make(chan struct{})
	reported := make(chan struct{})
	go func() {
		defer close(reported)
		report(counter, size, progress, done)
	}()
	resp, err := client.Do(req)
	close(done)
	<-reported
	if err != nil {
		if ctx.Err() != nil {
			return Result{}, &Error{Status: -1, Message: "Upload cancelled."}
		}
		return Result{}, &Error{Status: 0, Message: statusMessage(0, "")}
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode != http.StatusCreated {
		var e struct {
			Error string `json:"error"`
		}
		json.Unmarshal(raw, &e)
		return Result{}, &Error{Status: resp.StatusCode, Message: statusMessage(resp.StatusCode, e.Error)}
	}
	var res Result
	if err := json.Unmarshal(raw, &res); err != nil || res.ID == "" {
		return Result{}, &Error{Status: resp.StatusCode, Message: "The server's answer could not be read."}
	}
	return res, nil
}

// report sends progress every 100 ms until done, then once more.
func report(c *countingReader, total int64, progress func(Progress), done <-chan struct{}) {
	if progress == nil {
		<-done
		return
	}
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	var speed float64
	lastSent, lastTime := int64(0), time.Now()
	for {
		var final bool
		select {
		case <-done:
			final = true
		case <-t.C:
		}
		now, sent := time.Now(), c.n.Load()
		if dt := now.Sub(lastTime).Seconds(); dt > 0 {
			instant := float64(sent-lastSent) / dt
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
		return Status{}, &Error{Status: http.StatusBadRequest, Message: "That is not a video ID."}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, strings.TrimRight(server, "/")+"/api/video/"+id+"/status", nil)
	if err != nil {
		return Status{}, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return Status{}, &Error{Message: statusMessage(0, "")}
	}
	defer resp.Body.Close()
	var st Status
	if resp.StatusCode != http.StatusOK {
		if resp.StatusCode == http.StatusNotFound {
			return st, &Error{Status: 404, Message: "Video not found."}
		}
		return st, &Error{Status: resp.StatusCode, Message: fmt.Sprintf("The server answered %d.", resp.StatusCode)}
	}
	return st, json.NewDecoder(resp.Body).Decode(&st)
}
