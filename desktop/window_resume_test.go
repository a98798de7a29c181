package desktop

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/assetlab/assetlab/desktop/upload"
	"github.com/assetlab/assetlab/server/app/apptest"
)

// The real app, closed mid-upload and opened again, offers the upload on its
// upload page; pressing Resume finishes it. Screenshot in
// test-artifacts/desktop/resume-offer.png.
func TestResumeOfferUnderXvfb(t *testing.T) {
	bin := appBin(t)
	s := newScreen(t, 1280, 900)

	// The built-in server keeps its port from one start to the next (3000
	// when free; here one picked for the test), so its uploads stay
	// resumable.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
	l.Close()
	dir := t.TempDir()
	env := []string{"PORT=" + port, "XDG_STATE_HOME=" + filepath.Join(dir, "state")}
	app, url := startApp(t, bin, s.display, dir, env...)

	// An upload to the app's server, cut off at half, as when the app
	// closes mid-upload.
	clip := filepath.Join(dir, "holiday.mp4")
	const size = 24 << 20
	apptest.WriteVideoFile(t, clip, size, 5)
	statePath := filepath.Join(dir, "state", "assetlab", "uploads.json")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// The app names its own server so (Info), and keeps uploads by server.
	server := "http://127.0.0.1:" + port
	r := &upload.Resumable{Server: server, Token: adminToken(t, dir), StatePath: statePath,
		Client: &http.Client{Transport: &patchCounter{stopAt: size / 2, stop: cancel}}}
	if _, err := r.Upload(ctx, clip, nil); code(err) != upload.CodeCancelled {
		t.Fatalf("upload cut off at half: got %v, want it cancelled", err)
	}
	// The server lets go of the upload once it has read what came (a
	// server killed before that holds it for its lock's lease).
	pending, err := r.Pending()
	if err != nil || len(pending) != 1 {
		t.Fatalf("state file: got %+v, %v; want one upload", pending, err)
	}
	apptest.Eventually(t, 60*time.Second, "the server to answer HEAD", func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_, err := r.Offset(ctx, pending[0].URL)
		return err == nil
	})
	app.Process.Kill()
	app.Wait()

	_, again := startApp(t, bin, s.display, dir, env...)
	if again != url {
		t.Fatalf("the built-in server moved from %s to %s", url, again)
	}
	var x, y int
	shot, found := s.waitShot("resume-offer.png", 30*time.Second, time.Second, func(path string) bool {
		// Below the header, whose Open button is blue too.
		var ok bool
		x, y, ok = solidBox(t, path, accent, 130)
		return ok
	})
	if !found {
		t.Fatalf("the upload page shows no Resume button; see %s", shot)
	}
	s.x("xdotool", "mousemove", strconv.Itoa(x), strconv.Itoa(y), "click", "1")
	// Resumed: the server ends up with the video, and the app forgets the
	// upload.
	apptest.Eventually(t, 60*time.Second, "the resumed upload to finish", func() bool {
		pending, err = r.Pending()
		return err == nil && len(pending) == 0
	})
	req, _ := http.NewRequest(http.MethodGet, server+"/api/videos", nil)
	req.Header.Set("Authorization", "Bearer "+r.Token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var list struct {
		Videos []struct {
			ID string `json:"id"`
		} `json:"videos"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&list); err != nil || len(list.Videos) != 1 {
		t.Errorf("videos on the server after Resume: %+v, %v; want one", list, err)
	}
}

// solidBox is the middle of the first solid block of a colour (a filled
// button, not text or a link's underline) below the row top: the first run
// of at least 20 rows in which at least 40 pixels match.
func solidBox(t *testing.T, path string, match func(r, g, b int) bool, top int) (x, y int, ok bool) {
	rows := map[int][]int{}
	pixels(t, path, func(px, py, r, g, b int) {
		if match(r, g, b) {
			rows[py] = append(rows[py], px)
		}
	})
	y0, y1 := -1, -1
	for py := top / 2 * 2; py < 4000 && y1-y0 < 20; py += 2 {
		if len(rows[py]) < 20 { // every other column: 40 pixels
			y0, y1 = -1, -1
			continue
		}
		if y0 < 0 {
			y0 = py
		}
		y1 = py
	}
	if y0 < 0 || y1-y0 < 20 {
		return 0, 0, false
	}
	for py := y1 + 2; len(rows[py]) >= 20; py += 2 {
		y1 = py
	}
	xs := rows[(y0+y1)/2/2*2]
	if len(xs) == 0 {
		xs = rows[y0]
	}
	return (xs[0] + xs[len(xs)-1]) / 2, (y0 + y1) / 2, true
}
