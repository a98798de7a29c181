package uploads

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/assetlab/assetlab/server/storage"
	"github.com/assetlab/assetlab/server/video"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/tus/tusd/v2/pkg/filestore"
	"github.com/tus/tusd/v2/pkg/handler"
	"github.com/tus/tusd/v2/pkg/s3store"
	expslog "golang.org/x/exp/slog"
)

// concurrentParts caps the parts s3store sends to S3 at once, for the whole
// server (tusd's default, set here so that the temp disk bound below holds).
const concurrentParts = 10

// BasePath is where the tus endpoint is mounted.
const BasePath = "/api/uploads/"

// tusPrefix holds tusd's own state: its .info documents (and on S3 its
// .part objects), and on the local backend the files being written. It is
// outside originals/ so that nothing reads an upload before it is complete.
const tusPrefix = "uploads/tus/"

// VideoIDHeader carries the video ID in the answer to the PATCH that
// completes an upload.
const VideoIDHeader = "Upload-Video-Id"

// S3Backend is a raw store on S3, which tusd's s3store writes to directly.
type S3Backend interface {
	Client() *s3.Client
	Bucket() string
}

// Options configures the tus endpoint.
type Options struct {
	// Raw holds the originals (and tusd's state, under uploads/tus/). On the
	// local backend its Files capability places the partial files.
	Raw storage.Composer
	// S3 is Raw when it is on S3 (nil on the local backend).
	S3 S3Backend
	// Videos holds the videos' metadata: a finished upload is known by its
	// video's.
	Videos storage.Store
	// TempDir is where s3store buffers parts before sending them.
	TempDir string
	// MaxSize caps Upload-Length.
	MaxSize int64
	// Stall is how long a PATCH body may stall before it is cut off.
	Stall time.Duration
	// Expiry is how long an upload lives from its creation.
	Expiry time.Duration
	// Commit stores the metadata and the job of a complete original and
	// wakes the worker, as a plain upload does.
	Commit func(ctx context.Context, meta video.Meta) error
	Log    *slog.Logger
}

// Server answers tus 1.0 requests under BasePath.
type Server struct {
	o        Options
	h        *handler.Handler
	locker   *Locker
	composer *handler.StoreComposer
	// finish moves a complete upload to its original's key (local backend);
	// nil when the store wrote it there already (S3).
	finish func(id, key string) error
	// dir is the local backend's folder of partial files.
	dir string
	// store and terminater are tusd's store, for the endpoint's own
	// answers and for removing an upload refused on its first bytes.
	store      handler.DataStore
	terminater handler.TerminaterDataStore
	// settled holds the uploads whose final PATCH is done with them (stored
	// or given up): their lock documents go once the lock is let go.
	settled sync.Map
	// commitWaits are the pauses between tries to store a video.
	commitWaits []time.Duration
	// tempMu guards releaseTemp, which removes s3store's folder of part
	// buffers once it is made (S3 only).
	tempMu      sync.Mutex
	releaseTemp func() error
}

// New makes the tus endpoint over o.Raw.
func New(o Options) (*Server, error) {
	if o.Log == nil {
		o.Log = slog.Default()
	}
	if o.Expiry <= 0 {
		o.Expiry = 24 * time.Hour
	}
	holder := make([]byte, 8)
	rand.Read(holder)
	s := &Server{o: o, locker: &Locker{Store: o.Raw, Holder: hex.EncodeToString(holder),
		Lease: lockLease, Poll: 250 * time.Millisecond}, commitWaits: commitWaits}
	composer := handler.NewStoreComposer()
	switch {
	case o.S3 != nil:
		// The object is written where the original goes: completing the
		// multipart upload is the last step, with no copy after it.
		store := s3store.New(o.S3.Bucket(), o.S3.Client())
		store.ObjectPrefix = "originals/"
		store.MetadataObjectPrefix = tusPrefix
		// Made when the first bytes come (tempDir), so that a server that
		// takes no resumable upload leaves no folder.
		store.TemporaryDirectory = filepath.Join(s.tempParent(), s.locker.Holder)
		store.MinPartSize = 5 << 20
		store.PreferredPartSize = 8 << 20
		store.MaxBufferedParts = 2
		store.SetConcurrentPartUploads(concurrentParts)
		// Temp disk (s3store's uploadParts and part producer): a PATCH's body
		// is cut into 8 MiB part files in TempDir as it arrives. A request
		// holds at most MaxBufferedParts+1 of them waiting to be sent
		// (24 MiB), plus, when it resumes an upload whose last piece was
		// under MinPartSize, that piece fetched back (< 5 MiB). Parts being
		// sent keep their file until sent: at most concurrentParts for the
		// whole server (80 MiB), which one request may take all of. So one
		// upload request alone uses under 109 MiB (96 MiB measured for one
		// 200 MiB PATCH to versitygw), and at most ASSETLAB_MAX_UPLOADS
		// requests at once (slots shared with POST /api/upload) under
		// MAX_UPLOADS × 29 MiB + 80 MiB (32 slots: about 1 GiB).
		store.UseIn(composer)
	case o.Raw.Files != nil:
		// Partial files sit beside originals/ under the same root, so that
		// completion is a rename.
		marker, err := o.Raw.Files.Path(tusPrefix + "dir")
		if err != nil {
			return nil, fmt.Errorf("tus folder: %w", err)
		}
		s.dir = filepath.Dir(marker)
		if err := os.MkdirAll(s.dir, 0o755); err != nil {
			return nil, fmt.Errorf("tus folder: %w", err)
		}
		filestore.New(s.dir).UseIn(composer)
		s.finish = s.renameLocal
	default:
		return nil, errors.New("tus: the raw store is neither S3 nor local files")
	}
	composer.UseLocker(s.locker)
	// Not offered: an upload's length must be known at creation (the limit
	// is checked there), and a concatenated upload's parts would each be
	// checked as if they began a file.
	composer.UsesConcater, composer.UsesLengthDeferrer = false, false
	s.store, s.terminater = composer.Core, composer.Terminater
	s.composer = composer
	h, err := handler.NewHandler(handler.Config{
		BasePath:                  BasePath,
		StoreComposer:             composer,
		MaxSize:                   o.MaxSize,
		DisableDownload:           true,
		NetworkTimeout:            o.Stall,
		PreUploadCreateCallback:   s.preCreate,
		PreFinishResponseCallback: s.preFinish,
		// tusd logs each request at Info with its own slog (x/exp): only its
		// warnings and errors are of use next to the API's own log.
		Logger: expslog.New(expslog.NewTextHandler(os.Stderr, &expslog.HandlerOptions{Level: expslog.LevelWarn})),
	})
	if err != nil {
		return nil, fmt.Errorf("tus handler: %w", err)
	}
	s.h = h
	return s, nil
}

// ServeHTTP answers a request whose path starts with BasePath. Every error
// answer has the API's JSON shape.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if w, r = s.before(w, r); r == nil {
		return
	}
	switch r.Method {
	case http.MethodGet:
		// The API routes HEAD as GET: r.Method tells them apart.
		s.status(w, r)
		return
	case http.MethodHead:
		if s.headFinished(w, r) {
			return
		}
	case http.MethodDelete:
		if s.deleteFinished(w, r) {
			return
		}
	case http.MethodPatch, http.MethodPost:
		if err := s.tempDir(); err != nil {
			s.o.Log.Error("resumable uploads' temp folder", slog.Any("err", err))
			writeJSON(w, r, http.StatusInternalServerError, codeInternal, "the server cannot buffer uploads")
			return
		}
		if rf := s.firstBytes(r); rf != nil {
			w.Header().Set("Tus-Resumable", "1.0.0")
			// The rest of the body is not read.
			w.Header().Set("Connection", "close")
			writeJSON(w, r, rf.status, rf.code, rf.msg)
			return
		}
	}
	jw := &jsonErrors{ResponseWriter: w}
	http.StripPrefix(BasePath, s.h).ServeHTTP(jw, r)
	jw.finish(r)
	// The lock was let go when the handler returned: the lock documents of
	// an upload its final PATCH is done with can go now, and those a request
	// for an upload that does not exist made (tusd locks before it looks).
	uploadID := path.Base(r.URL.Path)
	_, settled := s.settled.LoadAndDelete(uploadID)
	// A terminated upload's too.
	gone := jw.status == http.StatusNotFound && r.Method != http.MethodPost ||
		r.Method == http.MethodDelete && jw.status == http.StatusNoContent
	if _, err := s.locker.NewLock(uploadID); err == nil && (settled || gone) {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), 30*time.Second)
		defer cancel()
		if err := s.locker.Forget(ctx, uploadID); err != nil {
			s.o.Log.Warn("remove the lock of an upload", slog.String("upload", uploadID), slog.Any("err", err))
		}
	}
}

// extensions maps what a client may name its file to the container stored.
var extensions = map[string]video.Container{
	"mp4": video.MP4, "m4v": video.MP4, "mov": video.MOV, "webm": video.WebM, "mkv": video.MKV,
}

// filetypes maps a client's Upload-Metadata filetype to the container.
var filetypes = map[string]video.Container{
	"video/mp4": video.MP4, "video/quicktime": video.MOV, "video/webm": video.WebM,
	"video/x-matroska": video.MKV, "video/matroska": video.MKV,
}

// containerOf is the container a new upload declares: its filename's
// extension, else its filetype.
func containerOf(meta map[string]string) (video.Container, bool) {
	if ext := strings.ToLower(strings.TrimPrefix(path.Ext(meta["filename"]), ".")); ext != "" {
		if c, ok := extensions[ext]; ok {
			return c, true
		}
	}
	c, ok := filetypes[strings.ToLower(strings.TrimSpace(meta["filetype"]))]
	return c, ok
}

// preCreate checks a new upload and names it after its video:
// {video-id}.{ext}, so that its original lands at originals/{video-id}.{ext}.
func (s *Server) preCreate(hook handler.HookEvent) (handler.HTTPResponse, handler.FileInfoChanges, error) {
	info := hook.Upload
	switch {
	case info.SizeIsDeferred:
		return handler.HTTPResponse{}, handler.FileInfoChanges{}, apiError(http.StatusBadRequest, codeBadRequest, "Upload-Length is required")
	case info.Size == 0:
		return handler.HTTPResponse{}, handler.FileInfoChanges{}, apiError(http.StatusBadRequest, codeEmpty, "the file is empty")
	case info.Size > s.o.MaxSize:
		return handler.HTTPResponse{}, handler.FileInfoChanges{}, apiError(http.StatusRequestEntityTooLarge, codeTooLarge, "file too large")
	}
	c, ok := containerOf(info.MetaData)
	if !ok {
		return handler.HTTPResponse{}, handler.FileInfoChanges{}, apiError(http.StatusUnsupportedMediaType, codeUnsupported,
			"not a supported video file: upload MP4, MOV, WebM or MKV (name the file in Upload-Metadata filename)")
	}
	resp, meta := s.stamp(info.MetaData, time.Now())
	return resp, handler.FileInfoChanges{ID: video.NewID() + c.Ext, MetaData: meta}, nil
}

// preFinish runs once the last byte is stored, before the final PATCH is
// answered: the original is put in place, its metadata and job stored, and
// the answer carries the video ID.
func (s *Server) preFinish(hook handler.HookEvent) (handler.HTTPResponse, error) {
	ctx := context.WithoutCancel(hook.Context)
	info := hook.Upload
	// s3store's upload IDs are {object}+{multipart upload}.
	object, _, _ := strings.Cut(info.ID, "+")
	ext := path.Ext(object)
	id := strings.TrimSuffix(object, ext)
	c, ok := extensions[strings.TrimPrefix(ext, ".")]
	if !ok {
		return handler.HTTPResponse{}, fmt.Errorf("finish upload %s: unknown extension", info.ID)
	}
	meta := video.Meta{
		ID:          id,
		Filename:    info.MetaData["filename"], // Commit cleans it
		ContentType: c.ContentType,
		OriginalKey: video.OriginalKey(id, c.Ext),
		CreatedAt:   time.Now().UTC(),
		Size:        info.Size,
	}
	if s.finish != nil {
		if err := s.finish(object, meta.OriginalKey); err != nil {
			return handler.HTTPResponse{}, err
		}
	}
	// The video is stored before tusd's state is removed. A server that
	// stops in between leaves a finished video and a stale .info, which a
	// HEAD or GET answers as finished (the video's metadata is found first)
	// and the expiry sweep removes. The other order would leave, for a stop
	// in between, an original no video points to and no upload state
	// tracks, and a client told 404 that uploads the file again.
	if err := s.commit(ctx, meta); err != nil {
		return handler.HTTPResponse{}, s.giveUp(ctx, info.ID, object, meta, fmt.Errorf("finish upload %s: %w", info.ID, err))
	}
	s.removeState(ctx, object)
	s.settled.Store(info.ID, true)
	s.o.Log.Info("upload stored", slog.String("video_id", id), slog.Int64("bytes", info.Size), slog.String("via", "tus"))
	return handler.HTTPResponse{Header: handler.HTTPHeader{VideoIDHeader: id}}, nil
}

// renameLocal moves a complete local upload to key and removes its .info
// file: one rename, no copy.
func (s *Server) renameLocal(object, key string) error {
	dst, err := s.o.Raw.Files.Path(key)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return fmt.Errorf("finish upload %s: %w", object, err)
	}
	if err := os.Rename(filepath.Join(s.dir, object), dst); err != nil {
		return fmt.Errorf("finish upload %s: %w", object, err)
	}
	return nil
}

// apiError is an error answer shaped like the API's others.
func apiError(status int, code, msg string) handler.Error {
	b, _ := json.Marshal(map[string]string{"error": msg, "code": code})
	return handler.Error{ErrorCode: code, Message: msg, HTTPResponse: handler.HTTPResponse{
		StatusCode: status, Body: string(b) + "\n",
		Header: handler.HTTPHeader{"Content-Type": "application/json"},
	}}
}
