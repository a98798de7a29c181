package api

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/assetlab/assetlab/server/storage"
	"github.com/go-chi/chi/v5/middleware"
)

// Error is an error with the HTTP status, code and message a client should see.
type Error struct {
	Status int
	// Code names the error for programs (see codes.go); Msg says it to people.
	Code Code
	Msg  string
	Err  error // the cause, logged but not shown
}

func (e *Error) Error() string {
	if e.Err != nil {
		return e.Msg + ": " + e.Err.Error()
	}
	return e.Msg
}

func (e *Error) Unwrap() error { return e.Err }

func errorf(status int, code Code, msg string) *Error {
	return &Error{Status: status, Code: code, Msg: msg}
}

// handlerFunc is an HTTP handler that returns its error for writeError to answer.
type handlerFunc func(w http.ResponseWriter, r *http.Request) error

func (a *API) handle(h handlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if err := h(w, r); err != nil {
			a.writeError(w, r, err)
		}
	}
}

// writeError is the one place errors become HTTP answers: a JSON body
// {"error": "...", "code": "..."} with the status the error carries. Storage
// that cannot be reached is a 503, storage that is full a 507; anything
// unexpected is a 500, logged once.
func (a *API) writeError(w http.ResponseWriter, r *http.Request, err error) {
	var e *Error
	switch {
	case errors.As(err, &e):
	case errors.Is(err, errBusy):
		// Answered before the body is read; "Connection: close" keeps net/http
		// from reading up to 256 KiB of it first.
		w.Header().Set("Retry-After", strconv.Itoa(int(busyRetryAfter/time.Second)))
		w.Header().Set("Connection", "close")
		e = &Error{Status: http.StatusServiceUnavailable, Code: CodeTooManyUploads, Msg: "too many uploads in progress, try again shortly", Err: err}
	case errors.Is(err, storage.ErrUnavailable):
		e = &Error{Status: http.StatusServiceUnavailable, Code: CodeStorageUnavailable, Msg: "storage is unavailable, try again shortly", Err: err}
	case errors.Is(err, storage.ErrFull):
		e = &Error{Status: http.StatusInsufficientStorage, Code: CodeStorageFull, Msg: "storage is full: free up space on the server, then try again", Err: err}
	case errors.Is(err, context.Canceled) && r.Context().Err() != nil:
		e = &Error{Status: 499, Code: CodeInternal, Msg: "client closed request", Err: err}
	default:
		e = &Error{Status: http.StatusInternalServerError, Code: CodeInternal, Msg: "internal error", Err: err}
	}
	log := a.log.With(slog.String("request_id", middleware.GetReqID(r.Context())),
		slog.String("method", r.Method), slog.String("path", r.URL.Path), slog.Int("status", e.Status))
	if e.Status >= 500 && !errors.Is(err, errBusy) {
		log.Error("request failed", slog.Any("err", err))
	} else if e.Err != nil {
		log.Info("request refused", slog.Any("err", err))
	}
	if e.Status == 499 {
		return // nobody to answer
	}
	if e.Status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="assetlab"`)
	}
	code := e.Code
	if code == "" {
		// Every error the API makes has its code (TestEveryErrorHasACode);
		// this is for one that slipped through.
		code = CodeInternal
		if e.Status < 500 {
			code = CodeBadRequest
		}
	}
	writeJSON(w, e.Status, errorBody{Error: e.Msg, Code: code})
}

// errorBody is the JSON body of every error answer.
type errorBody struct {
	Error string `json:"error"`
	Code  Code   `json:"code"`
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.Encode(v)
}
