package uploads

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/assetlab/assetlab/server/video"
	"github.com/tus/tusd/v2/pkg/handler"
)

// refusal is an answer given before tusd sees the request.
type refusal struct {
	status    int
	code, msg string
}

// firstBytes checks the first bytes of a file as they arrive, as POST
// /api/upload does: a PATCH at offset 0 of an upload with nothing stored
// yet, or a creation request with a body (creation-with-upload). It peeks
// the first video.SniffLen bytes (or the whole file, if smaller) and puts
// them back in front of the body for tusd. A file that is not a video, or
// whose content is another family of container than its name says, is
// refused with 415 and, if the upload exists, the upload is terminated.
//
// The request must carry those first bytes in one piece: one shorter than
// that (a client's tiny first chunk) is refused with 400 rather than kept
// somewhere until the next request brings the rest. No tus client sends
// chunks of under 64 bytes unless told to.
func (s *Server) firstBytes(r *http.Request) *refusal {
	if r.ContentLength == 0 {
		return nil
	}
	var (
		declared video.Container
		size     int64
		uploadID string
	)
	switch r.Method {
	case http.MethodPost:
		if r.Header.Get("Content-Type") != "application/offset+octet-stream" {
			return nil // no body for tusd to store
		}
		n, err := strconv.ParseInt(r.Header.Get("Upload-Length"), 10, 64)
		c, ok := containerOf(handler.ParseMetadataHeader(r.Header.Get("Upload-Metadata")))
		if err != nil || n <= 0 || n > s.o.MaxSize || !ok {
			return nil // preCreate refuses it, before the body is read
		}
		declared, size = c, n
	case http.MethodPatch:
		if r.Header.Get("Upload-Offset") != "0" {
			return nil
		}
		uploadID = path.Base(r.URL.Path)
		c, ok := containerOfID(uploadID)
		if !ok {
			return nil // tusd answers 404
		}
		info, err := s.info(r.Context(), uploadID)
		if err != nil || info.Offset != 0 {
			return nil // tusd answers it (404, 409...)
		}
		declared, size = c, info.Size
	default:
		return nil
	}

	need := min(int64(video.SniffLen), size)
	short := &refusal{status: http.StatusBadRequest, code: codeBadRequest,
		msg: fmt.Sprintf("the first request of an upload must carry at least its first %d bytes", need)}
	if r.ContentLength > 0 && r.ContentLength < need {
		return short
	}
	head := make([]byte, need)
	n, err := io.ReadFull(r.Body, head)
	switch {
	case errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF):
		if r.ContentLength < 0 {
			return short // a chunked body that ended early
		}
		return &refusal{status: http.StatusBadRequest, code: codeInterrupted, msg: "the upload was interrupted"}
	case err != nil:
		return &refusal{status: http.StatusBadRequest, code: codeInterrupted, msg: "the upload was interrupted"}
	}
	r.Body = struct {
		io.Reader
		io.Closer
	}{io.MultiReader(bytes.NewReader(head[:n]), r.Body), r.Body}

	refuse := func(msg string) *refusal {
		if uploadID != "" {
			s.removeRefused(r.Context(), uploadID)
		}
		return &refusal{status: http.StatusUnsupportedMediaType, code: codeUnsupported, msg: msg}
	}
	got, ok := video.Sniff(head)
	if !ok {
		return refuse("not a supported video file: upload MP4, MOV, WebM or MKV")
	}
	if family(got) != family(declared) {
		return refuse(fmt.Sprintf("the file is %s, but its name says %s: name it after what it is",
			familyName(got), strings.ToUpper(strings.TrimPrefix(declared.Ext, "."))))
	}
	return nil
}

// family is a container's family: what the worker's demuxer is pinned to.
// MP4 and MOV (ISO base media) share one, WebM and MKV (EBML) the other.
func family(c video.Container) string {
	if c == video.WebM || c == video.MKV {
		return "ebml"
	}
	return "isobmff"
}

func familyName(c video.Container) string {
	if family(c) == "ebml" {
		return "a WebM or Matroska video"
	}
	return "an MP4 or QuickTime video"
}

// containerOfID is the container an upload's ID names: {video-id}.{ext},
// followed on S3 by "+" and the multipart upload's ID.
func containerOfID(uploadID string) (video.Container, bool) {
	object, _, _ := strings.Cut(uploadID, "+")
	c, ok := extensions[strings.TrimPrefix(path.Ext(object), ".")]
	return c, ok
}

// videoIDOf is the ID of the video an upload becomes.
func videoIDOf(uploadID string) (string, bool) {
	object, _, _ := strings.Cut(uploadID, "+")
	id := strings.TrimSuffix(object, path.Ext(object))
	return id, video.ValidID(id)
}

// info is an upload's state as tusd stores it.
func (s *Server) info(ctx context.Context, uploadID string) (handler.FileInfo, error) {
	up, err := s.store.GetUpload(ctx, uploadID)
	if err != nil {
		return handler.FileInfo{}, err
	}
	return up.GetInfo(ctx)
}

// removeRefused removes an upload and everything it stored (tusd's DELETE,
// under the upload's lock), then its lock documents.
func (s *Server) removeRefused(ctx context.Context, uploadID string) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	log := s.o.Log.With(slog.String("upload", uploadID))
	err := func() error {
		lock, err := s.locker.NewLock(uploadID)
		if err != nil {
			return err
		}
		if err := lock.Lock(ctx, func() {}); err != nil {
			return fmt.Errorf("lock: %w", err)
		}
		defer lock.Unlock()
		up, err := s.store.GetUpload(ctx, uploadID)
		if err != nil {
			return err
		}
		return s.terminater.AsTerminatableUpload(up).Terminate(ctx)
	}()
	if err != nil {
		log.Warn("terminate a refused upload", slog.Any("err", err))
	}
	if err := s.locker.Forget(ctx, uploadID); err != nil {
		log.Warn("remove the lock of a refused upload", slog.Any("err", err))
	}
}
