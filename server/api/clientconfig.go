package api

import (
	"net/http"

	"github.com/assetlab/assetlab/server/video"
)

// Features says which optional parts of the API this server has, so that
// clients use them only where they exist.
type Features struct {
	// ResumableUploads: tus uploads that survive a dropped connection.
	ResumableUploads bool `json:"resumable_uploads"`
	// HLS: adaptive streaming playlists beside the MP4 renditions.
	HLS bool `json:"hls"`
	// Events: a stream of status changes instead of polling.
	Events bool `json:"events"`
}

// ClientConfig is what clients learn from GET /api/config: the limits they
// check before they upload, from the server rather than built in.
type ClientConfig struct {
	MaxUploadBytes     int64    `json:"max_upload_bytes"`
	AcceptedTypes      []string `json:"accepted_types"`
	AcceptedExtensions []string `json:"accepted_extensions"`
	// Qualities are the ladder's renditions; a video smaller than the
	// lowest has one rendition named by its own size (such as "240p").
	Qualities []string `json:"qualities"`
	Features  Features `json:"features"`
}

// clientConfig: GET /api/config (no token).
func (a *API) clientConfig(w http.ResponseWriter, r *http.Request) error {
	c := ClientConfig{
		MaxUploadBytes:     a.MaxUploadBytes,
		AcceptedTypes:      []string{},
		AcceptedExtensions: []string{},
		Qualities:          []string{},
		Features:           a.Features,
	}
	// The stream routes are always served; whether a video has a stream,
	// its hls_url says.
	c.Features.HLS = true
	// Resumable uploads are served wherever the tus endpoint is mounted.
	c.Features.ResumableUploads = a.Resumable != nil
	for _, k := range video.Containers {
		c.AcceptedTypes = append(c.AcceptedTypes, k.ContentType)
		c.AcceptedExtensions = append(c.AcceptedExtensions, k.Ext)
	}
	for _, rung := range video.Ladder {
		c.Qualities = append(c.Qualities, string(rung.Quality))
	}
	writeJSON(w, http.StatusOK, c)
	return nil
}
