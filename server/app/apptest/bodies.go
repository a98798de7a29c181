package apptest

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/assetlab/assetlab/server/api"
)

// StatusBody is the answer of GET /api/video/{id}/status.
type StatusBody struct {
	Status    string   `json:"status"`
	Qualities []string `json:"qualities"`
	Error     string   `json:"error"`
	Progress  *int     `json:"progress"`
}

// Final reports whether the video will not change any more.
func (s StatusBody) Final() bool { return s.Status == "done" || s.Status == "error" }

// ErrorBody is the answer of any request that failed.
type ErrorBody struct {
	Error string   `json:"error"`
	Code  api.Code `json:"code"`
}

// UploadBody is the answer of POST /api/upload.
type UploadBody struct {
	ID  string `json:"id"`
	Key string `json:"key"`
}

// URLBody is the answer of GET /api/video/{id} and /{quality}.
type URLBody struct {
	URL string `json:"url"`
}

// DoInto sends a request and decodes a JSON answer into out (unless out is
// nil or the answer is not JSON). It returns the status code.
func (e *Env) DoInto(method, path, token, contentType string, body io.Reader, out any) int {
	e.t.Helper()
	req, err := http.NewRequest(method, e.URL+path, body)
	if err != nil {
		e.t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if out != nil && len(raw) > 0 && strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		if err := json.Unmarshal(raw, out); err != nil {
			e.t.Fatalf("%s %s: bad JSON %q: %v", method, path, raw, err)
		}
	}
	return resp.StatusCode
}

// GetInto is DoInto for a GET without token.
func (e *Env) GetInto(path string, out any) int {
	e.t.Helper()
	return e.DoInto("GET", path, "", "", nil, out)
}

// UploadID uploads content with the token and returns the new video's ID,
// failing the test unless the upload is accepted.
func (e *Env) UploadID(content []byte) string {
	e.t.Helper()
	return e.UploadOK(content).ID
}

// UploadOK uploads content with the token and returns the answer, failing
// the test unless the upload is accepted.
func (e *Env) UploadOK(content []byte) UploadBody {
	e.t.Helper()
	ct, body := MultipartBody("file", "clip.mp4", content)
	var got struct {
		UploadBody
		ErrorBody
	}
	code := e.DoInto("POST", "/api/upload", Token, ct, body, &got)
	if code != http.StatusCreated || got.ID == "" {
		e.t.Fatalf("upload: got %d %+v, want 201 with an id", code, got.ErrorBody)
	}
	return got.UploadBody
}

// Status reads a video's status, failing the test unless it is answered.
func (e *Env) Status(id string) StatusBody {
	e.t.Helper()
	var s StatusBody
	if code := e.GetInto("/api/video/"+id+"/status", &s); code != http.StatusOK {
		e.t.Fatalf("status of %s: got %d, want 200", id, code)
	}
	return s
}

// WaitFinal polls a video's status until it is done or error, and fails the
// test if it is neither after timeout.
func (e *Env) WaitFinal(id string, timeout time.Duration) StatusBody {
	e.t.Helper()
	var s StatusBody
	Eventually(e.t, timeout, "video "+id+" to finish", func() bool {
		s = e.Status(id)
		return s.Final()
	})
	return s
}

// Details reads GET /api/videos/{id}, failing the test unless it is answered.
func (e *Env) Details(id string) api.Details {
	e.t.Helper()
	var d api.Details
	if code := e.GetInto("/api/videos/"+id, &d); code != http.StatusOK {
		e.t.Fatalf("details of %s: got %d, want 200", id, code)
	}
	return d
}

// UploadRequest is a POST /api/upload to the server at base, with the token,
// of a form body of the given content type.
func UploadRequest(base, contentType string, body io.Reader) *http.Request {
	req, err := http.NewRequest("POST", base+"/api/upload", body)
	if err != nil {
		panic(err) // base is the test's own server address
	}
	req.Header.Set("Authorization", "Bearer "+Token)
	req.Header.Set("Content-Type", contentType)
	return req
}
