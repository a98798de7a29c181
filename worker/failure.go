package worker

import (
	"errors"
	"syscall"

	"github.com/assetlab/assetlab/worker/transcode"
)

// storageFailure classes a failed read or write of storage: another attempt,
// after a pause, may well succeed.
func storageFailure(what string, err error) error {
	return &transcode.Error{Class: transcode.ClassTransient, Reason: transcode.ReasonStorage,
		Detail: what + ": " + err.Error(), Err: err}
}

// tempFailure classes a failure to write the temp folder: the machine's
// fault, not the file's.
func tempFailure(what string, err error) error {
	reason := "the transcoder could not write its temporary files"
	if errors.Is(err, syscall.ENOSPC) {
		reason = transcode.ReasonNoSpace
	}
	return &transcode.Error{Class: transcode.ClassEnvironment, Reason: reason,
		Detail: what + ": " + err.Error(), Err: err}
}
