package api

import (
	"errors"
	"io"
	"log/slog"
	"net/http"
	"time"
)

// Only the upload route reads a request body. Left alone, net/http reads up to
// 256 KiB of a body the handler did not read before it sends the answer, and
// waits as long as the client likes for it: a client that declares a body and
// never sends it would hold the connection (and, with it, a refusal such as a
// 401) forever. So every request that declares a body gets a read deadline,
// and any answer given before its body is read closes the connection instead
// of waiting for the rest.

// limitBodyWait gives a request's body ReadTimeout to arrive and closes the
// connection after the answer. The upload route lifts both (streamBody).
func (a *API) limitBodyWait(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Without a body, net/http is already reading ahead on the connection to
		// notice a client that goes away: a deadline would cut that read, and
		// cancel a long download with it.
		if r.ContentLength != 0 {
			a.closeAfterAnswer(w, time.Now().Add(a.ReadTimeout))
		}
		next.ServeHTTP(w, r)
	})
}

// closeAfterAnswer makes the answer close the connection, so that net/http
// sends it at once rather than first reading what is left of the body, and
// gives what the client already sent until deadline to be drained (closing a
// socket with unread data resets it, and may destroy the answer on its way).
func (a *API) closeAfterAnswer(w http.ResponseWriter, deadline time.Time) {
	w.Header().Set("Connection", "close")
	if err := http.NewResponseController(w).SetReadDeadline(deadline); err != nil {
		a.log.Warn("cannot set a read deadline", slog.Any("err", err))
	}
}

// streamBody is the upload route's body policy: the body may take as long as
// it needs, but must never stall for UploadStall, from its first byte (the
// multipart preamble, other fields, part headers) to its last. An error answer
// given before the whole body is read closes the connection.
func (a *API) streamBody(h handlerFunc) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		if r.ContentLength == 0 {
			return h(w, r)
		}
		w.Header().Del("Connection")
		body := &stallReader{body: r.Body, rc: http.NewResponseController(w), stall: a.UploadStall}
		if err := body.extend(time.Now()); err != nil {
			a.log.Warn("cannot set a read deadline", slog.Any("err", err))
		}
		r.Body = body
		err := h(w, r)
		switch {
		case err == nil || body.eof:
		case body.err != nil:
			// The client stalled or went away: nothing left to drain. The
			// stall also cancelled the request's context, so the error may be
			// that; the client is told what happened to its body instead.
			a.closeAfterAnswer(w, time.Now())
			var e *Error
			if !errors.As(err, &e) {
				err = uploadErr(a, body.err)
			}
		default:
			a.closeAfterAnswer(w, time.Now().Add(a.ReadTimeout))
		}
		return err
	}
}

// stallReader reads an upload's body, moving the read deadline on as it goes.
type stallReader struct {
	body     io.ReadCloser
	rc       *http.ResponseController
	stall    time.Duration
	deadline time.Time
	eof      bool
	err      error // the body's read error, wrapped in bodyError
}

func (s *stallReader) extend(now time.Time) error {
	s.deadline = now.Add(s.stall)
	return s.rc.SetReadDeadline(s.deadline)
}

func (s *stallReader) Read(p []byte) (int, error) {
	if s.eof {
		// After the end, net/http reads ahead on the connection with no
		// deadline; setting one now would cut that read.
		return 0, io.EOF
	}
	if s.err != nil {
		return 0, s.err
	}
	// Moving the deadline resets a timer: it is done once a tenth of the
	// timeout (at most a second) has passed, so every read still gets at least
	// nine tenths of it.
	if now := time.Now(); s.deadline.Sub(now) < s.stall-min(s.stall/10, time.Second) {
		s.extend(now)
	}
	n, err := s.body.Read(p)
	switch {
	case err == io.EOF:
		s.eof = true
	case err != nil:
		s.err = bodyError{err}
		err = s.err
	}
	return n, err
}

func (s *stallReader) Close() error { return s.body.Close() }
