// Package storage keeps objects in a bucket-like store: S3 (or any S3-compatible
// server) in production, a local directory for the embedded default. Both backends
// pass the same conformance suite (storagetest).
package storage

import (
	"context"
	"errors"
	"io"
	"time"
)

// PartSize is the size of one part of a streaming upload. S3 needs at least 5 MiB
// for every part but the last.
const PartSize = 5 << 20

var (
	// ErrNotFound is returned for a key that does not exist.
	ErrNotFound = errors.New("object not found")
	// ErrExists is returned by Create when the key is already taken.
	ErrExists = errors.New("object already exists")
	// ErrUnavailable wraps failures to reach the store.
	ErrUnavailable = errors.New("storage unavailable")
	// ErrFull wraps writes refused for lack of space: a full disk or a quota
	// on the local backend, an out-of-space or quota answer from S3.
	ErrFull = errors.New("storage is full")
)

// Info describes a stored object.
type Info struct {
	Key         string
	Size        int64
	ModTime     time.Time
	ContentType string
	ETag        string
}

// Store is the set of operations the server and the workers need from object
// storage. What only some backends offer is in capabilities.go.
type Store interface {
	// Put streams r to key. The object appears whole or not at all: on any error,
	// including one returned by r, nothing is left behind (no partial object, no
	// open multipart upload). Memory use does not depend on the size of r.
	Put(ctx context.Context, key string, r io.Reader, contentType string) (Info, error)
	// Create writes a small object only if key does not exist yet. Of concurrent
	// creators of one key exactly one succeeds; the others get ErrExists.
	Create(ctx context.Context, key string, body []byte, contentType string) error
	// Get opens an object for reading.
	Get(ctx context.Context, key string) (io.ReadCloser, Info, error)
	// Stat describes an object.
	Stat(ctx context.Context, key string) (Info, error)
	// Delete removes an object. Deleting a missing key is not an error.
	Delete(ctx context.Context, key string) error
	// List returns the objects whose key starts with prefix, in key order.
	List(ctx context.Context, prefix string) ([]Info, error)
	// PresignGet returns an absolute URL that reads the object without
	// credentials until ttl has passed, with HTTP Range support (FFmpeg makes a
	// ranged request per seek).
	PresignGet(ctx context.Context, key string, ttl time.Duration) (string, error)
	// Ping checks that the store is reachable.
	Ping(ctx context.Context) error
}

// ReadAll reads a whole (small) object.
func ReadAll(ctx context.Context, s Store, key string) ([]byte, error) {
	rc, _, err := s.Get(ctx, key)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	return io.ReadAll(rc)
}
