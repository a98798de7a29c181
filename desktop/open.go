package desktop

import (
	"errors"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
)

// EventNavigate asks the UI to open a page (its path, e.g. /watch/{id}).
const EventNavigate = "navigate"

// Launch is what a launch's command-line arguments ask for: files to upload,
// in the order given, and a page to open.
type Launch struct {
	// Files are the paths of the files to upload, made absolute.
	Files []string
	// Route is the watch page of the first video ID or watch link, or "".
	Route string
}

// parseLaunch sorts command-line arguments (the file manager's "Open with"
// passes files as paths or file:// URIs; a person may pass a video ID or a
// watch link). Relative paths are taken from dir, the launch's working
// folder. What is none of these (a missing file, a folder) is left out with
// a log line, and the rest still counts.
func parseLaunch(log *slog.Logger, dir string, args []string) Launch {
	var l Launch
	for _, arg := range args {
		path, isURI, err := argPath(runtime.GOOS, arg)
		if err != nil {
			log.Info("argument left out: not a usable file URI", slog.String("arg", arg), slog.Any("err", err))
			continue
		}
		if path != "" && !filepath.IsAbs(path) && dir != "" {
			path = filepath.Join(dir, path)
		}
		var statErr error
		if path != "" {
			fi, err := os.Stat(path)
			switch {
			case err == nil && fi.Mode().IsRegular():
				l.Files = append(l.Files, path)
				continue
			case err == nil:
				log.Info("argument left out: not a file", slog.String("path", path))
				continue
			}
			statErr = err
		}
		// Not a file: a video ID or a watch link opens that video.
		if id := videoRef.FindString(strings.ToLower(arg)); id != "" && !isURI {
			if l.Route == "" {
				l.Route = "/watch/" + id
			}
			continue
		}
		log.Info("argument left out: neither a file nor a video ID or watch link",
			slog.String("arg", arg), slog.Any("err", statErr))
	}
	return l
}

// argPath is the local path an argument names on the OS goos: a file://
// URI's path, or the argument itself when it is no URL ("" for a URL of
// another scheme). On Windows a URI's path /C:/Users/… is C:\Users\…, and
// one naming another host is that share's UNC path (\\nas\share\…); other
// OSes cannot open a file on another host by its path.
func argPath(goos, arg string) (path string, isURI bool, err error) {
	if !strings.HasPrefix(strings.ToLower(arg), "file:") {
		if strings.Contains(arg, "://") {
			return "", false, nil
		}
		return arg, false, nil
	}
	u, err := url.Parse(arg)
	if err != nil {
		return "", true, err
	}
	remote := u.Host != "" && !strings.EqualFold(u.Host, "localhost")
	if goos != "windows" {
		if remote {
			return "", true, &url.Error{Op: "open", URL: arg, Err: errRemoteFile}
		}
		return filepath.FromSlash(u.Path), true, nil
	}
	p := u.Path
	if len(p) >= 3 && p[0] == '/' && p[2] == ':' && ('a' <= p[1] && p[1] <= 'z' || 'A' <= p[1] && p[1] <= 'Z') {
		p = p[1:] // /C:/Users/… is the drive path C:/Users/…
	}
	// Not filepath.FromSlash: it converts for the OS the app was built for,
	// and this is the Windows form whatever the build.
	p = strings.ReplaceAll(p, "/", `\`)
	if remote {
		return `\\` + u.Host + p, true, nil
	}
	return p, true, nil
}

var errRemoteFile = errors.New("file on another host")

// StartFiles gives, once, the files passed on the command line (and those
// of second launches that came before the UI asked), to upload one after
// another as if dropped on the window. The UI asks once it listens for
// "files:dropped".
func (a *App) StartFiles() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	files := a.startFiles
	a.startFiles, a.filesTaken = nil, true
	return files
}

// StartRoute is the page to open at launch: the watch page of a video ID (or
// a watch link) given on the command line, or of the latest second launch
// that came before the UI asked; "" for the upload page. The UI asks once,
// when it listens for "navigate".
func (a *App) StartRoute() string {
	a.mu.Lock()
	defer a.mu.Unlock()
	route := a.startRoute
	a.startRoute, a.routeTaken = "", true
	return route
}

// handRoute opens a page in the UI: at once with "navigate", or, before the
// UI listens, as the start route.
func (a *App) handRoute(route string) {
	a.mu.Lock()
	if !a.routeTaken {
		a.startRoute = route
		a.mu.Unlock()
		return
	}
	a.mu.Unlock()
	a.emit(EventNavigate, route)
}

// handFiles gives files to the UI: at once as "files:dropped", or, before
// the UI listens, with the command line's files.
func (a *App) handFiles(files []string) {
	a.mu.Lock()
	if !a.filesTaken {
		a.startFiles = append(a.startFiles, files...)
		a.mu.Unlock()
		return
	}
	a.mu.Unlock()
	a.emit(EventFilesDropped, files)
}
