package desktop

import (
	"log/slog"
	"os"

	"github.com/wailsapp/wails/v2/pkg/options"
)

// dragAndDrop lets files be dropped anywhere on the window. Wails reads the
// dropped files' paths (GTK's drop on Linux, WebView2's on Windows) and its
// runtime's window-wide handlers stop the webview from opening a dropped
// file itself. The webview must stay a drop target: DisableWebViewDrop
// unsets it on Linux (no drop arrives at all) and turns WebView2's external
// drops off on Windows (its drop handler, which resolves the paths, never
// runs). While files are dragged over it, the root element, which carries
// the CSS property, gets the class wails-drop-target-active.
var dragAndDrop = &options.DragAndDrop{
	EnableFileDrop:  true,
	CSSDropProperty: "--wails-drop-target",
	CSSDropValue:    "drop",
}

// filesDropped sends the UI the files among paths, in their order, to upload
// one after another; folders and whatever cannot be read are left out.
func (a *App) filesDropped(paths []string) {
	var files []string
	for _, p := range paths {
		fi, err := os.Stat(p)
		if err != nil || !fi.Mode().IsRegular() {
			a.log.Info("dropped item left out: not a file", slog.String("path", p), slog.Any("err", err))
			continue
		}
		files = append(files, p)
	}
	if len(files) > 0 {
		a.emit(EventFilesDropped, files)
	}
}
