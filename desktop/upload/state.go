package upload

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/adrg/xdg"
)

// StateFile is where uploads under way are kept between runs of the app:
// $XDG_STATE_HOME/assetlab/uploads.json, readable by the user alone (the
// upload URLs are capabilities on the server).
func StateFile() (string, error) {
	return xdg.StateFile(filepath.Join("assetlab", "uploads.json"))
}

// entry is one upload under way: where it goes, and enough of the file to
// tell whether it is still the same file.
type entry struct {
	URL     string    `json:"url"`
	Server  string    `json:"server"`
	Path    string    `json:"path"`
	Size    int64     `json:"size"`
	ModTime time.Time `json:"mtime"`
	// HeadTail is the SHA-256 of the file's first and last MiB (the whole
	// file when it is smaller than 2 MiB), hex.
	HeadTail string    `json:"head_tail_sha256"`
	Started  time.Time `json:"started"`
}

// sameFile tells whether now, the file as it is, is the file e began with.
func (e entry) sameFile(now entry) bool {
	return e.Size == now.Size && e.ModTime.Equal(now.ModTime) && e.HeadTail == now.HeadTail
}

const headTailLen = 1 << 20

// fingerprint reads what tells the file at path apart: size, modification
// time, and a hash of its first and last MiB.
func fingerprint(f *os.File, path string) (entry, error) {
	fi, err := f.Stat()
	if err != nil {
		return entry{}, err
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return entry{}, err
	}
	size := fi.Size()
	h := sha256.New()
	if size <= 2*headTailLen {
		_, err = io.Copy(h, io.NewSectionReader(f, 0, size))
	} else if _, err = io.Copy(h, io.NewSectionReader(f, 0, headTailLen)); err == nil {
		_, err = io.Copy(h, io.NewSectionReader(f, size-headTailLen, headTailLen))
	}
	if err != nil {
		return entry{}, err
	}
	return entry{Path: abs, Size: size, ModTime: fi.ModTime().UTC(), HeadTail: hex.EncodeToString(h.Sum(nil))}, nil
}

// stateMu serialises changes to state files within this process, so that two
// uploads at once do not lose each other's entries.
var stateMu sync.Mutex

// stateFile is the list of uploads under way, in a JSON file.
type stateFile struct {
	path string // "" means StateFile()
}

type stateDoc struct {
	Uploads []entry `json:"uploads"`
}

func (s stateFile) file() (string, error) {
	if s.path != "" {
		return s.path, nil
	}
	return StateFile()
}

func (s stateFile) load() ([]entry, error) {
	stateMu.Lock()
	defer stateMu.Unlock()
	return s.read()
}

func (s stateFile) get(url string) (entry, bool, error) {
	all, err := s.load()
	for _, e := range all {
		if e.URL == url {
			return e, true, nil
		}
	}
	return entry{}, false, err
}

func (s stateFile) put(e entry) error {
	return s.change(func(all []entry) []entry {
		for i := range all {
			if all[i].URL == e.URL {
				all[i] = e
				return all
			}
		}
		return append(all, e)
	})
}

func (s stateFile) remove(url string) error {
	return s.change(func(all []entry) []entry {
		out := all[:0]
		for _, e := range all {
			if e.URL != url {
				out = append(out, e)
			}
		}
		return out
	})
}

func (s stateFile) change(fn func([]entry) []entry) error {
	stateMu.Lock()
	defer stateMu.Unlock()
	all, err := s.read()
	if err != nil {
		return err
	}
	return s.write(fn(all))
}

func (s stateFile) read() ([]entry, error) {
	path, err := s.file()
	if err != nil {
		return nil, fmt.Errorf("find upload state: %w", err)
	}
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read upload state: %w", err)
	}
	var doc stateDoc
	if err := json.Unmarshal(b, &doc); err != nil {
		return nil, fmt.Errorf("read upload state %s: %w", path, err)
	}
	return doc.Uploads, nil
}

// write replaces the file atomically, with mode 0600.
func (s stateFile) write(all []entry) error {
	path, err := s.file()
	if err != nil {
		return fmt.Errorf("find upload state: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("write upload state: %w", err)
	}
	b, err := json.MarshalIndent(stateDoc{Uploads: all}, "", "  ")
	if err != nil {
		return err
	}
	f, err := os.CreateTemp(filepath.Dir(path), ".uploads-*.json")
	if err != nil {
		return fmt.Errorf("write upload state: %w", err)
	}
	defer os.Remove(f.Name())
	if _, err := f.Write(b); err != nil {
		f.Close()
		return fmt.Errorf("write upload state: %w", err)
	}
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return fmt.Errorf("write upload state: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write upload state: %w", err)
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return fmt.Errorf("write upload state: %w", err)
	}
	return nil
}
