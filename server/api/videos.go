package api

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"math"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/assetlab/assetlab/server/jobs"
	"github.com/assetlab/assetlab/server/storage"
	"github.com/assetlab/assetlab/server/video"
	"github.com/go-chi/chi/v5"
)

// videoID returns the validated {id} of the route.
func videoID(r *http.Request) (string, error) {
	id := chi.URLParam(r, "id")
	if !video.ValidID(id) {
		return "", errorf(http.StatusBadRequest, CodeMalformedID, "malformed video id: expected a UUID")
	}
	return id, nil
}

// videoMeta validates the route's {id} and reads that video's metadata.
func (a *API) videoMeta(r *http.Request) (video.Meta, error) {
	id, err := videoID(r)
	if err != nil {
		return video.Meta{}, err
	}
	return a.loadMeta(r.Context(), id)
}

// loadMeta reads a video's metadata; an unknown video is a 404.
func (a *API) loadMeta(ctx context.Context, id string) (video.Meta, error) {
	var m video.Meta
	b, err := storage.ReadAll(ctx, a.Videos, video.MetaKey(id))
	if errors.Is(err, storage.ErrNotFound) {
		return m, errorf(http.StatusNotFound, CodeVideoNotFound, "video not found")
	}
	if err != nil {
		return m, err
	}
	return m, json.Unmarshal(b, &m)
}

// presign returns a presigned URL for key: for a store whose URLs this server
// serves, at the address the client reached it at.
func (a *API) presign(r *http.Request, s storage.Composer, key string) (string, error) {
	if s.SelfServed != nil {
		return s.SelfServed.PresignGetAt(r.Context(), a.baseURL(r), key, a.URLTTL)
	}
	return s.PresignGet(r.Context(), key, a.URLTTL)
}

// selfServed lists the stores whose signed URLs this server serves.
func (a *API) selfServed() []storage.SelfServed {
	var list []storage.SelfServed
	seen := map[string]bool{}
	for _, s := range []storage.Composer{a.Raw, a.Videos} {
		if s.SelfServed != nil && !seen[s.SelfServed.Name()] {
			seen[s.SelfServed.Name()] = true
			list = append(list, s.SelfServed)
		}
	}
	return list
}

// baseURL is the server's own address as the client reached it.
func (a *API) baseURL(r *http.Request) string {
	if a.PublicURL != "" {
		return a.PublicURL
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	if p := r.Header.Get("X-Forwarded-Proto"); p == "https" || p == "http" {
		scheme = p
	}
	return scheme + "://" + r.Host
}

// originalURL: GET /api/video/{id} → {"url": presigned URL of the original}.
func (a *API) originalURL(w http.ResponseWriter, r *http.Request) error {
	m, err := a.videoMeta(r)
	if err != nil {
		return err
	}
	u, err := a.sourceURL(r, m, nil)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]string{"url": u})
	return nil
}

// sourceURL is the URL of the original; once the original has been deleted
// (ASSETLAB_DELETE_ORIGINAL), that of the largest rendition. st is the job's
// state if the caller has it.
func (a *API) sourceURL(r *http.Request, m video.Meta, st *jobs.State) (string, error) {
	_, err := a.Raw.Stat(r.Context(), m.OriginalKey)
	if err == nil {
		return a.presign(r, a.Raw, m.OriginalKey)
	}
	if !errors.Is(err, storage.ErrNotFound) {
		return "", err
	}
	if st == nil {
		loaded, err := a.loadJob(r.Context(), m.ID)
		if err != nil {
			return "", err
		}
		st = &loaded
	}
	if res := st.Result; res != nil && res.Status == video.StatusDone && len(res.Renditions) > 0 {
		best := slices.MaxFunc(res.Renditions, func(x, y jobs.Rendition) int { return cmp.Compare(x.Width*x.Height, y.Width*y.Height) })
		return a.presign(r, a.Videos, video.RenditionKey(m.ID, res.Attempt, best.Quality))
	}
	return "", errorf(http.StatusNotFound, CodeOriginalGone, "the original file is gone")
}

// loadJob reads the state of a video's job. A video whose deletion has
// begun (its job ended with a tombstone) is not found.
func (a *API) loadJob(ctx context.Context, id string) (jobs.State, error) {
	st, err := jobs.Load(ctx, a.Videos, id)
	if err == nil && st.Status == jobs.StatusDeleted {
		return st, errorf(http.StatusNotFound, CodeVideoNotFound, "video not found")
	}
	return st, err
}

type statusBody struct {
	Status    string   `json:"status"`
	Qualities []string `json:"qualities,omitempty"`
	Error     string   `json:"error,omitempty"`
	Progress  *int     `json:"progress,omitempty"`
}

func statusOf(st jobs.State) statusBody {
	b := statusBody{Status: st.Status}
	switch st.Status {
	case video.StatusDone:
		b.Qualities = qualities(st.Result)
	case video.StatusError:
		b.Error = st.Result.Error
	case video.StatusProcessing:
		p := int(math.Floor(st.Progress))
		b.Progress = &p
	}
	return b
}

// qualities lists a result's renditions, smallest first. A rendition is
// named by its size ("240p" for a source below the ladder), so every name a
// worker gives is listed, not only the ladder's.
func qualities(res *jobs.Result) []string {
	out := []string{}
	for _, r := range res.Renditions {
		if r.Quality.Short() > 0 {
			out = append(out, string(r.Quality))
		}
	}
	slices.SortFunc(out, func(x, y string) int { return cmp.Compare(video.Quality(x).Short(), video.Quality(y).Short()) })
	return out
}

// status: GET /api/video/{id}/status.
func (a *API) status(w http.ResponseWriter, r *http.Request) error {
	m, err := a.videoMeta(r)
	if err != nil {
		return err
	}
	st, err := a.loadJob(r.Context(), m.ID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, statusOf(st))
	return nil
}

// renditionURL: GET /api/video/{id}/{quality} → {"url"} of a finished rendition.
func (a *API) renditionURL(w http.ResponseWriter, r *http.Request) error {
	id, err := videoID(r)
	if err != nil {
		return err
	}
	q := chi.URLParam(r, "quality")
	if _, ok := video.ParseQuality(q); !ok {
		return errorf(http.StatusBadRequest, CodeUnknownQuality, "unknown quality: expected a name such as 360p, 720p or 1080p")
	}
	if _, err := a.loadMeta(r.Context(), id); err != nil {
		return err
	}
	st, err := a.loadJob(r.Context(), id)
	if err != nil {
		return err
	}
	if st.Status != video.StatusDone || !slices.Contains(qualities(st.Result), q) {
		return errorf(http.StatusNotFound, CodeRenditionNotAvailable, "rendition not available")
	}
	u, err := a.presign(r, a.Videos, video.RenditionKey(id, st.Result.Attempt, video.Quality(q)))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]string{"url": u})
	return nil
}

// Details is the project's own, richer view of a video.
type Details struct {
	ID          string         `json:"id"`
	Status      string         `json:"status"`
	Progress    *int           `json:"progress,omitempty"`
	Error       string         `json:"error,omitempty"`
	Filename    string         `json:"filename,omitempty"`
	ContentType string         `json:"content_type"`
	Size        int64          `json:"size"`
	CreatedAt   time.Time      `json:"created_at"`
	Duration    float64        `json:"duration,omitempty"`
	Width       int            `json:"width,omitempty"`
	Height      int            `json:"height,omitempty"`
	Original    string         `json:"original_url"`
	Poster      string         `json:"poster_url,omitempty"`
	Renditions  []RenditionURL `json:"renditions"`
	// ExpiresAt is when the URLs above stop working.
	ExpiresAt time.Time `json:"urls_expire_at"`
	// Waiting says, while the video is pending, whether any transcode worker
	// is running to take it: WaitingNoWorker or WaitingInLine.
	Waiting string `json:"waiting,omitempty"`
	// HLSURL is the master playlist of the video's adaptive stream, once
	// some of it is published; absent for a video without one (not yet, or
	// transcoded before HLS: play the renditions). Its attempt number
	// changes when another attempt takes the transcode over.
	HLSURL string `json:"hls_url,omitempty"`
	// PlayableSeconds is how much of that stream plays from the start: what
	// is published so far while processing, the duration once done.
	PlayableSeconds float64 `json:"playable_seconds,omitempty"`
}

// Values of Details.Waiting.
const (
	WaitingNoWorker = "no_worker"
	WaitingInLine   = "in_line"
)

// RenditionURL is one playable rendition.
type RenditionURL struct {
	jobs.Rendition
	URL string `json:"url"`
}

func (a *API) describe(r *http.Request, m video.Meta) (Details, error) {
	st, err := a.loadJob(r.Context(), m.ID)
	if err != nil {
		return Details{}, err
	}
	sb := statusOf(st)
	d := Details{
		ID: m.ID, Status: sb.Status, Progress: sb.Progress, Error: sb.Error,
		Filename: m.Filename, ContentType: m.ContentType, Size: m.Size, CreatedAt: m.CreatedAt,
		Renditions: []RenditionURL{},
		ExpiresAt:  time.Now().Add(a.URLTTL).UTC().Truncate(time.Second),
	}
	if d.Original, err = a.sourceURL(r, m, &st); err != nil {
		return d, err
	}
	if d.Status == video.StatusPending {
		// Left out if storage cannot tell: the status matters more.
		if n, err := a.workers.Live(r.Context()); err != nil {
			a.log.Warn("list workers", slog.Any("err", err))
		} else if n == 0 {
			d.Waiting = WaitingNoWorker
		} else {
			d.Waiting = WaitingInLine
		}
	}
	if n, playable, ok := hlsAttempt(st); ok {
		d.HLSURL, d.PlayableSeconds = a.hlsURL(r, m.ID, n), playable
	}
	if res := st.Result; res != nil && res.Status == video.StatusDone {
		d.Duration, d.Width, d.Height = res.Duration, res.Width, res.Height
		if res.Poster {
			if d.Poster, err = a.presign(r, a.Videos, video.PosterKey(m.ID, res.Attempt)); err != nil {
				return d, err
			}
		}
		for _, rend := range res.Renditions {
			u, err := a.presign(r, a.Videos, video.RenditionKey(m.ID, res.Attempt, rend.Quality))
			if err != nil {
				return d, err
			}
			d.Renditions = append(d.Renditions, RenditionURL{Rendition: rend, URL: u})
		}
		slices.SortFunc(d.Renditions, func(x, y RenditionURL) int { return cmp.Compare(x.Height*x.Width, y.Height*y.Width) })
	}
	return d, nil
}

// details: GET /api/videos/{id}.
func (a *API) details(w http.ResponseWriter, r *http.Request) error {
	m, err := a.videoMeta(r)
	if err != nil {
		return err
	}
	d, err := a.describe(r, m)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, d)
	return nil
}

// list: GET /api/videos (token) → {"videos": [...]}, newest first.
func (a *API) list(w http.ResponseWriter, r *http.Request) error {
	objs, err := a.Videos.List(r.Context(), video.MetaPrefix)
	if err != nil {
		return err
	}
	var ids []string
	for _, o := range objs {
		if id, ok := video.IDFromMetaKey(o.Key); ok {
			ids = append(ids, id)
		}
	}
	out := make([]Details, len(ids))
	errs := make([]error, len(ids))
	var wg sync.WaitGroup
	sem := make(chan struct{}, 8)
	for i, id := range ids {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			m, err := a.loadMeta(r.Context(), id)
			if err == nil {
				out[i], err = a.describe(r, m)
			}
			errs[i] = err
		}()
	}
	wg.Wait()
	videos := make([]Details, 0, len(ids))
	for i := range ids {
		var e *Error
		if errors.As(errs[i], &e) && e.Status == http.StatusNotFound {
			continue // deleted while listing
		}
		if errs[i] != nil {
			return errs[i]
		}
		videos = append(videos, out[i])
	}
	slices.SortFunc(videos, func(x, y Details) int { return y.CreatedAt.Compare(x.CreatedAt) })
	writeJSON(w, http.StatusOK, map[string]any{"videos": videos})
	return nil
}

// remove: DELETE /api/videos/{id} (token) deletes a video and everything made
// from it. A transcode running on it stops and removes what it made (see
// jobs.Delete). A deletion that was cut short (the video already answers 404)
// is finished by deleting again.
func (a *API) remove(w http.ResponseWriter, r *http.Request) error {
	id, err := videoID(r)
	if err != nil {
		return err
	}
	err = jobs.Delete(context.WithoutCancel(r.Context()), a.Raw, a.Videos, id)
	if errors.Is(err, jobs.ErrNoVideo) {
		return errorf(http.StatusNotFound, CodeVideoNotFound, "video not found")
	}
	if err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
