// Package video is the contract shared by the API server and the transcode
// workers: video IDs, the object key layout, the metadata and result documents,
// and the rendition ladder.
package video

import (
	"time"

	"github.com/google/uuid"
)

// NewID returns a new random video ID.
func NewID() string { return uuid.NewString() }

// ValidID reports whether id is a UUID in canonical lower-case form. Only such IDs
// are ever turned into storage keys.
func ValidID(id string) bool {
	if len(id) != 36 {
		return false
	}
	u, err := uuid.Parse(id)
	return err == nil && u.String() == id
}

// Key layout. The raw store holds originals; the video store holds everything
// else. Both may be the same bucket: the prefixes do not overlap.

// OriginalKey is the raw-store key of a video's uploaded file.
func OriginalKey(id, ext string) string { return "originals/" + id + ext }

// MetaKey is the video-store key of a video's Meta document.
func MetaKey(id string) string { return "videos/" + id + "/meta.json" }

// MetaPrefix is the prefix under which every video's documents and renditions live.
const MetaPrefix = "videos/"

// RenditionKey is where an attempt writes a rendition. Outputs are scoped by
// attempt so that a worker that lost its job can never overwrite the winner's.
func RenditionKey(id string, attempt int, q Quality) string {
	return "videos/" + id + "/a" + itoa(attempt) + "/" + string(q) + ".mp4"
}

// PosterKey is where an attempt writes the poster image.
func PosterKey(id string, attempt int) string {
	return "videos/" + id + "/a" + itoa(attempt) + "/poster.jpg"
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b [20]byte
	i := len(b)
	for ; n > 0; n /= 10 {
		i--
		b[i] = byte('0' + n%10)
	}
	return string(b[i:])
}

// Meta is written once, at upload, next to the video's renditions.
type Meta struct {
	ID          string    `json:"id"`
	Filename    string    `json:"filename,omitempty"`
	ContentType string    `json:"content_type"`
	Size        int64     `json:"size"`
	OriginalKey string    `json:"original_key"`
	CreatedAt   time.Time `json:"created_at"`
}

// Status values, as the API reports them.
const (
	StatusPending    = "pending"
	StatusProcessing = "processing"
	StatusDone       = "done"
	StatusError      = "error"
)
