package transcode

import (
	"errors"
	"os/exec"
	"strconv"
	"strings"
	"testing"
)

// exitErr runs a shell that exits with code, for a real *exec.ExitError.
func exitErr(t *testing.T, code int) error {
	t.Helper()
	err := exec.Command("sh", "-c", "exit "+strconv.Itoa(code)).Run()
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		t.Fatalf("sh exit %d: %v", code, err)
	}
	return err
}

func TestClassify(t *testing.T) {
	signalled := exec.Command("sh", "-c", "kill -KILL $$").Run()
	cases := []struct {
		name   string
		err    error
		stderr string
		class  Class
		reason string
	}{
		{"declared size mismatch, as reported", exitErr(t, 1),
			"Cannot determine format of input stream 0:0 after EOF\nError marking filters as finished\nConversion failed!", ClassInput, ReasonUnreadable},
		{"every frame fails to decode", exitErr(t, 69), "Error while decoding stream #0:0: Invalid argument", ClassInput, ReasonUnreadable},
		{"too many decode errors, nothing printed", exitErr(t, 69), "", ClassInput, ReasonUnreadable},
		{"not a movie", exitErr(t, 1), "/data/raw/originals/x.mov: Invalid data found when processing input", ClassInput, ReasonUnreadable},
		{"no moov", exitErr(t, 1), "[mov,mp4,m4a,3gp,3g2,mj2 @ 0x1] moov atom not found", ClassInput, ReasonUnreadable},
		{"disk full", exitErr(t, 1), "Error closing file /tmp/a/720p.mp4: No space left on device", ClassEnvironment, ReasonNoSpace},
		{"disk full while decode errors", exitErr(t, 1), "Error while decoding stream #0:0\nav_interleaved_write_frame(): No space left on device", ClassEnvironment, ReasonNoSpace},
		{"out of memory", exitErr(t, 1), "Error initializing output stream: Cannot allocate memory", ClassEnvironment, ReasonNoMemory},
		{"no encoder", exitErr(t, 1), "Unknown encoder 'libx264'", ClassEnvironment, ReasonNoEncoder},
		{"old ffmpeg", exitErr(t, 1), "Option enable_drefs not found.", ClassEnvironment, ReasonFailed},
		{"crash", signalled, "", ClassEnvironment, ReasonCrashed},
		{"not started", exec.ErrNotFound, "", ClassEnvironment, ReasonMissing},
		{"unknown", exitErr(t, 1), "something no one has seen", ClassEnvironment, ReasonFailed},
		{"refused", exitErr(t, 1), "http://s3:9000/raw/originals/x.mp4?X-Amz-Signature=abc: Connection refused", ClassTransient, ReasonStorage},
		{"reset", exitErr(t, 1), "Stream ends prematurely at 1000, should be 100000\nEnd of file", ClassTransient, ReasonStorage},
		{"expired URL", exitErr(t, 1), "Server returned 403 Forbidden (access denied)", ClassTransient, ReasonStorage},
	}
	for _, c := range cases {
		got := classify("ffmpeg", c.err, c.stderr)
		if got.Class != c.class || got.Reason != c.reason {
			t.Errorf("%s: got %s %q, want %s %q", c.name, got.Class, got.Reason, c.class, c.reason)
		}
		if strings.Contains(got.Detail, "abc") {
			t.Errorf("%s: detail %q shows a signature", c.name, got.Detail)
		}
		if errors.Is(got, ErrBadInput) != (c.class == ClassInput) {
			t.Errorf("%s: errors.Is(ErrBadInput) is %v for class %s", c.name, !(c.class == ClassInput), c.class)
		}
	}
}

func TestClassifyOtherErrors(t *testing.T) {
	own := &Error{Class: ClassTransient, Reason: ReasonStorage}
	if got := Classify(errors.Join(errors.New("context"), own)); got != own {
		t.Errorf("Classify of a wrapped *Error: got %+v, want it back", got)
	}
	got := Classify(errors.New("open http://h/x?X-Amz-Signature=abc: boom"))
	if got.Class != ClassEnvironment || got.Reason != ReasonFailed || strings.Contains(got.Detail, "abc") {
		t.Errorf("Classify of a plain error: got %+v, want environment, %q, no signature", got, ReasonFailed)
	}
}
