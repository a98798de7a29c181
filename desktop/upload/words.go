package upload

import (
	"fmt"
	"net/http"
	"regexp"
	"strings"
)

// Error is a failed upload or request: the HTTP status (0 when no answer
// came, or the file was refused before sending; -1 when cancelled), the
// server's machine code or the uploader's own, and what a person should read.
type Error struct {
	Status  int
	Code    string
	Message string
}

func (e *Error) Error() string { return e.Message }

// The uploader's own codes, beside the server's (server/openapi.yaml).
const (
	codeUnreachable = "unreachable" // no answer from the server
	codeCancelled   = "cancelled"
	codeUnreadable  = "unreadable"  // the file cannot be opened or read
	codeBadAnswer   = "bad_answer"  // a success the uploader cannot read
	codeBadAddress  = "bad_address" // the server's address is not a URL

	// Resumable uploads.
	codeFileChanged  = "file_changed"  // the file is not the one the upload began with
	codeUploadGone   = "upload_gone"   // the server no longer has the upload (expired or ended)
	codeStateUnsaved = "state_unsaved" // the list of uploads under way cannot be read or written
)

// The codes of the uploader's own that callers act on.
const (
	CodeCancelled   = codeCancelled
	CodeUnreachable = codeUnreachable
	CodeFileChanged = codeFileChanged
	CodeUploadGone  = codeUploadGone
)

// facts is what is known of a failure, for words to say it.
type facts struct {
	status int
	server string // the server's own text, "" if none
	file   string // the file's base name
	size   int64  // the file's size, 0 if unknown
	limit  int64  // the server's upload limit, 0 if unknown
	cause  error  // for unreadable: why
}

// byStatus is what an older server's status means, for the codes the
// uploader acts on: such a server sends no code.
var byStatus = map[int]string{
	http.StatusUnauthorized:          "invalid_token",
	http.StatusRequestEntityTooLarge: "file_too_large",
	http.StatusUnsupportedMediaType:  "unsupported_type",
}

var limitInText = regexp.MustCompile(`the limit is (\d+(?:\.\d+)? [KMGT]iB)`)

// words is the one place where error codes, the server's and the uploader's,
// become what a person reads. An unknown code shows the server's text.
func words(code string, f facts) string {
	file := "The file"
	if f.file != "" {
		file = "“" + f.file + "”"
	}
	switch code {
	case codeUnreachable:
		return "The server cannot be reached. Check your connection and try again."
	case codeCancelled:
		return "Upload cancelled."
	case codeUnreadable:
		return fmt.Sprintf("%s cannot be opened: %v", file, f.cause)
	case codeBadAnswer:
		return "The server's answer could not be read."
	case codeBadAddress:
		return "The server's address is not a web address."
	case codeFileChanged:
		return file + " has changed since its upload began, so the upload cannot go on. Upload it again."
	case codeUploadGone:
		return "The server no longer has this upload: it may have expired. Upload the file again."
	case codeStateUnsaved:
		return fmt.Sprintf("The list of uploads under way cannot be saved: %v", f.cause)
	case "missing_token":
		return "Enter the upload token first."
	case "invalid_token":
		return "The upload token was refused. Check it and try again."
	case "bad_request":
		return "The server could not take the request: " + strings.TrimSuffix(or(f.server, "it was malformed"), ".") + "."
	case "malformed_id":
		return "That is not a video ID."
	case "not_found":
		return "The server has no such endpoint: it may be an older version of AssetLab."
	case "video_not_found":
		return "Video not found."
	case "rendition_not_available":
		return "That quality is not ready yet."
	case "unknown_quality":
		return "The server does not make that quality."
	case "file_too_large":
		limit := ""
		if f.limit > 0 {
			limit = FormatBytes(f.limit)
		} else if m := limitInText.FindStringSubmatch(f.server); m != nil {
			limit = m[1]
		}
		switch {
		case limit == "":
			return file + " is larger than this server's limit."
		case f.size > 0:
			return fmt.Sprintf("%s is %s; the limit is %s.", file, FormatBytes(f.size), limit)
		default:
			return fmt.Sprintf("%s is too large: the limit is %s.", file, limit)
		}
	case "unsupported_type":
		return file + " is not a video AssetLab can take. Choose an MP4, MOV, WebM or MKV file."
	case "empty_file":
		return file + " is empty."
	case "upload_interrupted":
		return "The upload was interrupted before the whole file arrived. Check your connection and try again."
	case "method_not_allowed":
		return "The server does not allow that here."
	case "storage_full":
		return "The server's storage is full: ask its admin to free up space, then try again."
	case "storage_unavailable":
		return "The server's storage cannot be reached right now. Try again shortly."
	case "too_many_uploads":
		return "The server is busy with other uploads. Try again in a moment."
	case "transcoder_off":
		return "The transcoder is off on this server, so this cannot be done now."
	case "original_gone":
		return "The original file of this video is gone from storage."
	case "internal":
		return "Something went wrong on the server. Try again; if it keeps failing, tell its admin."
	}
	if f.server != "" {
		return f.server
	}
	return fmt.Sprintf("The server answered %d.", f.status)
}

func or(s, alt string) string {
	if s != "" {
		return s
	}
	return alt
}

// newError is the Error for code, in words. An older server sends no code:
// its status stands in where it can.
func newError(code string, f facts) *Error {
	if code == "" {
		code = byStatus[f.status]
	}
	return &Error{Status: f.status, Code: code, Message: words(code, f)}
}

// FormatBytes says a size in binary units, as the server's limits are:
// 1536 → "1.5 KiB", 1073741824 → "1 GiB" (a whole number shows no decimal).
func FormatBytes(n int64) string {
	if n < 1024 {
		return fmt.Sprintf("%d B", n)
	}
	v, i := float64(n), 0
	for v >= 1024 && i < 4 {
		v /= 1024
		i++
	}
	unit := [...]string{"B", "KiB", "MiB", "GiB", "TiB"}[i]
	switch {
	case v == float64(int64(v)):
		return fmt.Sprintf("%d %s", int64(v), unit)
	case v < 10:
		return fmt.Sprintf("%.1f %s", v, unit)
	default:
		return fmt.Sprintf("%.0f %s", v, unit)
	}
}
