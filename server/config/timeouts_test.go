package config

import (
	"strings"
	"testing"
	"time"
)

func TestTimeouts(t *testing.T) {
	c, err := fromMap(map[string]string{"ASSETLAB_DATA_DIR": "/tmp/x"})
	if err != nil {
		t.Fatal(err)
	}
	if c.ReadTimeout != 10*time.Second || c.UploadStallTimeout != 2*time.Minute {
		t.Errorf("defaults: got read %v, stall %v, want 10s and 2m", c.ReadTimeout, c.UploadStallTimeout)
	}
	c, err = fromMap(map[string]string{"ASSETLAB_READ_TIMEOUT": "3s", "ASSETLAB_UPLOAD_STALL_TIMEOUT": "5m"})
	if err != nil {
		t.Fatal(err)
	}
	if c.ReadTimeout != 3*time.Second || c.UploadStallTimeout != 5*time.Minute {
		t.Errorf("set: got read %v, stall %v, want 3s and 5m", c.ReadTimeout, c.UploadStallTimeout)
	}
	for name, v := range map[string]string{
		"ASSETLAB_READ_TIMEOUT":         "0s",
		"ASSETLAB_UPLOAD_STALL_TIMEOUT": "10ms",
	} {
		_, err := fromMap(map[string]string{name: v})
		if err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("%s=%s: got %v, want an error naming %s", name, v, err, name)
		}
	}
	_, err = fromMap(map[string]string{"ASSETLAB_UPLOAD_STALL_TIMEOUT": "soon"})
	if err == nil || !strings.Contains(err.Error(), "ASSETLAB_UPLOAD_STALL_TIMEOUT") {
		t.Errorf("unparsable stall timeout: got %v", err)
	}
}
