package storage

import (
	"context"
	"net/http"
	"time"
)

// A store may offer more than Store: each extra is a small interface below.
// Compose finds them once, when the store is opened, and what needs one gets
// it as a field of a Composer; nothing downstream type-asserts a store to a
// backend (tusd's StoreComposer does the same with its data store's
// extensions).

// Files is a store whose objects are files on this machine: a program here
// (FFmpeg) reads them in place instead of through a signed URL.
type Files interface {
	// Path is the file that holds key.
	Path(key string) (string, error)
}

// SelfServed is a store whose signed URLs this process serves itself (the
// local backend: no other server is there to answer them). Its URLs are under
// /files/{Name}/, and it signs them for whichever address a client reached the
// server at, so that a browser on the LAN gets one it can reach.
type SelfServed interface {
	// Name is the store's name, as it appears in its URLs.
	Name() string
	// PresignGetAt is PresignGet for a URL that starts with base (a scheme
	// and host, such as "http://192.168.1.20:3000").
	PresignGetAt(ctx context.Context, base, key string, ttl time.Duration) (string, error)
	// ServeSigned answers a request for one of its signed URLs; key is the
	// part of the path after /files/{Name}/.
	ServeSigned(w http.ResponseWriter, r *http.Request, key string)
}

// Composer is a store with the capabilities it offers besides Store; a nil
// field is one it lacks. It is itself a Store, with the capabilities out of
// reach of a type assertion: pass the Composer where they are wanted.
type Composer struct {
	Store
	Files      Files
	SelfServed SelfServed
}

// Compose finds the capabilities of s (of a Composer: its own).
func Compose(s Store) Composer {
	if c, ok := s.(Composer); ok {
		return c
	}
	c := Composer{Store: s}
	c.Files, _ = s.(Files)
	c.SelfServed, _ = s.(SelfServed)
	return c
}
