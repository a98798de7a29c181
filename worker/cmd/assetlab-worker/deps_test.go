package main

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// The standalone worker links the shared contract (config, storage, video,
// jobs) and the transcode, never the HTTP API or what only it needs: the
// dependencies point one way, from the server's assembly to the worker.
func TestWorkerLinksNoHTTPAPI(t *testing.T) {
	const module = "github.com/assetlab/assetlab/"
	// go test puts its own go first in PATH.
	out, err := exec.Command("go", "list", "-deps", ".").Output()
	if err != nil {
		if ee, ok := err.(*exec.ExitError); ok {
			t.Fatalf("go list -deps: %v\n%s", err, ee.Stderr)
		}
		t.Fatalf("go list -deps: %v", err)
	}
	deps := strings.Fields(string(out))
	// What it must link, so that an empty or failed listing cannot pass.
	for _, want := range []string{module + "worker", module + "server/storage", module + "server/jobs"} {
		if !slices.Contains(deps, want) {
			t.Fatalf("go list -deps does not list %s: got %d packages %v", want, len(deps), deps)
		}
	}
	forbidden := []string{
		"github.com/go-chi/", // the router and the CORS middleware
		module + "server/api",
		module + "server/app",
		module + "frontend", // the embedded web UI
		"github.com/wailsapp/",
	}
	for _, dep := range deps {
		for _, f := range forbidden {
			if dep == f || strings.HasPrefix(dep, strings.TrimSuffix(f, "/")+"/") {
				t.Errorf("the worker binary links %s", dep)
			}
		}
	}
}
