package api

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/assetlab/assetlab/server/jobs"
	"github.com/assetlab/assetlab/server/storage"
	"github.com/assetlab/assetlab/server/video"
	"github.com/go-chi/chi/v5"
)

// The adaptive stream of a video is served through the API, not as signed
// storage URLs in the playlists: a playlist names everything relative to
// itself, so a player resolves every URI to this same route, and each
// segment it fetches gets a URL signed just then. A viewer whose first
// links would have expired keeps playing, and the playlists are served as
// the worker wrote them.

// hlsURL is the address of attempt n's master playlist of video id.
func (a *API) hlsURL(r *http.Request, id string, n int) string {
	return strings.TrimRight(a.baseURL(r), "/") + "/api/videos/" + id + "/hls/" + strconv.Itoa(n) + "/" + video.MasterPlaylist
}

// hlsAttempt is the attempt whose stream a viewer of a job in state st
// plays, and how many seconds of it play from the start: the finished
// attempt's, once the job is done with a stream; before, the latest
// attempt's once it has published some (its lease may have lapsed: what it
// published stays consistent, it just stops growing). ok is false for a job
// with no stream to play (not yet, or never: transcoded before HLS, failed).
func hlsAttempt(st jobs.State) (n int, playable float64, ok bool) {
	if res := st.Result; res != nil {
		if res.Status == video.StatusDone && res.HLS {
			return res.Attempt, res.Duration, true
		}
		return 0, 0, false
	}
	if l := st.Latest; l != nil && l.State == jobs.AttemptRunning && l.Playable > 0 {
		return l.N, l.Playable, true
	}
	return 0, 0, false
}

// hls: GET /api/videos/{id}/hls/{attempt}/{name...}, a file of an attempt's
// stream (no token, like the other watch routes). A playlist is read and
// served as it is; anything else (a segment, a rendition's MP4) is a
// redirect to a freshly signed URL, without a storage read: the player
// sends its Range header to the storage URL, which answers it.
func (a *API) hls(w http.ResponseWriter, r *http.Request) error {
	id, err := videoID(r)
	if err != nil {
		return err
	}
	n, ok := attemptNumber(chi.URLParam(r, "attempt"))
	if !ok {
		return errorf(http.StatusBadRequest, CodeBadRequest, "malformed stream path: the attempt is a whole number from 1")
	}
	name := chi.URLParam(r, "*")
	if !video.ValidHLSName(name) {
		return errorf(http.StatusBadRequest, CodeBadRequest,
			"malformed stream path: expected master.m3u8, {quality}.m3u8, {quality}.mp4, {quality}/init.mp4 or {quality}/{n}.m4s")
	}
	key := video.HLSKey(id, n, name)
	if strings.HasSuffix(name, ".m3u8") {
		return a.playlist(w, r, key)
	}
	u, err := a.presign(r, a.Videos, key)
	if err != nil {
		return err
	}
	// Never cached: the URL it points to expires.
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Location", u)
	w.WriteHeader(http.StatusFound)
	return nil
}

// playlist serves the playlist at key as it is, in one storage read. A
// playlist grows while the transcode runs, so it is revalidated on every
// use (no-cache); its ETag makes that cheap for the client.
func (a *API) playlist(w http.ResponseWriter, r *http.Request, key string) error {
	rc, info, err := a.Videos.Get(r.Context(), key)
	if errors.Is(err, storage.ErrNotFound) {
		return errorf(http.StatusNotFound, CodeRenditionNotAvailable, "stream not available: no such playlist")
	}
	if err != nil {
		return err
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/vnd.apple.mpegurl")
	w.Header().Set("Cache-Control", "no-cache")
	if info.ETag != "" {
		w.Header().Set("ETag", info.ETag)
	}
	// No modification time: S3 gives whole seconds, and a playlist
	// rewritten within the second must not pass for unchanged.
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(b))
	return nil
}

// attemptNumber parses an attempt number as keys write it: digits, from 1,
// no sign or leading zero.
func attemptNumber(s string) (int, bool) {
	n, err := strconv.Atoi(s)
	return n, err == nil && n > 0 && strconv.Itoa(n) == s
}
