// Package desktop is AssetLab's desktop app (Wails v2): the shared web UI in
// a native window, native file dialogs and drag-and-drop, uploads streamed
// from disk by Go, and on first run an AssetLab server inside the app.
package desktop

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"regexp"
	"runtime"
	"strconv"
	"sync"
	"time"

	"github.com/assetlab/assetlab/desktop/upload"
	"github.com/assetlab/assetlab/frontend"
	"github.com/assetlab/assetlab/server/app"
	"github.com/assetlab/assetlab/server/config"
)

// Event names sent to the UI.
const (
	EventUploadProgress = "upload:progress"
	EventFilesDropped   = "files:dropped"
)

// App is bound to the UI: its exported methods are what the web UI calls
// when it runs inside the desktop app.
type App struct {
	settingsPath string
	client       *http.Client
	log          *slog.Logger

	// switchMu makes settings changes (startup, SaveSettings) one at a
	// time; it is taken before mu, and held across the server check.
	switchMu sync.Mutex

	mu       sync.Mutex
	settings Settings
	local    *app.Server
	lanURL   string
	// portMoved is the kept port the built-in server could not have at
	// launch (it was busy), 0 if none.
	portMoved int
	stop      context.CancelFunc
	stopped   chan struct{}
	cancel    context.CancelFunc // of the upload in progress
	// uploading is closed when the upload in progress has ended.
	uploading chan struct{}
	// switching: the built-in server is being stopped for another one, so
	// an upload to it stops (and stays resumable).
	switching bool
	// running is the resumable upload in progress ("" if none, or a plain
	// one); terminate asks that it be ended on the server once stopped.
	running   string
	terminate bool
	// statePath is the list of unfinished resumable uploads; "" means
	// upload.StateFile(), in the XDG state folder.
	statePath string

	// startRoute is the page to open at launch (a video's, from the command
	// line or a second launch) until the UI takes it (routeTaken), and
	// startFiles the files to upload until the UI takes them (filesTaken;
	// see open.go).
	startRoute string
	routeTaken bool
	startFiles []string
	filesTaken bool

	// windowCtx reaches the window through the Wails runtime (nil before
	// it starts), and is the base of the app's requests.
	windowCtx context.Context

	// emit and openFile reach the webview and the OS; tests replace them.
	// They are set once, before the window starts (Wails calls the app from
	// several goroutines: bound methods, menu, a second launch's handoff).
	emit     func(event string, data any)
	openFile func(title string) (string, error)
}

// NewApp makes the app with its settings kept at settingsPath.
func NewApp(settingsPath string) *App {
	return &App{
		settingsPath: settingsPath,
		client:       &http.Client{},
		log:          slog.Default(),
		emit:         func(string, any) {},
		openFile:     func(string) (string, error) { return "", errors.New("no file dialog") },
	}
}

// startup keeps the window's context, loads the settings and, when no server
// is configured, starts one inside the app on local storage.
func (a *App) startup(ctx context.Context) error {
	a.switchMu.Lock()
	defer a.switchMu.Unlock()
	a.mu.Lock()
	a.windowCtx = ctx
	a.mu.Unlock()
	s, err := LoadSettings(a.settingsPath)
	if err != nil {
		a.log.Warn("settings unreadable; starting afresh", slog.Any("err", err))
	}
	a.mu.Lock()
	a.settings = s
	a.mu.Unlock()
	if s.ServerURL == "" {
		return a.startLocal()
	}
	return nil
}

// startLocal runs the AssetLab server in-process: the embedded default, on
// the port kept in the settings, or on first run on port 3000 if it is free
// (so the LAN address stays the same), else as freePort says; the port it
// gets is kept. PORT in the environment wins, and is not kept.
func (a *App) startLocal() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.local != nil {
		return nil
	}
	cfg, err := config.FromEnv(os.Getenv)
	if err != nil {
		return err
	}
	// The FFmpeg shipped with the app first: on Windows and macOS there is
	// usually none on PATH.
	exe, _ := os.Executable()
	cfg.FFmpeg, cfg.FFprobe = ffmpegPaths(os.Getenv, exe, runtime.GOOS, cfg.FFmpeg, cfg.FFprobe)
	keep := os.Getenv("PORT") == ""
	if keep {
		if a.settings.Port > 0 {
			cfg.Port = a.settings.Port
		}
		cfg.Port = freePort(cfg.Host, cfg.Port)
	}
	ctx, stop := context.WithCancel(context.Background())
	srv, err := app.New(ctx, app.Options{
		Config:   cfg,
		Frontend: frontend.Dist(),
		Log:      config.NewLogger(cfg),
	})
	if err != nil {
		stop()
		return fmt.Errorf("start the built-in server: %w", err)
	}
	stopped := make(chan struct{})
	a.local, a.stop, a.stopped = srv, stop, stopped
	go func() {
		defer close(stopped)
		if err := srv.Run(ctx); err != nil {
			a.log.Error("built-in server stopped", slog.Any("err", err))
		}
	}()
	a.lanURL = ""
	if ip := lanIP(); ip != "" {
		a.lanURL = fmt.Sprintf("http://%s:%d", ip, srv.Port())
	}
	a.portMoved = 0
	if keep && srv.Port() != a.settings.Port {
		if a.settings.Port > 0 {
			a.portMoved = a.settings.Port
			a.log.Warn("the built-in server's port was busy; it now listens on another one, so its address changed",
				slog.Int("was", a.settings.Port), slog.Int("port", srv.Port()))
		}
		s := a.settings
		s.Port = srv.Port()
		if err := s.Save(a.settingsPath); err != nil {
			a.log.Warn("the built-in server's port is not kept", slog.Any("err", err))
		} else {
			a.settings = s
		}
	}
	return nil
}

// freePort is want if it is free on host, else the first free one of
// 3001–3100, else 0 (any). A port from the OS's ephemeral range (what 0
// gives) is the one most likely to be taken by another program's outgoing
// connection at the next launch, so it comes last.
func freePort(host string, want int) int {
	candidates := []int{want}
	for p := 3001; p <= 3100; p++ {
		if p != want {
			candidates = append(candidates, p)
		}
	}
	for _, p := range candidates {
		if l, err := net.Listen("tcp", net.JoinHostPort(host, strconv.Itoa(p))); err == nil {
			l.Close()
			return p
		}
	}
	return 0
}

// stopLocal stops the built-in server, if it runs, and waits until it no
// longer listens. An upload in progress is stopped first (a resumable one
// stays resumable).
func (a *App) stopLocal() {
	// One critical section: begin refuses from here on, so the upload
	// cancelled here is the only one waited for.
	a.mu.Lock()
	if a.local == nil {
		a.mu.Unlock()
		return // an upload in progress goes to another server: it goes on
	}
	a.switching = true
	if a.cancel != nil {
		a.cancel()
	}
	uploading := a.uploading
	a.mu.Unlock()
	if uploading != nil {
		<-uploading
	}
	a.mu.Lock()
	a.switching = false
	stop, stopped := a.stop, a.stopped
	a.local, a.stop, a.stopped, a.lanURL, a.portMoved = nil, nil, nil, "", 0
	a.mu.Unlock()
	stopServer(stop, stopped)
}

// stopServer stops a built-in server (stop nil: none) and waits until it has
// stopped (stopped closed), or 35 s.
func stopServer(stop context.CancelFunc, stopped <-chan struct{}) {
	if stop == nil {
		return
	}
	stop()
	select {
	case <-stopped:
	case <-time.After(35 * time.Second):
	}
}

// shutdown stops an upload in progress (a resumable one stays resumable)
// and the built-in server.
func (a *App) shutdown(context.Context) {
	a.stopUpload()
	a.mu.Lock()
	stop, stopped := a.stop, a.stopped
	a.mu.Unlock()
	stopServer(stop, stopped)
}

// Info is what the UI shows about where it is connected.
type Info struct {
	// ServerURL is the server the app talks to.
	ServerURL string `json:"server_url"`
	// Local tells whether that server runs inside the app.
	Local bool `json:"local"`
	// LANURL is where a browser on the same network reaches the built-in server.
	LANURL string `json:"lan_url,omitempty"`
	// Token is the upload token in force (the UI's library needs it).
	Token string `json:"token"`
	// Version is the app's version.
	Version string `json:"version"`
	// PortMovedFrom is the built-in server's former port when it was busy at
	// launch, so that its LAN address changed.
	PortMovedFrom int `json:"port_moved_from,omitempty"`
}

// Info says where uploads go.
func (a *App) Info() Info {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.infoLocked()
}

// infoLocked is Info with a.mu held.
func (a *App) infoLocked() Info {
	if a.settings.ServerURL != "" {
		return Info{ServerURL: a.settings.ServerURL, Token: a.settings.Token, Version: Version}
	}
	if a.local == nil {
		return Info{Version: Version}
	}
	return Info{
		ServerURL:     fmt.Sprintf("http://127.0.0.1:%d", a.local.Port()),
		Local:         true,
		LANURL:        a.lanURL,
		Token:         a.local.Token(),
		Version:       Version,
		PortMovedFrom: a.portMoved,
	}
}

// Settings returns the saved settings.
func (a *App) Settings() Settings {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.settings
}

// SaveSettings keeps a server address and token (an empty address means the
// built-in server), and switches to them. Another server is checked first:
// it must answer as an AssetLab server and take the token, else nothing is
// saved and the error says why. Using another server stops the built-in one
// (after stopping an upload to it); going back starts it again.
func (a *App) SaveSettings(serverURL, token string) error {
	a.switchMu.Lock()
	defer a.switchMu.Unlock()
	a.mu.Lock()
	s := a.settings
	a.mu.Unlock()
	s.ServerURL, s.Token = serverURL, token
	if err := s.Validate(); err != nil {
		return err
	}
	if serverURL != "" {
		if err := checkServer(a.baseContext(), a.client, serverURL, token); err != nil {
			return err
		}
	}
	// The settings as they are now (the built-in server may have kept its
	// port during the check), with this address and token.
	a.mu.Lock()
	s = a.settings
	s.ServerURL, s.Token = serverURL, token
	err := s.Save(a.settingsPath)
	if err == nil {
		a.settings = s
	}
	a.mu.Unlock()
	if err != nil {
		return fmt.Errorf("save settings: %w", err)
	}
	if serverURL == "" {
		return a.startLocal()
	}
	a.stopLocal()
	return nil
}

// ChooseFile opens the native Open dialog, filtered to videos; "" if the
// person cancelled it.
func (a *App) ChooseFile() (string, error) {
	return a.openFile("Choose a video to upload")
}

// Upload streams the file at path to the server, sending "upload:progress"
// events, and returns the new video's ID. A server that takes resumable
// uploads gets one (tus), kept in the state file until it ends, so that
// ResumeUpload can go on with it after the app is closed; any other gets a
// plain POST /api/upload.
func (a *App) Upload(path string) (upload.Result, error) {
	info, ctx, done, err := a.begin()
	if err != nil {
		return upload.Result{}, err
	}
	defer done()
	cfg, err := upload.GetConfig(ctx, a.client, info.ServerURL)
	if err != nil {
		return upload.Result{}, err
	}
	if cfg.Features.ResumableUploads {
		return a.uploadResumable(ctx, info, path)
	}
	return upload.Upload(ctx, a.client, info.ServerURL, info.Token, path, a.progress)
}

func (a *App) progress(p upload.Progress) { a.emit(EventUploadProgress, p) }

// begin marks an upload to the current server as running, and returns that
// server, the upload's context and what ends it.
func (a *App) begin() (Info, context.Context, func(), error) {
	// The server is read and the upload registered under one lock, so that
	// stopLocal, once it has set switching, sees every upload to stop.
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.switching {
		return Info{}, nil, nil, errSwitching
	}
	info := a.infoLocked()
	if info.ServerURL == "" {
		return Info{}, nil, nil, errors.New("no server: set one in the settings")
	}
	if a.cancel != nil {
		return Info{}, nil, nil, errors.New("an upload is already running")
	}
	base := a.windowCtx
	if base == nil {
		base = context.Background()
	}
	ctx, cancel := context.WithCancel(base)
	uploading := make(chan struct{})
	a.cancel, a.running, a.terminate, a.uploading = cancel, "", false, uploading
	return info, ctx, func() {
		cancel()
		a.mu.Lock()
		a.cancel, a.running, a.terminate, a.uploading = nil, "", false, nil
		a.mu.Unlock()
		close(uploading)
	}, nil
}

// errSwitching refuses an upload while the built-in server stops because
// another server was chosen.
var errSwitching = errors.New("the built-in server stops for another server: upload again once the new server is in use")

// CancelUpload stops the upload in progress, if any; a resumable one is
// ended on the server too (tus termination) and forgotten.
func (a *App) CancelUpload() {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.cancel != nil {
		a.terminate = true
		a.cancel()
	}
}

// stopUpload stops the upload in progress, if any, but keeps a resumable one
// for the next start of the app.
func (a *App) stopUpload() {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.cancel != nil {
		a.cancel()
	}
}

var videoRef = regexp.MustCompile(`[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`)

// Status reads a video's transcoding status.
func (a *App) Status(id string) (upload.Status, error) {
	return upload.GetStatus(a.baseContext(), a.client, a.Info().ServerURL, id)
}

// baseContext is the window's context, that ends when the window closes;
// Background before it starts.
func (a *App) baseContext() context.Context {
	if ctx := a.windowContext(); ctx != nil {
		return ctx
	}
	return context.Background()
}

// lanIP is this machine's first non-loopback IPv4 address.
func lanIP() string {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return ""
	}
	for _, addr := range addrs {
		if ipn, ok := addr.(*net.IPNet); ok && !ipn.IP.IsLoopback() && ipn.IP.To4() != nil {
			return ipn.IP.String()
		}
	}
	return ""
}
