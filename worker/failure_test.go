package worker_test

import (
	"testing"

	"github.com/assetlab/assetlab/server/jobs"
	"github.com/assetlab/assetlab/worker/transcode"
)

// The job protocol names a worker that stopped responding an environment
// failure, in the transcoder's words.
func TestClassNamesAgree(t *testing.T) {
	if jobs.ClassEnvironment != string(transcode.ClassEnvironment) {
		t.Errorf("jobs.ClassEnvironment %q, transcode.ClassEnvironment %q: want the same", jobs.ClassEnvironment, transcode.ClassEnvironment)
	}
}
