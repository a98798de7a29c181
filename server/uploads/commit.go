package uploads

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/assetlab/assetlab/server/storage"
	"github.com/assetlab/assetlab/server/video"
)

// commitWaits are the pauses between tries to store a finished upload's
// video: about 16 s of waiting in all, so that a storage blip of a few
// seconds does not cost the client a whole upload, while its final PATCH
// is answered within about 20 s (tus clients wait that long for an answer).
var commitWaits = []time.Duration{250 * time.Millisecond, 500 * time.Millisecond, time.Second,
	2 * time.Second, 4 * time.Second, 8 * time.Second}

// commit stores a finished upload's video (its metadata and job), trying
// again after each of s.commitWaits.
func (s *Server) commit(ctx context.Context, meta video.Meta) error {
	log := s.o.Log.With(slog.String("video_id", meta.ID))
	for try := 0; ; try++ {
		err := s.o.Commit(ctx, meta)
		if err == nil {
			return nil
		}
		if try == len(s.commitWaits) {
			return fmt.Errorf("store the video after %d tries: %w", try+1, err)
		}
		log.Warn("store a finished upload's video, will try again", slog.Int("try", try+1), slog.Any("err", err))
		select {
		case <-time.After(s.commitWaits[try]):
		case <-ctx.Done():
			return errors.Join(err, ctx.Err())
		}
	}
}

// giveUp removes what a finished upload whose video could not be stored
// left: its original and tusd's state (its lock documents go once the
// request lets go of the lock). It answers a JSON 5xx.
func (s *Server) giveUp(ctx context.Context, uploadID, object string, meta video.Meta, cause error) error {
	s.o.Log.Error("finished upload not stored; removed", slog.String("upload", uploadID),
		slog.String("video_id", meta.ID), slog.Any("err", cause))
	if err := s.o.Raw.Delete(ctx, meta.OriginalKey); err != nil && !errors.Is(err, storage.ErrNotFound) {
		s.o.Log.Warn("remove an original whose video could not be stored", slog.String("key", meta.OriginalKey), slog.Any("err", err))
	}
	s.removeState(ctx, object)
	s.settled.Store(uploadID, true)
	if errors.Is(cause, storage.ErrUnavailable) {
		return apiError(http.StatusServiceUnavailable, codeStorageUnavailable,
			"storage is unavailable: the upload could not be stored; upload the file again")
	}
	return apiError(http.StatusInternalServerError, codeInternal, "the upload could not be stored; upload the file again")
}

// removeState removes tusd's state of a finished upload.
func (s *Server) removeState(ctx context.Context, object string) {
	for _, suffix := range []string{".info", ".part"} {
		if err := s.o.Raw.Delete(ctx, tusPrefix+object+suffix); err != nil && !errors.Is(err, storage.ErrNotFound) {
			s.o.Log.Warn("remove a finished upload's state", slog.String("key", tusPrefix+object+suffix), slog.Any("err", err))
		}
	}
}
