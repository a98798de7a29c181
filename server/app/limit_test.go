package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/assetlab/assetlab/server/app/apptest"
	"github.com/assetlab/assetlab/server/jobs"
	"github.com/assetlab/assetlab/server/storage"
	"github.com/assetlab/assetlab/server/video"
)

// With ASSETLAB_MAX_UPLOADS=2 and two uploads in flight, a third is refused
// with 503 and Retry-After before a byte of its body is read, leaving nothing
// behind; the two complete byte-identical, and then uploads are accepted again.
func TestMaxUploadsInFlight(t *testing.T) {
	for _, backend := range apptest.Backends {
		t.Run(backend, func(t *testing.T) {
			e := apptest.Start(t, backend, "ASSETLAB_MAX_UPLOADS=2")
			type upload struct {
				content []byte
				body    *io.PipeWriter
				done    chan response
			}
			var ups []*upload
			for range 2 {
				u := &upload{content: apptest.VideoBytes(12<<20 + 321), done: make(chan response, 1)}
				pr, pw := io.Pipe()
				u.body = pw
				form := newStreamingForm(pw)
				go func() { u.done <- post(e.URL, form.contentType(), pr) }()
				// More than a part, so that the upload is under way in storage.
				go func() {
					f := form.file("clip.mp4")
					if _, err := f.Write(u.content[:6<<20]); err != nil {
						pw.CloseWithError(err)
					}
				}()
				ups = append(ups, u)
				t.Cleanup(func() { pw.CloseWithError(io.ErrClosedPipe) })
			}
			apptest.Eventually(t, 30*time.Second, "two uploads under way", func() bool { return len(e.InFlight()) >= 2 })

			// The third sends headers and no body at all: only an answer that
			// does not read the body can come back.
			pr, pw := io.Pipe()
			defer pw.Close()
			third := make(chan response, 1)
			go func() { third <- post(e.URL, newStreamingForm(pw).contentType(), pr) }()
			var r response
			select {
			case r = <-third:
			case <-time.After(30 * time.Second):
				t.Fatal("third upload: no answer within 30 s (is the body being read?)")
			}
			if r.err != nil || r.code != http.StatusServiceUnavailable || r.retryAfter == "" ||
				!strings.Contains(r.body["error"], "too many uploads") {
				t.Fatalf("third upload: got %d %v, Retry-After %q (%v), want 503 with Retry-After", r.code, r.body, r.retryAfter, r.err)
			}
			if open := e.InFlight(); len(open) != 2 {
				t.Errorf("after the refusal: got unfinished writes %v, want the two uploads' only", open)
			}

			var want []string
			for i, u := range ups {
				go func() {
					rest := u.content[6<<20:]
					_, err := u.body.Write(rest)
					if err == nil {
						_, err = io.WriteString(u.body, "\r\n--"+newStreamingForm(nil).boundary+"--\r\n")
					}
					u.body.CloseWithError(err)
				}()
				var r response
				select {
				case r = <-u.done:
				case <-time.After(2 * time.Minute):
					t.Fatalf("upload %d: no answer within 2 minutes", i+1)
				}
				if r.err != nil || r.code != http.StatusCreated {
					t.Fatalf("upload %d: got %d %v (%v), want 201", i+1, r.code, r.body, r.err)
				}
				id, key := r.body["id"], r.body["key"]
				got, err := storage.ReadAll(context.Background(), e.Server.Stores().Raw, key)
				if err != nil || !bytes.Equal(got, u.content) {
					t.Errorf("upload %d: stored %d bytes (%v), want the %d sent", i+1, len(got), err, len(u.content))
				}
				want = append(want, jobs.QueueKey(id), key, video.MetaKey(id))
			}

			// The slots are free again.
			up := e.UploadOK(apptest.VideoBytes(1000))
			want = append(want, jobs.QueueKey(up.ID), up.Key, video.MetaKey(up.ID))
			slices.Sort(want)
			e.AssertClean(want, 10*time.Second)
		})
	}
}

type response struct {
	code       int
	retryAfter string
	body       map[string]string
	err        error
}

// post sends an upload with the token and reads the answer.
func post(base, contentType string, body io.Reader) response {
	req := apptest.UploadRequest(base, contentType, body)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return response{err: err}
	}
	defer resp.Body.Close()
	r := response{code: resp.StatusCode, retryAfter: resp.Header.Get("Retry-After")}
	raw, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(raw, &r.body); err != nil {
		r.err = err
	}
	return r
}
