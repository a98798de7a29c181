package desktop

import (
	"log/slog"

	"github.com/assetlab/assetlab/build"
	"github.com/wailsapp/wails/v2/pkg/options/linux"
)

// ProgramName is the name the window manager knows the app by (its
// WM_CLASS), the same as its binary, desktop entry and icon, so that docks
// and task switchers put the window under the app's entry.
const ProgramName = "assetlab-desktop"

// windowIconSize is the window icon's size: big enough for a task switcher
// on a high-density screen; the X property holding it is 4 bytes a pixel, so
// not the 1024 px original.
const windowIconSize = 256

// linuxOptions gives the window its icon and program name.
func linuxOptions() *linux.Options {
	icon, err := build.Icon(windowIconSize)
	if err != nil {
		slog.Warn("no window icon", slog.Any("err", err))
	}
	return &linux.Options{
		Icon:        icon,
		ProgramName: ProgramName,
		// Wails turns GPU use off only when it is given no Linux options
		// (wailsapp/wails#2977: blank windows on some drivers); keep that.
		WebviewGpuPolicy: linux.WebviewGpuPolicyNever,
	}
}
