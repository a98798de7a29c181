package desktop

import (
	"github.com/wailsapp/wails/v2/pkg/menu"
	"github.com/wailsapp/wails/v2/pkg/menu/keys"
)

// Events the app's menu sends to the UI (and EventNavigate).
const (
	// EventMenuUpload asks for the upload page and its Open dialog.
	EventMenuUpload = "menu:upload"
	// EventMenuOpenVideo asks for the header's "open a video" field, focused.
	EventMenuOpenVideo = "menu:open-video"
)

// menuActions are what the menu does outside the page; Run gives the Wails
// runtime's, tests their own.
type menuActions struct {
	quit  func()
	about func(title, message string)
}

// appMenu is the window's menu bar on the OS goos: File (upload, open a
// video, library, quit) and Help; on macOS also the app menu (which has Quit,
// Cmd+Q, so File has none) and Edit (the system's cut, copy, paste and select
// all, which the webview's fields take on macOS only through it).
func (a *App) appMenu(goos string, do menuActions) *menu.Menu {
	mac := goos == "darwin"
	m := menu.NewMenu()
	if mac {
		m.Append(menu.AppMenu())
	}
	file := m.AddSubmenu("File")
	file.AddText("Upload video…", keys.CmdOrCtrl("o"), func(*menu.CallbackData) {
		a.emit(EventMenuUpload, nil)
	})
	file.AddText("Open video by ID or link…", keys.CmdOrCtrl("l"), func(*menu.CallbackData) {
		a.emit(EventMenuOpenVideo, nil)
	})
	file.AddText("Library", keys.Combo("l", keys.CmdOrCtrlKey, keys.ShiftKey), func(*menu.CallbackData) {
		a.emit(EventNavigate, "/library")
	})
	if !mac {
		file.AddSeparator()
		file.AddText("Quit", keys.CmdOrCtrl("q"), func(*menu.CallbackData) { do.quit() })
	}
	// The Edit role has no label or items: Wails builds them on macOS only,
	// and Windows would show it as a blank menu. Linux's and Windows'
	// webviews take the same keys in their fields by themselves.
	if mac {
		m.Append(menu.EditMenu())
	}
	help := m.AddSubmenu("Help")
	help.AddText("About AssetLab", nil, func(*menu.CallbackData) {
		do.about("About AssetLab", "AssetLab "+Version+"\n\nUpload videos and watch them streamed from your own server.")
	})
	return m
}
