package storage

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// The local backend's temp files are named {owner}.{random} in .tmp, and each
// owner holds its file in .tmp-owners locked for as long as its process lives.

// openOwner makes this store's owner file in dir and locks it.
func openOwner(dir string) (string, *os.File, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", nil, err
	}
	for {
		id := newOwnerID()
		p := filepath.Join(dir, id)
		f, err := os.OpenFile(p, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o644)
		if err != nil {
			return "", nil, err
		}
		if err := lockOwner(f); err != nil {
			f.Close()
			os.Remove(p)
			return "", nil, fmt.Errorf("lock %s: %w", p, err)
		}
		// Between the create and the lock, another process's janitor may have
		// taken the file for a dead owner's and removed it: then start again.
		fi, err1 := f.Stat()
		pi, err2 := os.Stat(p)
		if err1 == nil && err2 == nil && os.SameFile(fi, pi) {
			return id, f, nil
		}
		f.Close()
	}
}

// Owner is the name that marks this store's temp files.
func (l *Local) Owner() string { return l.owner }

// Reclaim removes the temp files of owners whose process has ended, and temp
// files that no owner claims once they are older than untrackedAfter. Temp
// files of live processes, this one included, are never touched. It returns
// the number of files removed.
func (l *Local) Reclaim(untrackedAfter time.Duration) (int, error) {
	owners, err := os.ReadDir(l.owners)
	if err != nil {
		return 0, fmt.Errorf("reclaim temp files: %w", err)
	}
	alive := map[string]bool{l.owner: true}
	dead := map[string]func(remove bool){}
	reaped := false // the dead owners' temp files are gone: their files can go too
	defer func() {
		for _, done := range dead {
			done(reaped)
		}
	}()
	for _, e := range owners {
		id := e.Name()
		if id == l.owner {
			continue
		}
		isDead, done, err := reapOwner(filepath.Join(l.owners, id))
		switch {
		case errors.Is(err, fs.ErrNotExist):
			// Reaped by another janitor meanwhile.
		case err != nil:
			return 0, fmt.Errorf("reclaim temp files: %w", err)
		case isDead:
			dead[id] = done
		default:
			alive[id] = true
		}
	}
	temps, err := os.ReadDir(l.tmp)
	if err != nil {
		return 0, fmt.Errorf("reclaim temp files: %w", err)
	}
	n := 0
	for _, e := range temps {
		owner, _, _ := strings.Cut(e.Name(), ".")
		if alive[owner] {
			continue
		}
		if _, ok := dead[owner]; !ok {
			// Nobody claims it: an older version's file, or one of a process
			// that started after the owners were read (and so is new).
			fi, err := e.Info()
			if err != nil || time.Since(fi.ModTime()) <= untrackedAfter {
				continue
			}
		}
		if err := os.Remove(filepath.Join(l.tmp, e.Name())); err == nil {
			n++
		}
	}
	reaped = true
	return n, nil
}

// RunJanitor reclaims the temp files of dead processes at once and then
// every o.Interval, until ctx ends. It refuses options left unset.
func (l *Local) RunJanitor(ctx context.Context, o JanitorOptions) error {
	if err := o.check(); err != nil {
		return err
	}
	t := time.NewTicker(o.Interval)
	defer t.Stop()
	for {
		n, err := l.Reclaim(o.UntrackedAfter)
		if err != nil {
			o.Log.Warn("reclaim temp files failed", slog.String("store", l.name), slog.Any("err", err))
		} else if n > 0 {
			o.Log.Info("removed partial uploads of processes that ended", slog.String("store", l.name), slog.Int("files", n))
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}
