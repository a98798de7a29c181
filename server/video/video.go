// Package video is the contract shared by the API server and the transcode
// workers: video IDs, the object key layout, the metadata and result documents,
// and the rendition ladder.
package video

import (
	"strconv"
	"strings"
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
func OriginalKey(id, ext string) string { return OriginalPrefix(id) + ext }

// OriginalPrefix is what a video's original key starts with, whatever its
// extension.
func OriginalPrefix(id string) string { return "originals/" + id }

// MetaKey is the video-store key of a video's Meta document.
func MetaKey(id string) string { return Prefix(id) + metaName }

const metaName = "meta.json"

// MetaPrefix is the prefix under which every video's documents and renditions live.
const MetaPrefix = "videos/"

// Prefix is the prefix of everything of video id in the video store: its
// Meta document and the outputs of every attempt.
func Prefix(id string) string { return MetaPrefix + id + "/" }

// IDFromMetaKey returns the video ID of a Meta document's key.
func IDFromMetaKey(key string) (string, bool) {
	rest, ok := strings.CutPrefix(key, MetaPrefix)
	if !ok {
		return "", false
	}
	id, ok := strings.CutSuffix(rest, "/"+metaName)
	return id, ok && ValidID(id)
}

// AttemptPrefix is the prefix of everything attempt n of a video's job
// uploaded. Outputs are scoped by attempt so that a worker that lost its job
// can never overwrite the winner's.
func AttemptPrefix(id string, attempt int) string {
	return Prefix(id) + "a" + strconv.Itoa(attempt) + "/"
}

// RenditionKey is where an attempt writes a rendition.
func RenditionKey(id string, attempt int, q Quality) string {
	return AttemptPrefix(id, attempt) + string(q) + ".mp4"
}

// PosterKey is where an attempt writes the poster image.
func PosterKey(id string, attempt int) string {
	return AttemptPrefix(id, attempt) + "poster.jpg"
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
