package api

// Code is an error's name for programs: stable, so that a client can branch
// on it and say it in its own words, falling back to the error's text for a
// code it does not know. The text may change; a code does not.
type Code string

// The codes, also listed in openapi.yaml (components.schemas.Error).
const (
	// The bearer token.
	CodeMissingToken Code = "missing_token"
	CodeInvalidToken Code = "invalid_token"
	// The request: a malformed body or field, not multipart, no boundary.
	CodeBadRequest Code = "bad_request"
	// A video ID that is not a lower-case UUID, or a path that cannot name a
	// video.
	CodeMalformedID Code = "malformed_id"
	// No such endpoint, and no such method on an endpoint.
	CodeNotFound         Code = "not_found"
	CodeMethodNotAllowed Code = "method_not_allowed"
	// Videos and renditions.
	CodeVideoNotFound         Code = "video_not_found"
	CodeRenditionNotAvailable Code = "rendition_not_available"
	CodeUnknownQuality        Code = "unknown_quality"
	CodeOriginalGone          Code = "original_gone"
	// Uploads.
	CodeFileTooLarge       Code = "file_too_large"
	CodeUnsupportedType    Code = "unsupported_type"
	CodeEmptyFile          Code = "empty_file"
	CodeUploadInterrupted  Code = "upload_interrupted"
	CodeTooManyUploads     Code = "too_many_uploads"
	CodeStorageFull        Code = "storage_full"
	CodeStorageUnavailable Code = "storage_unavailable"
	// Resumable uploads: no such upload (finished, cancelled or expired), a
	// request at another offset than the upload's, an upload busy with
	// another request.
	CodeUploadNotFound Code = "upload_not_found"
	CodeOffsetMismatch Code = "offset_mismatch"
	CodeUploadLocked   Code = "upload_locked"
	CodeUploadExpired  Code = "upload_expired"
	// The in-process transcoder cannot work (/readyz).
	CodeTranscoderOff Code = "transcoder_off"
	// Anything unexpected; the server logs it.
	CodeInternal Code = "internal"
)

// Codes lists every code, for clients and tests.
var Codes = []Code{
	CodeMissingToken, CodeInvalidToken, CodeBadRequest, CodeMalformedID,
	CodeNotFound, CodeMethodNotAllowed, CodeVideoNotFound,
	CodeRenditionNotAvailable, CodeUnknownQuality, CodeOriginalGone,
	CodeFileTooLarge, CodeUnsupportedType, CodeEmptyFile,
	CodeUploadInterrupted, CodeTooManyUploads, CodeStorageFull,
	CodeStorageUnavailable, CodeUploadNotFound, CodeOffsetMismatch,
	CodeUploadLocked, CodeUploadExpired, CodeTranscoderOff, CodeInternal,
}
