package desktop

import (
	"log/slog"

	"github.com/wailsapp/wails/v2/pkg/options/mac"
)

// macOptions are the window's macOS options: Finder's "Open with" (and a file
// dropped on the Dock icon) sends its files as Apple Events, not arguments,
// to the app whether it runs or starts for them; they go where a second
// launch's files go. Other OSes leave these options aside.
func (a *App) macOptions() *mac.Options {
	return &mac.Options{OnFileOpen: a.fileOpened}
}

// fileOpened takes a file the OS asks the app to open: it joins the uploads
// (as dropped files do), or waits with the command line's until the UI asks.
func (a *App) fileOpened(path string) {
	l := parseLaunch(a.log, "", []string{path})
	a.log.Info("file opened by the system", slog.String("path", path), slog.Int("files", len(l.Files)))
	if len(l.Files) > 0 {
		a.handFiles(l.Files)
	}
}
