package desktop

import (
	"bytes"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/wailsapp/wails/v2/pkg/options"
)

// The command line's arguments, as a file manager's "Open with" or a
// terminal passes them: video files (paths, relative or not, and file://
// URIs) upload in the order given, a video ID or watch link opens its page,
// and whatever else is left out with a log line, without stopping the rest.
func TestParseLaunch(t *testing.T) {
	dir := t.TempDir()
	touch := func(name string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte("video"), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	first, second, spaced := touch("first.mp4"), touch("second.mkv"), touch("my holiday #1.mov")
	folder := filepath.Join(dir, "clips")
	os.Mkdir(folder, 0o755)
	id := "0b6f9e2c-4f1d-4c3e-9a57-2d8e5f3b1a90"
	fileURI := (&url.URL{Scheme: "file", Path: spaced}).String()

	tests := []struct {
		name      string
		wd        string
		args      []string
		wantFiles []string
		wantRoute string
		wantLog   []string
	}{
		{name: "nothing", args: nil},
		{name: "a video ID", args: []string{id}, wantRoute: "/watch/" + id},
		{name: "a watch link", args: []string{"http://192.168.1.5:3000/watch/" + strings.ToUpper(id)}, wantRoute: "/watch/" + id},
		{name: "files in order", args: []string{second, first}, wantFiles: []string{second, first}},
		{name: "relative paths from the working folder", wd: dir, args: []string{"first.mp4", "./second.mkv"}, wantFiles: []string{first, second}},
		{name: "a file URI with escapes", args: []string{fileURI}, wantFiles: []string{spaced}},
		{name: "a file URI naming localhost", args: []string{"file://localhost" + (&url.URL{Path: first}).EscapedPath()}, wantFiles: []string{first}},
		{
			name:      "a missing file and a folder are left out, the rest goes on",
			args:      []string{filepath.Join(dir, "gone.mp4"), first, folder, "file://" + filepath.Join(dir, "gone too.mp4"), second},
			wantFiles: []string{first, second},
			wantLog:   []string{"gone.mp4", "not a file", "gone too.mp4"},
		},
		{name: "files and a video", args: []string{first, id, second}, wantFiles: []string{first, second}, wantRoute: "/watch/" + id},
		{name: "the first video wins", args: []string{id, "ffffffff-4f1d-4c3e-9a57-2d8e5f3b1a90"}, wantRoute: "/watch/" + id},
		{name: "a file on another host", args: []string{"file://nas/videos/a.mp4"}, wantLog: []string{"another host"}},
		{name: "a word", args: []string{"--verbose"}, wantLog: []string{"--verbose"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			got := parseLaunch(slog.New(slog.NewTextHandler(&buf, nil)), tt.wd, tt.args)
			if !slices.Equal(got.Files, tt.wantFiles) {
				t.Errorf("files: got %q, want %q", got.Files, tt.wantFiles)
			}
			if got.Route != tt.wantRoute {
				t.Errorf("route: got %q, want %q", got.Route, tt.wantRoute)
			}
			for _, w := range tt.wantLog {
				if !strings.Contains(buf.String(), w) {
					t.Errorf("log: got %q, want a line with %q", buf.String(), w)
				}
			}
			if len(tt.wantLog) == 0 && buf.Len() > 0 {
				t.Errorf("log: got %q, want nothing", buf.String())
			}
		})
	}
}

// StartFiles gives the command line's files once: a reload of the page does
// not upload them again.
func TestStartFilesOnce(t *testing.T) {
	a := NewApp(filepath.Join(t.TempDir(), "settings.json"))
	a.startFiles = []string{"/a.mp4", "/b.mp4"}
	if got := a.StartFiles(); !slices.Equal(got, []string{"/a.mp4", "/b.mp4"}) {
		t.Fatalf("first call: got %q, want both files", got)
	}
	if got := a.StartFiles(); got != nil {
		t.Fatalf("second call: got %q, want none", got)
	}
}

// A second launch's arguments reach the running window as the UI's events:
// its files, relative to the second launch's working folder, as dropped
// files (or with the command line's, when the UI has not asked for those
// yet); its video as a page to open.
func TestSecondLaunch(t *testing.T) {
	dir := t.TempDir()
	clip := filepath.Join(dir, "clip.mp4")
	os.WriteFile(clip, []byte("video"), 0o644)
	id := "0b6f9e2c-4f1d-4c3e-9a57-2d8e5f3b1a90"
	a := NewApp(filepath.Join(t.TempDir(), "settings.json"))
	var mu sync.Mutex
	var events []string
	a.emit = func(name string, data any) {
		mu.Lock()
		defer mu.Unlock()
		switch d := data.(type) {
		case []string:
			events = append(events, name+" "+strings.Join(d, ","))
		case string:
			events = append(events, name+" "+d)
		}
	}
	// Before the UI listens, the files wait with the command line's, and
	// the video as the start page.
	a.startFiles = []string{"/home/me/first.mp4"}
	early := filepath.Join(dir, "early.mp4")
	os.WriteFile(early, []byte("video"), 0o644)
	earlyID := "ffffffff-4f1d-4c3e-9a57-2d8e5f3b1a90"
	a.secondLaunch(options.SecondInstanceData{Args: []string{early, earlyID}, WorkingDirectory: "/"})
	if len(events) != 0 {
		t.Fatalf("events before the UI listens: got %q, want none", events)
	}
	if got, want := a.StartFiles(), []string{"/home/me/first.mp4", early}; !slices.Equal(got, want) {
		t.Fatalf("StartFiles: got %q, want %q", got, want)
	}
	if got, want := a.StartRoute(), "/watch/"+earlyID; got != want {
		t.Fatalf("StartRoute: got %q, want %q", got, want)
	}
	if got := a.StartRoute(); got != "" {
		t.Errorf("StartRoute asked again: got %q, want it given once", got)
	}

	a.secondLaunch(options.SecondInstanceData{Args: []string{"clip.mp4", "missing.mp4", id}, WorkingDirectory: dir})
	want := []string{EventFilesDropped + " " + clip, EventNavigate + " /watch/" + id}
	if !slices.Equal(events, want) {
		t.Fatalf("events: got %q, want %q", events, want)
	}
}

func TestDBusName(t *testing.T) {
	// The name Wails' Linux single-instance lock takes (single_instance.go).
	if got, want := dbusName(UniqueID), "org.wails_app_app_assetlab_desktop.SingleInstance"; got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
}

// file:// URIs as each OS's file manager passes them: Windows' drive paths
// lose the slash before the drive letter, and another host's file is a UNC
// path there, refused elsewhere.
func TestArgPath(t *testing.T) {
	tests := []struct {
		goos, arg  string
		want       string
		wantURI    bool
		wantRemote bool
	}{
		{"windows", "file:///C:/Users/Me/My%20Video.mp4", `C:\Users\Me\My Video.mp4`, true, false},
		{"windows", "file://localhost/d:/clips/a.mkv", `d:\clips\a.mkv`, true, false},
		{"windows", "file://nas/share/x.mp4", `\\nas\share\x.mp4`, true, false},
		{"windows", `C:\Users\Me\a.mp4`, `C:\Users\Me\a.mp4`, false, false},
		{"linux", "file:///home/me/My%20Video.mp4", "/home/me/My Video.mp4", true, false},
		{"linux", "file://localhost/home/me/a.mp4", "/home/me/a.mp4", true, false},
		{"linux", "file:///C:/x.mp4", "/C:/x.mp4", true, false},
		{"linux", "file://nas/share/x.mp4", "", true, true},
		{"linux", "https://example.com/a.mp4", "", false, false},
	}
	for _, tt := range tests {
		got, isURI, err := argPath(tt.goos, tt.arg)
		if got != tt.want || isURI != tt.wantURI || (err != nil) != tt.wantRemote {
			t.Errorf("%s %s: got %q, %v, %v; want %q, %v, error %v", tt.goos, tt.arg, got, isURI, err, tt.want, tt.wantURI, tt.wantRemote)
		}
	}
}

// A second launch waits for the running instance only while one runs: it
// goes on as soon as none owns the name any more, and at the latest at the
// limit.
func TestWaitForHandoff(t *testing.T) {
	log := slog.New(slog.NewTextHandler(&bytes.Buffer{}, nil))
	for _, tc := range []struct {
		name      string
		other     bool
		ownedFor  int // how many asks find another instance
		wantAsks  int
		wantOther bool
	}{
		{"no other instance at launch", false, 0, 0, false},
		{"the other instance goes after two asks", true, 2, 3, false},
		{"the other instance stays", true, 1 << 30, 0, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			asks := 0
			still := func() bool {
				asks++
				return asks <= tc.ownedFor
			}
			got := waitForHandoff(log, tc.other, still, time.Millisecond, 200*time.Millisecond)
			if got != tc.wantOther {
				t.Errorf("got other instance %v, want %v", got, tc.wantOther)
			}
			if tc.wantAsks > 0 && asks != tc.wantAsks {
				t.Errorf("got %d asks, want %d (none once it is gone)", asks, tc.wantAsks)
			}
			if tc.wantOther && asks < 2 {
				t.Errorf("got %d asks, want it asked until the limit", asks)
			}
		})
	}
}
