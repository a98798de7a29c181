package api

import (
	"net/http"
	"regexp"
	"strings"
	"sync"

	"github.com/go-chi/chi/v5"
)

// A path the API serves, asked with a method it does not serve there, is a
// 405 that says which methods it does serve (Allow); a path under a video
// route that matches none is a 400. HEAD works wherever GET does.

// headAsGet routes a HEAD request as a GET: the API has no HEAD handler of
// its own, and net/http sends no body in answer to HEAD. Where GET is not
// served, HEAD is refused as GET would be.
func headAsGet(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodHead {
			chi.RouteContext(r.Context()).RouteMethod = http.MethodGet
		}
		next.ServeHTTP(w, r)
	})
}

// methods are those a route may be served with, in the order Allow lists them.
var methods = []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete}

// routeTable matches a path against every route of a router, mounted ones
// included, by their full patterns. chi cannot say it for a mount's own path
// (it reports every method served at /api/videos).
type routeTable struct {
	routes chi.Routes
	once   sync.Once
	list   []route
}

type route struct {
	method string
	re     *regexp.Regexp
}

func (t *routeTable) load() {
	chi.Walk(t.routes, func(method, pattern string, _ http.Handler, _ ...func(http.Handler) http.Handler) error {
		var expr strings.Builder
		wild := false
		for _, seg := range strings.Split(strings.Trim(pattern, "/"), "/") {
			switch {
			case seg == "":
			case seg == "*":
				wild = true
				expr.WriteString("(/.*)?")
			case strings.HasPrefix(seg, "{"):
				expr.WriteString("/[^/]+")
			default:
				expr.WriteString("/" + regexp.QuoteMeta(seg))
			}
		}
		if !wild {
			expr.WriteString("/?") // chi serves a mount's "/" route without the slash too
		}
		t.list = append(t.list, route{method, regexp.MustCompile("^" + expr.String() + "$")})
		return nil
	})
}

// allowed lists the methods the request's path is served with.
func (t *routeTable) allowed(r *http.Request) []string {
	t.once.Do(t.load)
	path := r.URL.RawPath // as chi routes it
	if path == "" {
		path = r.URL.Path
	}
	served := map[string]bool{}
	for _, rt := range t.list {
		if rt.re.MatchString(path) {
			served[rt.method] = true
		}
	}
	served[http.MethodHead] = served[http.MethodGet]
	var out []string
	for _, m := range methods {
		if served[m] {
			out = append(out, m)
		}
	}
	return out
}

// methodNotAllowed answers a request whose path is served, but not with its
// method, listing the methods it is served with.
func (t *routeTable) methodNotAllowed(w http.ResponseWriter, r *http.Request) error {
	if allow := t.allowed(r); len(allow) > 0 {
		w.Header().Set("Allow", strings.Join(allow, ", "))
	}
	return errorf(http.StatusMethodNotAllowed, CodeMethodNotAllowed, "method not allowed")
}

// malformedPath answers a path under /api/video/ or /api/videos/ that no
// route matches: one that cannot name a video.
func malformedPath(w http.ResponseWriter, r *http.Request) error {
	return errorf(http.StatusBadRequest, CodeMalformedID, "malformed video path")
}
