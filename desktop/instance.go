package desktop

import (
	"context"
	"log/slog"
	"strings"
	"time"

	"github.com/wailsapp/wails/v2/pkg/options"
	"github.com/wailsapp/wails/v2/pkg/runtime"
)

// UniqueID names the app for Wails' single-instance lock: on Linux the
// D-Bus name org.wails_app_app_assetlab_desktop.SingleInstance on the
// session bus, a mutex and window message on Windows, a notification on
// macOS.
const UniqueID = "app.assetlab.desktop"

// singleInstance makes a second launch of the app hand its arguments (files
// to upload, a video to open) to the window already open, which comes to
// the front; the second process then exits (Wails exits it with status 1
// on Linux, 0 on Windows and macOS).
func (a *App) singleInstance() *options.SingleInstanceLock {
	return &options.SingleInstanceLock{
		UniqueId: UniqueID,
		OnSecondInstanceLaunch: func(d options.SecondInstanceData) {
			a.secondLaunch(d)
			if ctx := a.windowContext(); ctx != nil {
				runtime.WindowUnminimise(ctx)
				runtime.WindowShow(ctx)
			}
		},
	}
}

// secondLaunch takes another launch's arguments as if given to this one:
// its files join the uploads (as dropped files do), its video opens (at
// once, or as the start page when the UI has not asked for it yet).
func (a *App) secondLaunch(d options.SecondInstanceData) {
	l := parseLaunch(a.log, d.WorkingDirectory, d.Args)
	a.log.Info("launched again", slog.Int("files", len(l.Files)), slog.String("route", l.Route))
	if len(l.Files) > 0 {
		a.handFiles(l.Files)
	}
	if l.Route != "" {
		a.handRoute(l.Route)
	}
}

// windowContext is the context the Wails runtime needs to reach the window,
// nil before the window has started.
func (a *App) windowContext() context.Context {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.windowCtx
}

// A second launch waits at most handoffWait, asking every handoffPoll,
// before it starts as an app of its own: Wails runs OnStartup and its
// single-instance handoff at the same time, and exits the process once the
// first instance has the arguments (a D-Bus call, well under a second; with
// status 1 on Linux, 0 on Windows). Without the wait the second process
// would start its own built-in server on the same data folder as the
// running one for that moment. Should the handoff fail (the first instance
// quit meanwhile), the launch goes on as a normal start as soon as no other
// process owns the name.
const (
	handoffWait = 5 * time.Second
	handoffPoll = 100 * time.Millisecond
)

// waitForHandoff holds a launch back while another instance of the app
// runs, if one ran as it started (other; Run asks otherInstance before
// Wails takes the name for this process): until stillOther says it no
// longer does, or limit has passed. It tells whether one still ran then.
func waitForHandoff(log *slog.Logger, other bool, stillOther func() bool, poll, limit time.Duration) bool {
	if !other {
		return false
	}
	log.Info("another instance runs: handing this launch over to it")
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		time.Sleep(poll)
		if !stillOther() {
			log.Info("the other instance is gone: starting on its own")
			return false
		}
	}
	log.Warn("the other instance did not take this launch in time: starting on its own")
	return true
}

// dbusName is the name Wails' Linux single-instance lock takes on the
// session bus for a unique ID.
func dbusName(uniqueID string) string {
	id := "wails_app_" + strings.ReplaceAll(strings.ReplaceAll(uniqueID, "-", "_"), ".", "_")
	return "org." + id + ".SingleInstance"
}
