package uploads

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"path"
	"strconv"
	"strings"

	"github.com/assetlab/assetlab/server/storage"
	"github.com/assetlab/assetlab/server/video"
	"github.com/tus/tusd/v2/pkg/handler"
)

// Status is the answer to GET /api/uploads/{id}.
type Status struct {
	UploadID string `json:"upload_id"`
	Offset   int64  `json:"offset"`
	Length   int64  `json:"length"`
	Complete bool   `json:"complete"`
	// VideoID is set once the upload is complete and its video stored.
	VideoID string `json:"video_id,omitempty"`
}

// finished returns the video a finished upload became. Its tusd state is
// gone by then, but the video ID is part of the upload ID: the upload is
// finished if that video's metadata exists, with the same original.
func (s *Server) finished(ctx context.Context, uploadID string) (video.Meta, bool, error) {
	id, ok := videoIDOf(uploadID)
	c, okc := containerOfID(uploadID)
	if !ok || !okc || s.o.Videos == nil {
		return video.Meta{}, false, nil
	}
	b, err := storage.ReadAll(ctx, s.o.Videos, video.MetaKey(id))
	if errors.Is(err, storage.ErrNotFound) {
		return video.Meta{}, false, nil
	}
	if err != nil {
		return video.Meta{}, false, fmt.Errorf("read the metadata of %s: %w", id, err)
	}
	var meta video.Meta
	if err := json.Unmarshal(b, &meta); err != nil {
		return video.Meta{}, false, fmt.Errorf("read the metadata of %s: %w", id, err)
	}
	return meta, meta.OriginalKey == video.OriginalKey(id, c.Ext), nil
}

// status answers GET /api/uploads/{id}: where the upload is, and once it is
// complete the video it became.
func (s *Server) status(w http.ResponseWriter, r *http.Request) {
	uploadID := path.Base(r.URL.Path)
	if !validUploadID.MatchString(uploadID) || strings.Contains(uploadID, "..") {
		writeJSON(w, r, http.StatusNotFound, codeNotFound, "upload not found: it was finished, cancelled or has expired")
		return
	}
	meta, done, err := s.finished(r.Context(), uploadID)
	if err != nil {
		s.failed(w, r, err)
		return
	}
	st := Status{UploadID: uploadID}
	if done {
		st.Offset, st.Length, st.Complete, st.VideoID = meta.Size, meta.Size, true, meta.ID
	} else {
		info, err := s.info(r.Context(), uploadID)
		if errors.Is(err, handler.ErrNotFound) {
			writeJSON(w, r, http.StatusNotFound, codeNotFound, "upload not found: it was finished, cancelled or has expired")
			return
		}
		if err != nil {
			s.failed(w, r, err)
			return
		}
		// An upload whose last byte is stored but whose video is not (yet)
		// is not complete: its final PATCH is still at work, or failed.
		st.Offset, st.Length = info.Offset, info.Size
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	json.NewEncoder(w).Encode(st)
}

// headFinished answers a HEAD on a finished upload as tus would if its
// state were kept: all of it is there (Upload-Offset = Upload-Length), and
// Upload-Video-Id names the video. A client that lost the final PATCH's
// answer learns its video this way. It reports false for any other upload.
func (s *Server) headFinished(w http.ResponseWriter, r *http.Request) bool {
	meta, done, err := s.finished(r.Context(), path.Base(r.URL.Path))
	if err != nil {
		s.failed(w, r, err)
		return true
	}
	if !done {
		return false
	}
	h := w.Header()
	h.Set("Tus-Resumable", "1.0.0")
	h.Set("Upload-Offset", strconv.FormatInt(meta.Size, 10))
	h.Set("Upload-Length", strconv.FormatInt(meta.Size, 10))
	h.Set(VideoIDHeader, meta.ID)
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	return true
}

// deleteFinished answers a DELETE on a finished upload: its video stays
// (DELETE /api/videos/{id} removes it). tusd's own termination must not see
// it: on S3 it deletes the object at the upload's key, which is the
// video's original, were a stale .info left (a server that stopped between
// storing the video and removing its upload state). Such state is removed
// here. It reports false for any other upload.
func (s *Server) deleteFinished(w http.ResponseWriter, r *http.Request) bool {
	uploadID := path.Base(r.URL.Path)
	meta, done, err := s.finished(r.Context(), uploadID)
	if err != nil {
		s.failed(w, r, err)
		return true
	}
	if !done {
		return false
	}
	object, _, _ := strings.Cut(uploadID, "+")
	s.removeState(r.Context(), object)
	if err := s.locker.Forget(r.Context(), uploadID); err != nil {
		s.o.Log.Warn("remove the lock of an upload", slog.String("upload", uploadID), slog.Any("err", err))
	}
	w.Header().Set("Tus-Resumable", "1.0.0")
	writeJSON(w, r, http.StatusNotFound, codeNotFound,
		"the upload is finished: its video is "+meta.ID+"; delete the video to remove it")
	return true
}

// failed answers an unexpected error: 503 if storage cannot be reached, else
// 500; logged once.
func (s *Server) failed(w http.ResponseWriter, r *http.Request, err error) {
	s.o.Log.Error("request failed", slog.String("method", r.Method), slog.String("path", r.URL.Path), slog.Any("err", err))
	if errors.Is(err, storage.ErrUnavailable) {
		writeJSON(w, r, http.StatusServiceUnavailable, codeStorageUnavailable, "storage is unavailable, try again shortly")
		return
	}
	writeJSON(w, r, http.StatusInternalServerError, codeInternal, "internal error")
}
