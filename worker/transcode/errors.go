package transcode

import (
	"errors"
	"fmt"
	"os/exec"
	"regexp"
	"strings"
)

// Class says whose fault a failure is, which decides whether another attempt
// is worth making.
type Class string

const (
	// ClassInput failures are the file's own: another attempt would fail
	// the same way, so the job ends at once.
	ClassInput Class = "input"
	// ClassEnvironment failures are the machine's (FFmpeg missing or
	// crashing, an encoder missing, the temp disk full): worth another
	// attempt, and not the file's fault.
	ClassEnvironment Class = "environment"
	// ClassTransient failures are storage's (unreachable, a connection
	// reset): tried again after a pause.
	ClassTransient Class = "transient"
)

// Public reasons, in plain words: they are shown to anyone with the video's ID.
const (
	ReasonUnreadable = "the file is not a readable video"
	ReasonNoSpace    = "the transcoder ran out of temporary disk space"
	ReasonNoMemory   = "the transcoder ran out of memory"
	ReasonMissing    = "the transcoder is not installed or could not start"
	ReasonCrashed    = "the transcoder crashed"
	ReasonNoEncoder  = "the transcoder lacks an encoder it needs"
	ReasonFailed     = "the transcoder failed"
	ReasonStorage    = "storage could not be reached"
)

// Error is a classified failure.
type Error struct {
	Class Class
	// Reason is for viewers: plain words, never a path, a URL or a command line.
	Reason string
	// Detail is for the log: what FFmpeg said, with URL queries (which may
	// hold a signature) cut off.
	Detail string
	// Err is the underlying error, if any.
	Err error
}

func (e *Error) Error() string {
	if e.Detail == "" {
		return e.Reason
	}
	return e.Reason + ": " + e.Detail
}

func (e *Error) Unwrap() error { return e.Err }

// Is makes an input failure match ErrBadInput.
func (e *Error) Is(target error) bool { return target == ErrBadInput && e.Class == ClassInput }

// ErrBadInput matches failures caused by the file itself (corrupt, truncated,
// not a video): another attempt would fail the same way.
var ErrBadInput = errors.New("unusable input")

// badInput is an input failure with its own public reason.
func badInput(format string, args ...any) error {
	r := fmt.Sprintf(format, args...)
	return &Error{Class: ClassInput, Reason: r, Detail: r}
}

// Classify returns err as an *Error: its own if it is one, otherwise an
// environment failure that shows only ReasonFailed.
func Classify(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	detail := ""
	if err != nil {
		detail = redact(err.Error())
	}
	return &Error{Class: ClassEnvironment, Reason: ReasonFailed, Detail: detail, Err: err}
}

// Markers in FFmpeg's output, checked in this order: the machine's fault,
// then storage's, then the file's.
var (
	environmentMarkers = []struct{ text, reason string }{
		{"No space left on device", ReasonNoSpace},
		{"Disk quota exceeded", ReasonNoSpace},
		{"Cannot allocate memory", ReasonNoMemory},
		{"Unknown encoder", ReasonNoEncoder},
		{"Encoder not found", ReasonNoEncoder},
		{"Unrecognized option", ReasonFailed},
		{"Option not found", ReasonFailed},
		{"Permission denied", ReasonFailed},
		{"Read-only file system", ReasonFailed},
	}
	transientMarkers = []string{
		"Connection refused",
		"Connection reset",
		"Connection timed out",
		"Operation timed out",
		"Network is unreachable",
		"No route to host",
		"Broken pipe",
		"Failed to resolve hostname",
		"Stream ends prematurely",
		"Will reconnect at",
		"Server returned",
		"HTTP error",
	}
	inputMarkers = []string{
		"Invalid data found when processing input",
		"moov atom not found",
		"EBML header parsing failed",
		"ould not find codec parameters",
		"no frame!",
		"End of file",
		"Invalid NAL unit size",
		"error reading header",
		"Error while decoding stream",
		"Invalid buffer size",
		"Cannot determine format of input stream",
		"Error marking filters as finished",
		"Error reinitializing filters",
		"Failed to inject frame into filter network",
		"Error while filtering",
		"Output file is empty, nothing was encoded",
		"does not contain any stream",
		"decoding for stream 0 failed",
		"Invalid frame dimensions",
		"Unsupported codec",
	}
)

// exitDecodeErrors is FFmpeg's exit status when more frames failed to decode
// than -max_error_rate allows: the file's fault.
const exitDecodeErrors = 69

// classify turns a failed FFmpeg or ffprobe run into an *Error, by how it
// ended and what it printed.
func classify(tool string, err error, stderr string) *Error {
	detail := fmt.Sprintf("%s: %v: %s", tool, err, tail(stderr, 5))
	e := &Error{Detail: detail, Err: err}
	var exitErr *exec.ExitError
	if !errors.As(err, &exitErr) {
		// It did not start.
		e.Class, e.Reason = ClassEnvironment, ReasonMissing
		return e
	}
	if exitErr.ExitCode() == -1 {
		// Killed by a signal (the job's own cancellation is handled before).
		e.Class, e.Reason = ClassEnvironment, ReasonCrashed
		return e
	}
	if c := exitErr.ExitCode(); c == 126 || c == 127 {
		// A wrapper script's shell could not find or run the real program.
		e.Class, e.Reason = ClassEnvironment, ReasonMissing
		return e
	}
	for _, m := range environmentMarkers {
		if strings.Contains(stderr, m.text) {
			e.Class, e.Reason = ClassEnvironment, m.reason
			return e
		}
	}
	for _, m := range transientMarkers {
		if strings.Contains(stderr, m) {
			e.Class, e.Reason = ClassTransient, ReasonStorage
			return e
		}
	}
	for _, m := range inputMarkers {
		if strings.Contains(stderr, m) {
			e.Class, e.Reason = ClassInput, ReasonUnreadable
			return e
		}
	}
	if exitErr.ExitCode() == exitDecodeErrors {
		e.Class, e.Reason = ClassInput, ReasonUnreadable
		return e
	}
	e.Class, e.Reason = ClassEnvironment, ReasonFailed
	return e
}

// tail returns the last n non-empty lines of s, joined with " | ", redacted
// and capped in length.
func tail(s string, n int) string {
	var lines []string
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			lines = append(lines, l)
		}
	}
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	out := redact(strings.Join(lines, " | "))
	if len(out) > 1000 {
		out = out[len(out)-1000:]
	}
	return out
}

// urlQuery matches the query of a URL: a presigned URL's signature is there.
// A colon followed by a space ends it: FFmpeg writes "URL: message".
var urlQuery = regexp.MustCompile(`([a-zA-Z][a-zA-Z0-9+.-]*://[^\s?'"]*)\?(?:[^\s'":]|:[^\s'"])*`)

// redact cuts the query off every URL in s.
func redact(s string) string {
	return urlQuery.ReplaceAllString(s, "$1")
}
