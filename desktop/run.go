package desktop

import (
	"context"
	"os"

	"github.com/assetlab/assetlab/frontend"
	"github.com/wailsapp/wails/v2"
	"github.com/wailsapp/wails/v2/pkg/options"
	"github.com/wailsapp/wails/v2/pkg/options/assetserver"
	"github.com/wailsapp/wails/v2/pkg/runtime"
)

// Run opens the app's window and returns when it is closed. A video ID or
// watch link as the first argument opens that video.
func Run() error {
	path, err := SettingsFile()
	if err != nil {
		return err
	}
	a := NewApp(path)
	if len(os.Args) > 1 {
		a.startVideo = os.Args[1]
	}
	var startErr error
	return wails.Run(&options.App{
		Title:     "AssetLab",
		Width:     1120,
		Height:    800,
		MinWidth:  400,
		MinHeight: 500,
		Linux:     linuxOptions(),
		AssetServer: &assetserver.Options{
			Assets: frontend.Dist(),
		},
		DragAndDrop: dragAndDrop,
		OnStartup: func(ctx context.Context) {
			a.emit = func(event string, data any) { runtime.EventsEmit(ctx, event, data) }
			a.openFile = func(title string) (string, error) {
				return runtime.OpenFileDialog(ctx, runtime.OpenDialogOptions{
					Title: title,
					Filters: []runtime.FileFilter{
						{DisplayName: "Videos (MP4, MOV, WebM, MKV)", Pattern: "*.mp4;*.m4v;*.mov;*.webm;*.mkv"},
					},
				})
			}
			runtime.OnFileDrop(ctx, func(_, _ int, paths []string) { a.filesDropped(paths) })
			if startErr = a.startup(ctx); startErr != nil {
				runtime.LogError(ctx, startErr.Error())
			}
		},
		OnShutdown: a.shutdown,
		Bind:       []any{a},
	})
}
