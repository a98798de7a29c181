package uploads

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
)

// The codes of the endpoint's error answers, beside those of the rest of the
// API (server/api/codes.go lists them all; a test checks these are there).
const (
	codeBadRequest         = "bad_request"
	codeNotFound           = "upload_not_found"
	codeLocked             = "upload_locked"
	codeOffsetMismatch     = "offset_mismatch"
	codeTooLarge           = "file_too_large"
	codeUnsupported        = "unsupported_type"
	codeEmpty              = "empty_file"
	codeInterrupted        = "upload_interrupted"
	codeMethodNotAllowed   = "method_not_allowed"
	codeStorageUnavailable = "storage_unavailable"
	codeInternal           = "internal"
)

// tusdCodes maps tusd's error codes to the API's, with the message a client
// is shown (empty: tusd's own).
var tusdCodes = map[string]struct{ code, msg string }{
	"ERR_UPLOAD_NOT_FOUND":            {codeNotFound, "upload not found: it was finished, cancelled or has expired"},
	"ERR_UPLOAD_LOCKED":               {codeLocked, "the upload is busy with another request; try again shortly"},
	"ERR_LOCK_TIMEOUT":                {codeLocked, "the upload is busy with another request; try again shortly"},
	"ERR_MISMATCHED_OFFSET":           {codeOffsetMismatch, "Upload-Offset is not the upload's offset: ask it with HEAD, then resume from there"},
	"ERR_MAX_SIZE_EXCEEDED":           {codeTooLarge, "file too large"},
	"ERR_UPLOAD_SIZE_EXCEEDED":        {codeTooLarge, "more bytes than Upload-Length"},
	"ERR_UNEXPECTED_EOF":              {codeInterrupted, "the upload was interrupted"},
	"ERR_READ_TIMEOUT":                {codeInterrupted, "the upload was interrupted: the body stalled"},
	"ERR_CONNECTION_RESET":            {codeInterrupted, "the upload was interrupted"},
	"ERR_UPLOAD_INTERRUPTED":          {codeInterrupted, ""},
	"ERR_UPLOAD_STOPPED":              {codeInterrupted, ""},
	"ERR_SERVER_SHUTDOWN":             {codeInterrupted, "the server is shutting down: resume the upload shortly"},
	"ERR_UPLOAD_TERMINATION_REJECTED": {codeBadRequest, ""},
	"ERR_INTERNAL_SERVER_ERROR":       {codeInternal, "internal error"},
	"ERR_NOT_IMPLEMENTED":             {codeBadRequest, "not offered here: Upload-Length is required at creation, and uploads are not concatenated"},
}

// jsonErrors is the response writer tusd answers through: its error answers
// (plain text "ERR_CODE: message") are held back and written in the API's
// shape, {"error": "...", "code": "..."}, with tusd's status and headers
// (Tus-Resumable, Upload-Offset...) kept, so tus clients, which read only
// those, work as before. JSON answers (the hooks' own) pass as they are.
type jsonErrors struct {
	http.ResponseWriter
	status  int // an error answer held back; 0 if none
	body    bytes.Buffer
	written bool
}

func (w *jsonErrors) WriteHeader(status int) {
	if w.written || w.status != 0 {
		return
	}
	if status >= 400 && !strings.HasPrefix(w.Header().Get("Content-Type"), "application/json") {
		w.status = status
		return
	}
	w.written = true
	w.ResponseWriter.WriteHeader(status)
}

func (w *jsonErrors) Write(b []byte) (int, error) {
	if !w.written && w.status == 0 {
		w.WriteHeader(http.StatusOK)
	}
	if w.status != 0 {
		if w.body.Len() < 4<<10 {
			w.body.Write(b)
		}
		return len(b), nil
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets tusd reach the connection (read deadlines) through
// http.ResponseController.
func (w *jsonErrors) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// finish writes the error answer held back, if any.
func (w *jsonErrors) finish(r *http.Request) {
	if w.status == 0 {
		return
	}
	tusCode, msg, _ := strings.Cut(strings.TrimSpace(w.body.String()), ": ")
	code, text := translate(w.status, tusCode, msg)
	w.Header().Del("Content-Length")
	writeJSON(w.ResponseWriter, r, w.status, code, text)
}

// translate gives tusd's error (its status, code and message; a HEAD's
// answer has no body, so only the status) the API's code and message.
func translate(status int, tusCode, msg string) (code, text string) {
	if t, ok := tusdCodes[tusCode]; ok {
		if t.msg != "" {
			msg = t.msg
		}
		return t.code, msg
	}
	switch {
	case status == http.StatusNotFound:
		return codeNotFound, "upload not found: it was finished, cancelled or has expired"
	case status == http.StatusLocked:
		return codeLocked, "the upload is busy with another request; try again shortly"
	case status == http.StatusConflict:
		return codeOffsetMismatch, "Upload-Offset is not the upload's offset: ask it with HEAD, then resume from there"
	case status == http.StatusRequestEntityTooLarge:
		return codeTooLarge, "file too large"
	case status == http.StatusMethodNotAllowed:
		return codeMethodNotAllowed, "method not allowed"
	case status >= 500:
		return codeInternal, "internal error"
	}
	if msg == "" || tusCode == "" {
		msg = http.StatusText(status)
	}
	return codeBadRequest, msg
}

// writeJSON answers an error in the API's shape (no body to a HEAD).
func writeJSON(w http.ResponseWriter, r *http.Request, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	if r.Method == http.MethodHead {
		return
	}
	b, _ := json.Marshal(map[string]string{"error": msg, "code": code})
	w.Write(append(b, '\n'))
}
