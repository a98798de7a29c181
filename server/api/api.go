// Package api is AssetLab's HTTP API: uploads, watch URLs, status, the library,
// the local backend's signed files, health checks and the built web UI.
package api

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"io/fs"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/assetlab/assetlab/server/jobs"
	"github.com/assetlab/assetlab/server/storage"
	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"
	"github.com/go-chi/cors"
)

// Options configures the API.
type Options struct {
	// Raw holds the originals; Videos the documents, renditions and jobs.
	// Those whose signed URLs this server serves itself (SelfServed: the
	// local backend) are answered under /files/{name}/.
	Raw, Videos storage.Composer
	// AdminToken guards uploads and the library.
	AdminToken string
	// CORSOrigins lists the allowed browser origins ("*" for any).
	CORSOrigins []string
	// PublicURL, if set, is the base of the signed URLs this server serves;
	// otherwise the request's own scheme and host are used.
	PublicURL string
	// URLTTL is the lifetime of presigned URLs.
	URLTTL time.Duration
	// MaxUploadBytes caps an uploaded file.
	MaxUploadBytes int64
	// MaxUploads caps the uploads in flight (0: no cap).
	MaxUploads int
	// ReadTimeout bounds the wait for the body of any request but an upload.
	ReadTimeout time.Duration
	// UploadStall is how long an upload's body may stall before it is cut off.
	UploadStall time.Duration
	// Features are the optional parts of the API this server has, as
	// GET /api/config tells clients.
	Features Features
	// Frontend is the built web UI; nil serves none.
	Frontend fs.FS
	// OnUpload, if set, is called with the ID of each stored upload (it wakes the
	// in-process worker).
	OnUpload func(id string)
	// Resumable, if set, serves resumable uploads (tus) under /api/uploads/;
	// the API checks the token of every request but CORS preflights.
	Resumable http.Handler
	// WorkerProblem, if set, says why the in-process worker cannot work
	// (nil: it can, or there is none); /readyz reports it.
	WorkerProblem func() error
	Log           *slog.Logger
}

// API serves the HTTP API.
type API struct {
	Options
	log       *slog.Logger
	tokenHash [32]byte
	uploads   *uploadLimit
	// workers are the transcode workers' announcements, cached briefly.
	workers *jobs.Roster
}

// New makes the API. The settings in o are taken as the configuration gives
// them (config.Config has their defaults and checks them): none is defaulted
// again here.
func New(o Options) *API {
	if o.Log == nil {
		o.Log = slog.Default()
	}
	return &API{Options: o, log: o.Log, tokenHash: sha256.Sum256([]byte(o.AdminToken)),
		uploads: newUploadLimit(o.MaxUploads),
		workers: &jobs.Roster{Store: o.Videos, TTL: jobs.RosterTTL}}
}

// Handler returns the root handler.
func (a *API) Handler() http.Handler {
	r := chi.NewRouter()
	r.Use(middleware.RequestID, middleware.RealIP, a.logRequests, middleware.Recoverer, a.limitBodyWait)
	r.Use(cors.Handler(cors.Options{
		AllowedOrigins: a.CORSOrigins,
		AllowedMethods: []string{"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"},
		// What browsers, the web UI, the desktop uploader and tus clients
		// (resumable uploads) send; a preflight asking for anything else is
		// refused.
		AllowedHeaders: []string{
			"Accept", "Accept-Language", "Content-Language", "Authorization", "Content-Type", "Range", "X-Requested-With",
			"Tus-Resumable", "Upload-Length", "Upload-Offset", "Upload-Metadata", "Upload-Defer-Length", "Upload-Concat",
		},
		// Players (hls.js) read the range and size of what they fetch,
		// also from the local backend's /files route.
		ExposedHeaders: []string{"Location", "Upload-Offset", "Upload-Length", "Retry-After",
			"Content-Range", "Content-Length", "Accept-Ranges", "ETag", "Upload-Video-Id", "Tus-Resumable", "Upload-Expires"},
		MaxAge: 600,
	}))
	r.Use(headAsGet)

	// Set before the routes, so that the mounted routers have it too.
	r.MethodNotAllowed(a.handle((&routeTable{routes: r}).methodNotAllowed))

	r.Get("/healthz", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})
	r.Get("/readyz", a.handle(a.ready))

	r.Route("/api", func(r chi.Router) {
		r.Get("/config", a.handle(a.clientConfig))
		r.With(a.requireToken).Post("/upload", a.handle(a.streamBody(a.upload)))
		if a.Resumable != nil {
			tus := a.resumable(a.Resumable)
			r.Post("/uploads/", tus.ServeHTTP)
			r.Options("/uploads/", tus.ServeHTTP)
			// HEAD, the tus offset request, is routed as GET (headAsGet).
			for _, m := range []string{http.MethodGet, http.MethodPatch, http.MethodDelete, http.MethodOptions} {
				r.Method(m, "/uploads/{id}", tus)
			}
		}
		r.Mount("/video", a.singleVideoRoutes())
		r.Mount("/videos", a.videoRoutes())
		r.NotFound(a.handle(func(w http.ResponseWriter, r *http.Request) error {
			return errorf(http.StatusNotFound, CodeNotFound, "no such endpoint")
		}))
	})
	for _, s := range a.selfServed() {
		r.Get("/files/"+s.Name()+"/*", func(w http.ResponseWriter, r *http.Request) {
			s.ServeSigned(w, r, chi.URLParam(r, "*"))
		})
	}
	if a.Frontend != nil {
		r.NotFound(spa(a.Frontend))
	}
	return r
}

// singleVideoRoutes are GET /api/video/{id}, /status and /{quality}: a public
// contract, whose answers keep their shape.
func (a *API) singleVideoRoutes() http.Handler {
	r := chi.NewRouter()
	r.Get("/{id}", a.handle(a.originalURL))
	r.Get("/{id}/status", a.handle(a.status))
	r.Get("/{id}/{quality}", a.handle(a.renditionURL))
	r.NotFound(a.handle(malformedPath))
	return r
}

func (a *API) videoRoutes() http.Handler {
	r := chi.NewRouter()
	r.With(a.requireToken).Get("/", a.handle(a.list))
	r.Get("/{id}", a.handle(a.details))
	r.Get("/{id}/hls/{attempt}/*", a.handle(a.hls))
	r.With(a.requireToken).Delete("/{id}", a.handle(a.remove))
	r.NotFound(a.handle(malformedPath))
	return r
}

// requireToken checks "Authorization: Bearer <token>" in constant time.
func (a *API) requireToken(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		auth := r.Header.Get("Authorization")
		scheme, token, _ := strings.Cut(auth, " ")
		given := sha256.Sum256([]byte(strings.TrimSpace(token)))
		ok := strings.EqualFold(scheme, "Bearer") && subtle.ConstantTimeCompare(given[:], a.tokenHash[:]) == 1
		if !ok || a.AdminToken == "" {
			e := errorf(http.StatusUnauthorized, CodeMissingToken, "missing bearer token")
			if auth != "" {
				e = errorf(http.StatusUnauthorized, CodeInvalidToken, "invalid token")
			}
			a.writeError(w, r, e)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// resumable guards the tus endpoint: requireToken for every request but
// OPTIONS (a browser's CORS preflight carries no credentials). tusd moves
// the read deadline on as a PATCH body arrives (its NetworkTimeout), so the
// short deadline and "Connection: close" of limitBodyWait are dropped.
func (a *API) resumable(next http.Handler) http.Handler {
	// A request that brings bytes of a file takes one of the upload slots
	// POST /api/upload takes, so both count against ASSETLAB_MAX_UPLOADS.
	limited := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPatch || (r.Method == http.MethodPost && r.ContentLength != 0 &&
			r.Header.Get("Content-Type") == "application/offset+octet-stream") {
			if !a.uploads.acquire() {
				w.Header().Set("Tus-Resumable", "1.0.0")
				a.writeError(w, r, errBusy)
				return
			}
			defer a.uploads.release()
		}
		next.ServeHTTP(w, r)
	})
	guarded := a.requireToken(limited)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Del("Connection")
		if r.Method == http.MethodOptions {
			next.ServeHTTP(w, r)
			return
		}
		guarded.ServeHTTP(w, r)
	})
}

func (a *API) ready(w http.ResponseWriter, r *http.Request) error {
	ctx, cancel := context.WithTimeout(r.Context(), 3*time.Second)
	defer cancel()
	for _, s := range []storage.Store{a.Raw, a.Videos} {
		if err := s.Ping(ctx); err != nil {
			return &Error{Status: http.StatusServiceUnavailable, Code: CodeStorageUnavailable, Msg: "storage is unreachable", Err: err}
		}
	}
	if a.WorkerProblem != nil {
		if err := a.WorkerProblem(); err != nil {
			// The message is the cause: the log line need not repeat it.
			return errorf(http.StatusServiceUnavailable, CodeTranscoderOff, "the transcoder is off: "+err.Error())
		}
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
	return nil
}

// logRequests logs each request once it is answered.
func (a *API) logRequests(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		ww := middleware.NewWrapResponseWriter(w, r.ProtoMajor)
		next.ServeHTTP(ww, r)
		if r.URL.Path == "/healthz" || strings.HasPrefix(r.URL.Path, "/assets/") {
			return
		}
		a.log.Debug("request",
			slog.String("request_id", middleware.GetReqID(r.Context())),
			slog.String("method", r.Method),
			slog.String("path", r.URL.Path), // never the query: it may hold a signature
			slog.Int("status", ww.Status()),
			slog.Int("bytes", ww.BytesWritten()),
			slog.Duration("took", time.Since(start)))
	})
}
