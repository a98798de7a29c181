package desktop

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/assetlab/assetlab/desktop/upload"
	"github.com/assetlab/assetlab/server/app/apptest"
)

// Saving another server checks it first, against real servers where one can
// say so: on failure nothing is saved, the app stays on the server it had,
// and the error says why in words that tell the cases apart.
func TestSaveSettingsChecksTheServer(t *testing.T) {
	isolateXDG(t)
	t.Setenv("PORT", "0")
	t.Setenv("ASSETLAB_LOG_LEVEL", "warn")
	real := apptest.Start(t, "local")
	configJSON := apptest.Fetch(t, real.URL+"/api/config")

	// A port nothing listens on.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + l.Addr().String()
	l.Close()

	fake := func(h http.HandlerFunc) string {
		s := httptest.NewServer(h)
		t.Cleanup(s.Close)
		return s.URL
	}
	// Another web server: a page for every path.
	website := fake(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		io.WriteString(w, "<html><body>Welcome</body></html>")
	})
	// An AssetLab server behind a proxy whose storage is down.
	failing := fake(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/api/config" {
			w.Write(configJSON)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusServiceUnavailable)
		io.WriteString(w, `{"error":"storage is unavailable","code":"storage_unavailable"}`)
	})
	// A gateway with nothing behind it.
	gateway := fake(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "bad gateway", http.StatusBadGateway)
	})
	// An address that takes the connection and never answers.
	hang := make(chan struct{})
	silent := fake(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-hang:
		case <-r.Context().Done():
		}
	})
	defer close(hang)
	old := checkTimeout
	checkTimeout = 2 * time.Second
	t.Cleanup(func() { checkTimeout = old })

	settingsPath := filepath.Join(t.TempDir(), "desktop.json")
	a := NewApp(settingsPath)
	if err := a.startup(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer a.shutdown(context.Background())
	before := a.Info()
	saved, _ := os.ReadFile(settingsPath)

	for _, tc := range []struct {
		name, server, token string
		code                string
		status              int
		has                 string
	}{
		{"nothing listens", closed, apptest.Token, CheckUnreachable, 0, "cannot be reached"},
		{"no answer in time", silent, apptest.Token, CheckUnreachable, 0, "did not answer within 2 seconds"},
		{"another web server", website, apptest.Token, CheckNotAssetLab, 200, "not an AssetLab server"},
		{"wrong token", real.URL, "not-the-token", CheckTokenRefused, 401, "refused the upload token"},
		{"storage down", failing, apptest.Token, CheckHTTPError, 503, "(HTTP 503 Service Unavailable): storage is unavailable"},
		{"bad gateway", gateway, apptest.Token, CheckHTTPError, 502, "HTTP 502"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			start := time.Now()
			err := a.SaveSettings(tc.server, tc.token)
			var ce *CheckError
			if !errors.As(err, &ce) {
				t.Fatalf("got %v, want a CheckError %s", err, tc.code)
			}
			if ce.Code != tc.code || ce.Status != tc.status || !strings.Contains(err.Error(), tc.has) {
				t.Errorf("got %s %d %q, want %s %d and %q", ce.Code, ce.Status, err, tc.code, tc.status, tc.has)
			}
			if !strings.HasPrefix(err.Error(), "Not saved: ") {
				t.Errorf("got %q, want it to say nothing was saved", err)
			}
			if d := time.Since(start); d > 30*time.Second {
				t.Errorf("the check took %v, want it bounded", d)
			}
			if got, _ := os.ReadFile(settingsPath); string(got) != string(saved) {
				t.Errorf("settings file: got %s, want it unchanged: %s", got, saved)
			}
			if got := a.Info(); got != before {
				t.Errorf("Info: got %+v, want the app still on %+v", got, before)
			}
		})
	}

	// The real server with its token is taken, with or without a final slash.
	if err := a.SaveSettings(real.URL+"/", apptest.Token); err != nil {
		t.Fatalf("SaveSettings of a good server: %v", err)
	}
	if got, _ := LoadSettings(settingsPath); got.ServerURL != real.URL+"/" || got.Token != apptest.Token {
		t.Errorf("settings read back: got %+v, want %s", got, real.URL)
	}
}

// The built-in server's port is chosen once (3000 if free, else one of
// 3001–3100, else any) and kept in the settings, so that its LAN address stays the same; a kept port
// busy at launch gives way to another, which is kept in turn. PORT in the
// environment wins and is not kept.
func TestBuiltInServerKeepsItsPort(t *testing.T) {
	isolateXDG(t)
	t.Setenv("PORT", "")
	t.Setenv("ASSETLAB_LOG_LEVEL", "warn")
	settingsPath := filepath.Join(t.TempDir(), "desktop.json")

	run := func() (port, movedFrom int) {
		t.Helper()
		a := NewApp(settingsPath)
		if err := a.startup(context.Background()); err != nil {
			t.Fatal(err)
		}
		defer a.shutdown(context.Background())
		info := a.Info()
		if !info.Local {
			t.Fatalf("Info: got %+v, want the built-in server", info)
		}
		_, p, _ := strings.Cut(strings.TrimPrefix(info.ServerURL, "http://"), ":")
		fmt.Sscan(p, &port)
		return port, info.PortMovedFrom
	}
	kept := func() int {
		t.Helper()
		s, err := LoadSettings(settingsPath)
		if err != nil {
			t.Fatal(err)
		}
		return s.Port
	}

	free3000 := false
	if l, err := net.Listen("tcp", ":3000"); err == nil {
		l.Close()
		free3000 = true
	}
	first, moved := run()
	if free3000 && first != 3000 {
		t.Errorf("first run: got port %d, want 3000, which was free", first)
	}
	if first == 0 || kept() != first || moved != 0 {
		t.Fatalf("first run: got port %d, kept %d, moved from %d; want the port kept, not moved", first, kept(), moved)
	}

	if again, moved := run(); again != first || moved != 0 || kept() != first {
		t.Errorf("second run: got port %d (moved from %d), kept %d; want %d again", again, moved, kept(), first)
	}

	busy, err := net.Listen("tcp", fmt.Sprintf(":%d", first))
	if err != nil {
		t.Fatal(err)
	}
	other, moved := run()
	busy.Close()
	// Not from the OS's ephemeral range, where an outgoing connection may
	// take it before the next launch.
	if other < 3000 || other > 3100 {
		t.Errorf("kept port busy: got port %d, want one of 3000–3100", other)
	}
	if other == first || other == 0 || kept() != other || moved != first {
		t.Errorf("kept port busy: got port %d (moved from %d), kept %d; want another than %d, kept, moved from it",
			other, moved, kept(), first)
	}
	if again, _ := run(); again != other {
		t.Errorf("after the move: got port %d, want %d", again, other)
	}

	t.Setenv("PORT", "0")
	if p, _ := run(); p == other || kept() != other {
		t.Errorf("with PORT=0: got port %d and kept %d, want any port and %d still kept", p, kept(), other)
	}
}

// Using another server stops the built-in one, after stopping an upload to
// it: its port refuses connections. Going back to it starts it again, on
// its kept port.
func TestSwitchingServersStopsTheBuiltInOne(t *testing.T) {
	dir := isolateXDG(t)
	t.Setenv("PORT", "")
	t.Setenv("ASSETLAB_LOG_LEVEL", "warn")
	remote := apptest.Start(t, "local")

	// Keep a free port in the settings, so the test does not take 3000 (nor
	// one of the OS's ephemeral range, which outgoing connections may take).
	port := freePort("", 3099)
	if port == 0 {
		t.Fatal("no free port in 3001–3100")
	}
	settingsPath := filepath.Join(dir, "desktop.json")
	if err := (Settings{Port: port}).Save(settingsPath); err != nil {
		t.Fatal(err)
	}
	a := NewApp(settingsPath)
	if err := a.startup(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer a.shutdown(context.Background())
	if info := a.Info(); !info.Local || info.ServerURL != fmt.Sprintf("http://127.0.0.1:%d", port) {
		t.Fatalf("Info: got %+v, want the built-in server on port %d", info, port)
	}

	// A big upload to the built-in server is under way.
	big := filepath.Join(dir, "big.mp4")
	f, _ := os.Create(big)
	f.Write(apptest.MP4Head)
	f.Truncate(800 << 20)
	f.Close()
	sending := make(chan struct{}, 1)
	a.emit = func(name string, data any) {
		if p, ok := data.(upload.Progress); ok && p.Sent > 10<<20 {
			select {
			case sending <- struct{}{}:
			default:
			}
		}
	}
	uploaded := make(chan error, 1)
	go func() {
		_, err := a.Upload(big)
		uploaded <- err
	}()
	select {
	case <-sending:
	case err := <-uploaded:
		t.Fatalf("the upload ended before the switch: %v", err)
	case <-time.After(60 * time.Second):
		t.Fatal("the upload did not start")
	}

	if err := a.SaveSettings(remote.URL, apptest.Token); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-uploaded:
		if err == nil || !strings.Contains(err.Error(), "offered again when you go back to the built-in server") {
			t.Errorf("the upload to the built-in server: got %v, want it stopped by the switch, saying so", err)
		}
	case <-time.After(10 * time.Second):
		t.Error("the upload to the built-in server is still running after the switch")
	}
	for _, addr := range []string{fmt.Sprintf("127.0.0.1:%d", port), fmt.Sprintf("[::1]:%d", port)} {
		if c, err := net.DialTimeout("tcp", addr, 5*time.Second); err == nil {
			c.Close()
			t.Errorf("%s takes connections after switching to another server, want them refused", addr)
		}
	}
	if info := a.Info(); info.Local || info.ServerURL != remote.URL || info.LANURL != "" {
		t.Errorf("Info after the switch: got %+v, want %s", info, remote.URL)
	}

	if err := a.SaveSettings("", ""); err != nil {
		t.Fatal(err)
	}
	info := a.Info()
	if !info.Local || info.ServerURL != fmt.Sprintf("http://127.0.0.1:%d", port) {
		t.Fatalf("Info after going back: got %+v, want the built-in server on port %d", info, port)
	}
	resp, err := http.Get(info.ServerURL + "/healthz")
	if err != nil {
		t.Fatalf("the built-in server after going back: %v", err)
	}
	resp.Body.Close()
	if got, _ := LoadSettings(settingsPath); got.Port != port || got.ServerURL != "" {
		t.Errorf("settings after going back: got %+v, want port %d kept", got, port)
	}
	// Stopped, not cancelled: the upload can go on now that the built-in
	// server is back at the same address.
	if pending, err := a.PendingUploads(); err != nil || len(pending) != 1 || pending[0].Sent <= 0 {
		t.Errorf("PendingUploads: got %+v, %v; want the stopped upload, part sent", pending, err)
	}
}

// Saving another server keeps the rest of the settings as they are when it
// is saved, not as they were when its check began: a port the built-in
// server kept meanwhile is not lost.
func TestSaveSettingsKeepsAPortSavedDuringTheCheck(t *testing.T) {
	path := filepath.Join(t.TempDir(), "settings.json")
	a := NewApp(path)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if r.URL.Path == "/api/config" {
			// What startLocal does as it gets its port.
			a.mu.Lock()
			s := a.settings
			s.Port = 3005
			if err := s.Save(path); err != nil {
				t.Error(err)
			}
			a.settings = s
			a.mu.Unlock()
			io.WriteString(w, `{"max_upload_bytes":1000,"qualities":[],"features":{}}`)
			return
		}
		io.WriteString(w, `{"videos":[]}`)
	}))
	defer srv.Close()
	if err := a.SaveSettings(srv.URL, "tok"); err != nil {
		t.Fatal(err)
	}
	saved, err := LoadSettings(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []Settings{a.Settings(), saved} {
		if s.Port != 3005 || s.ServerURL != srv.URL || s.Token != "tok" {
			t.Errorf("got %+v, want port 3005 kept with server %s and token tok", s, srv.URL)
		}
	}
}
