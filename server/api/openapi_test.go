package api

import (
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/go-chi/chi/v5"
)

// Every route the API serves is documented in openapi.yaml.
func TestOpenAPICoversRoutes(t *testing.T) {
	doc, err := os.ReadFile("../openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	r := New(Options{}).Handler().(chi.Routes)
	n := 0
	err = chi.Walk(r, func(method, route string, _ http.Handler, _ ...func(http.Handler) http.Handler) error {
		if strings.HasSuffix(route, "/*") || method == "OPTIONS" {
			return nil // catch-alls that answer 400
		}
		route = strings.TrimSuffix(route, "/")
		n++
		if !strings.Contains(string(doc), "\n  "+route+":\n") {
			t.Errorf("%s %s is not in openapi.yaml", method, route)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n < 8 {
		t.Errorf("walked %d routes; expected the whole API", n)
	}
}
