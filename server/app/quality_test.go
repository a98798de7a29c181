package app_test

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/assetlab/assetlab/server/app/apptest"
	"github.com/assetlab/assetlab/worker/mediatest"
)

// A source smaller than the ladder's lowest rung gets one rendition named by
// what it is: a 426×240 clip gives "240p" at 426×240, and the single-video
// routes serve it under that name with their JSON shape unchanged.
func TestSmallSourceRenditionIsNamedBySize(t *testing.T) {
	t.Cleanup(mediatest.Cleanup) // the package's only clip
	clip := mediatest.Make(t, mediatest.Clip{Width: 426, Height: 240, Seconds: 2, Audio: true})
	content, err := os.ReadFile(clip)
	if err != nil {
		t.Fatal(err)
	}
	for _, backend := range apptest.Backends {
		t.Run(backend, func(t *testing.T) {
			e := apptest.Start(t, backend, "ASSETLAB_WORKERS=1")
			id := e.UploadID(content)
			if st := e.WaitFinal(id, 3*time.Minute); st.Status != "done" {
				t.Fatalf("transcode: status %+v, want done", st)
			}
			runAll(t, e.URL, map[string]string{"id": id}, nil, []scenario{
				{name: "status", method: "GET", path: "/api/video/{id}/status", status: 200,
					keys: []string{"status", "qualities"}, has: []string{`"qualities":["240p"]`}},
				{name: "240p", method: "GET", path: "/api/video/{id}/240p", status: 200, keys: []string{"url"}},
				{name: "360p was not made", method: "GET", path: "/api/video/{id}/360p", status: 404, code: "rendition_not_available"},
				{name: "not a quality name", method: "GET", path: "/api/video/{id}/240P", status: 400, code: "unknown_quality"},
				{name: "leading zero", method: "GET", path: "/api/video/{id}/0240p", status: 400, code: "unknown_quality"},
				{name: "details", method: "GET", path: "/api/videos/{id}", status: 200,
					has: []string{`"quality":"240p","width":426,"height":240`}},
			})
			// The rendition is what its name says.
			var r apptest.URLBody
			e.GetInto("/api/video/"+id+"/240p", &r)
			file := filepath.Join(t.TempDir(), "240p.mp4")
			if err := os.WriteFile(file, apptest.Fetch(t, r.URL), 0o644); err != nil {
				t.Fatal(err)
			}
			if info := mediatest.Probe(t, file); info.Width != 426 || info.Height != 240 {
				t.Errorf("the 240p rendition is %dx%d, want 426x240", info.Width, info.Height)
			}
		})
	}
}
