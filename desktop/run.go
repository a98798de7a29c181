package desktop

import (
	"context"
	"errors"
	"os"
	goruntime "runtime"

	"github.com/assetlab/assetlab/frontend"
	"github.com/wailsapp/wails/v2"
	"github.com/wailsapp/wails/v2/pkg/options"
	"github.com/wailsapp/wails/v2/pkg/options/assetserver"
	"github.com/wailsapp/wails/v2/pkg/runtime"
)

// Run opens the app's window and returns when it is closed. Video files
// given on the command line upload one after another; a video ID or watch
// link opens that video (see parseLaunch). While the app runs, launching it
// again hands these to its window.
func Run() error {
	path, err := SettingsFile()
	if err != nil {
		return err
	}
	a := NewApp(path)
	wd, _ := os.Getwd()
	l := parseLaunch(a.log, wd, os.Args[1:])
	a.startRoute, a.startFiles = l.Route, l.Files
	// Set before the window starts: the window is reached through its
	// context, nil until OnStartup has it.
	a.emit = func(event string, data any) {
		if ctx := a.windowContext(); ctx != nil {
			runtime.EventsEmit(ctx, event, data)
		}
	}
	a.openFile = func(title string) (string, error) {
		ctx := a.windowContext()
		if ctx == nil {
			return "", errors.New("the window is not open yet")
		}
		return runtime.OpenFileDialog(ctx, runtime.OpenDialogOptions{
			Title: title,
			Filters: []runtime.FileFilter{
				{DisplayName: "Videos (MP4, MOV, WebM, MKV)", Pattern: "*.mp4;*.m4v;*.mov;*.webm;*.mkv"},
			},
		})
	}
	other := otherInstance()
	var startErr error
	return wails.Run(&options.App{
		Title:     "AssetLab",
		Width:     1120,
		Height:    800,
		MinWidth:  400,
		MinHeight: 500,
		Linux:     linuxOptions(),
		Mac:       a.macOptions(),
		AssetServer: &assetserver.Options{
			Assets: frontend.Dist(),
		},
		DragAndDrop:        dragAndDrop,
		SingleInstanceLock: a.singleInstance(),
		Menu: a.appMenu(goruntime.GOOS, menuActions{
			quit: func() {
				if ctx := a.windowContext(); ctx != nil {
					runtime.Quit(ctx)
				}
			},
			about: func(title, message string) {
				if ctx := a.windowContext(); ctx != nil {
					runtime.MessageDialog(ctx, runtime.MessageDialogOptions{
						Type: runtime.InfoDialog, Title: title, Message: message,
					})
				}
			},
		}),
		OnStartup: func(ctx context.Context) {
			// Known before the handoff wait, for the menu's Quit and About.
			a.mu.Lock()
			a.windowCtx = ctx
			a.mu.Unlock()
			waitForHandoff(a.log, other, otherInstance, handoffPoll, handoffWait)
			runtime.OnFileDrop(ctx, func(_, _ int, paths []string) { a.filesDropped(paths) })
			if startErr = a.startup(ctx); startErr != nil {
				runtime.LogError(ctx, startErr.Error())
			}
		},
		OnShutdown: a.shutdown,
		Bind:       []any{a},
	})
}
