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

// windowIconSize is the window icon's size. GTK drops an icon whose X
// property (2 + w×h 32-bit values) does not fit in one request without the
// BIG-REQUESTS extension (65,535 units, less GTK's margin of 100): 256 px
// (65,538) was dropped under Xvfb, 128 px fits. Docks that match the window
// to the menu entry take larger sizes from the icon theme.
const windowIconSize = 128

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
