package desktop

import (
	"os"
	"reflect"
	"regexp"
	"strings"
	"testing"
)

// The web UI declares the bound methods it calls by hand (desktop.svelte.ts,
// interface Bound), as Wails's generated bindings are not kept: each must be
// a method of App, with as many arguments.
func TestUIBindingsMatchApp(t *testing.T) {
	src, err := os.ReadFile("../frontend/src/lib/desktop.svelte.ts")
	if err != nil {
		t.Fatal(err)
	}
	block := regexp.MustCompile(`(?s)interface Bound \{(.*?)\n\}`).FindSubmatch(src)
	if block == nil {
		t.Fatal("no interface Bound in desktop.svelte.ts")
	}
	methods := regexp.MustCompile(`(?m)^\s*(\w+)\((.*?)\):`).FindAllStringSubmatch(string(block[1]), -1)
	if len(methods) < 10 {
		t.Fatalf("got %d methods in interface Bound, want the app's (at least 10)", len(methods))
	}
	app := reflect.TypeOf(&App{})
	for _, m := range methods {
		name, args := m[1], 0
		if strings.TrimSpace(m[2]) != "" {
			args = strings.Count(m[2], ",") + 1
		}
		gm, ok := app.MethodByName(name)
		if !ok {
			t.Errorf("the UI calls %s, which App does not have", name)
			continue
		}
		if got := gm.Type.NumIn() - 1; got != args {
			t.Errorf("%s: the UI passes %d arguments, App takes %d", name, args, got)
		}
	}
}
