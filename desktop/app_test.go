package desktop

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/assetlab/assetlab/desktop/upload"
	"github.com/assetlab/assetlab/server/app/apptest"
	"github.com/assetlab/assetlab/worker/mediatest"
)

// The bound methods, driven as the UI drives them, against real servers: the
// one built into the app on first run, then another one set in the settings.
func TestBoundMethods(t *testing.T) {
	dir := isolateXDG(t)
	t.Setenv("PORT", "0")
	t.Setenv("ASSETLAB_LOG_LEVEL", "warn")
	clip := mediatest.MakeNamed(t, mediatest.Clip{Width: 640, Height: 360, Seconds: 2, Audio: true}, "holiday.mp4")

	settingsPath, err := SettingsFile()
	if err != nil {
		t.Fatal(err)
	}
	a := NewApp(settingsPath)
	progress := recordProgress(a)
	a.openFile = func(string) (string, error) { return clip, nil }
	if err := a.startup(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer a.shutdown(context.Background())

	// First run: a server inside the app, on local storage.
	info := a.Info()
	if !info.Local || !strings.HasPrefix(info.ServerURL, "http://127.0.0.1:") || info.Token == "" {
		t.Fatalf("Info on first run: %+v, want the built-in server", info)
	}
	if _, err := os.Stat(filepath.Join(dir, "data", "assetlab", "raw")); err != nil {
		t.Errorf("the built-in server does not store under the XDG data folder: %v", err)
	}

	path, err := a.ChooseFile()
	if err != nil || path != clip {
		t.Fatalf("ChooseFile: %q, %v", path, err)
	}
	res, err := a.Upload(path)
	if err != nil {
		t.Fatalf("Upload: %v", err)
	}
	if events := progress(); len(events) == 0 || events[len(events)-1].Percent != 100 {
		t.Errorf("progress events %v, want some ending at 100%%", events)
	}
	var st upload.Status
	apptest.Eventually(t, 60*time.Second, "the video to finish", func() bool {
		if st, err = a.Status(res.ID); err != nil {
			t.Fatalf("Status: %v", err)
		}
		return st.Status == "done" || st.Status == "error"
	})
	if st.Status != "done" || strings.Join(st.Qualities, ",") != "360p" {
		t.Errorf("Status: %+v, want done with 360p", st)
	}
	if _, err := a.Status("not-an-id"); err == nil {
		t.Error("Status of a malformed ID: no error")
	}

	// Settings: a bad address is refused; a good one is kept (0600) and used.
	if err := a.SaveSettings("localhost:3000", "x"); err == nil {
		t.Error("SaveSettings accepted an address without a scheme")
	}
	remote := apptest.Start(t, "local")
	if err := a.SaveSettings(remote.URL, apptest.Token); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(settingsPath); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("settings file: %v %v, want mode 0600", fi.Mode().Perm(), err)
	}
	if info := a.Info(); info.Local || info.ServerURL != remote.URL {
		t.Errorf("Info after SaveSettings: %+v", info)
	}
	res2, err := a.Upload(clip)
	if err != nil {
		t.Fatalf("Upload to the configured server: %v", err)
	}
	if code, _ := remote.Get("/api/video/" + res2.ID + "/status"); code != 200 {
		t.Errorf("the upload did not reach the configured server: %d", code)
	}
	again, _ := LoadSettings(settingsPath)
	if again.ServerURL != remote.URL || again.Token != apptest.Token {
		t.Errorf("settings read back: %+v", again)
	}
}

func TestCancelUploadFromTheUI(t *testing.T) {
	remote := apptest.Start(t, "local")
	dir := isolateXDG(t)
	big := filepath.Join(dir, "big.mp4")
	f, _ := os.Create(big)
	f.Write(apptest.MP4Head)
	f.Truncate(800 << 20)
	f.Close()
	a := NewApp(filepath.Join(dir, "desktop.json"))
	if err := a.SaveSettings(remote.URL, apptest.Token); err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	a.emit = func(name string, data any) {
		if p, ok := data.(upload.Progress); ok && p.Sent > 10<<20 {
			once.Do(a.CancelUpload) // as the Cancel button does
		}
	}
	_, err := a.Upload(big)
	if err == nil || !strings.Contains(err.Error(), "cancelled") {
		t.Fatalf("got %v, want the upload cancelled", err)
	}
	// Cancelled for good: the server ends it, the app forgets it.
	if pending, err := a.PendingUploads(); err != nil || len(pending) != 0 {
		t.Errorf("PendingUploads after Cancel: got %+v, %v; want none", pending, err)
	}
	assertNothingLeft(t, remote)
}

// The window's context comes while Wails already calls the app from other
// goroutines (a second launch's handoff, bound methods): with -race, reading
// the base context as startup keeps it is no data race.
func TestStartupContextNoRace(t *testing.T) {
	path := filepath.Join(t.TempDir(), "settings.json")
	if err := (Settings{ServerURL: "http://127.0.0.1:9"}).Save(path); err != nil {
		t.Fatal(err)
	}
	a := NewApp(path)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 0; i < 1000; i++ {
			a.baseContext()
		}
	}()
	if err := a.startup(ctx); err != nil {
		t.Fatal(err)
	}
	<-done
	if got := a.baseContext(); got != ctx {
		t.Errorf("got base context %v, want the window's", got)
	}
}

// While the built-in server stops for another one, no upload begins: the
// stop waits only for the upload it cancelled, and a queued one does not
// slip in to the server going away.
func TestBeginRefusedWhileSwitching(t *testing.T) {
	a := NewApp(filepath.Join(t.TempDir(), "settings.json"))
	a.settings.ServerURL = "http://127.0.0.1:9"
	a.switching = true
	if _, _, done, err := a.begin(); err == nil {
		done()
		t.Fatal("got an upload begun while the built-in server stops, want it refused")
	} else if !strings.Contains(err.Error(), "stops for another server") {
		t.Errorf("got %q, want the built-in server stopping for another server", err)
	}
	a.switching = false
	info, _, done, err := a.begin()
	if err != nil {
		t.Fatalf("got %v once the switch is over, want the upload begun", err)
	}
	defer done()
	if info.ServerURL != "http://127.0.0.1:9" {
		t.Errorf("got server %q, want http://127.0.0.1:9", info.ServerURL)
	}
}
