package api

import (
	"net/http"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/go-chi/chi/v5"
)

// documented reads the operations of openapi.yaml: "GET /api/config", ...
func documented(t *testing.T) []string {
	t.Helper()
	doc, err := os.ReadFile("../openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	_, paths, ok := strings.Cut(string(doc), "\npaths:\n")
	if !ok {
		t.Fatal("openapi.yaml has no paths")
	}
	pathLine := regexp.MustCompile(`^  (/\S*):$`)
	opLine := regexp.MustCompile(`^    (get|put|post|delete|patch|head|options):`)
	var ops []string
	path := ""
	for _, line := range strings.Split(paths, "\n") {
		if m := pathLine.FindStringSubmatch(line); m != nil {
			path = m[1]
		} else if m := opLine.FindStringSubmatch(line); m != nil && path != "" {
			ops = append(ops, strings.ToUpper(m[1])+" "+path)
		} else if line != "" && !strings.HasPrefix(line, " ") {
			break // the next top-level key
		}
	}
	return ops
}

// Every route the API serves is documented in openapi.yaml with its method,
// and every documented operation is served.
func TestOpenAPICoversRoutes(t *testing.T) {
	doc := documented(t)
	var served []string
	r := New(Options{Resumable: http.NotFoundHandler()}).Handler().(chi.Routes)
	err := chi.Walk(r, func(method, route string, _ http.Handler, _ ...func(http.Handler) http.Handler) error {
		if strings.HasPrefix(route, "/files/") || method == "OPTIONS" {
			return nil // the local backend's files, documented as /files/{store}/{key}
		}
		// A wildcard, the rest of the path, is documented as {name}.
		route = strings.Replace(route, "/*", "/{name}", 1)
		op := method + " " + strings.TrimSuffix(route, "/")
		served = append(served, op)
		if !slices.Contains(doc, op) {
			t.Errorf("%s is served but not in openapi.yaml", op)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, op := range doc {
		if strings.HasPrefix(op, "GET /files/") {
			continue // served only with the local backend's stores
		}
		if !slices.Contains(served, op) {
			t.Errorf("%s is in openapi.yaml but not served", op)
		}
	}
	if len(served) < 10 {
		t.Errorf("walked %d routes (%v); expected the whole API", len(served), served)
	}
}
