package app

import (
	"os"
	"path/filepath"
	"testing"
)

func TestLoadOrCreateToken(t *testing.T) {
	path := filepath.Join(t.TempDir(), "assetlab", "admin-token")
	tok, created, err := LoadOrCreateToken(path)
	if err != nil || !created || len(tok) < 32 {
		t.Fatalf("first run: got %q %v %v, want a new token", tok, created, err)
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("token file mode: got %v %v, want 0600", fi.Mode().Perm(), err)
	}
	again, created, err := LoadOrCreateToken(path)
	if err != nil || created || again != tok {
		t.Errorf("second run: got %q %v %v, want the same token", again, created, err)
	}
}
