package config

import (
	"flag"
	"os"
	"reflect"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the README's table of variables from Vars")

const (
	tableBegin = "<!-- variables: generated from server/config/vars.go by `go test ./server/config -run README -update` -->\n"
	tableEnd   = "<!-- end of variables -->\n"
)

// The README's table of variables is Vars, row for row: the same names,
// defaults and meanings, in the same order.
func TestREADMETableIsVars(t *testing.T) {
	const path = "../../README.md"
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	readme := string(b)
	before, rest, ok := strings.Cut(readme, tableBegin)
	table, after, ok2 := strings.Cut(rest, tableEnd)
	if !ok || !ok2 {
		t.Fatalf("README.md has no table between %q and %q", tableBegin, tableEnd)
	}
	want := Table()
	if *update {
		if err := os.WriteFile(path, []byte(before+tableBegin+want+tableEnd+after), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	got := strings.Split(strings.TrimSuffix(table, "\n"), "\n")
	wantRows := strings.Split(strings.TrimSuffix(want, "\n"), "\n")
	for i := range max(len(got), len(wantRows)) {
		var g, w string
		if i < len(got) {
			g = got[i]
		}
		if i < len(wantRows) {
			w = wantRows[i]
		}
		if g != w {
			t.Errorf("README table row %d:\n got  %s\n want %s", i+1, g, w)
		}
	}
	if t.Failed() {
		t.Log("rewrite it with: go test ./server/config -run README -update")
	}
}

// Every variable FromEnv reads is in Vars: a variable set to nonsense is
// refused by name, or changes the Config, so none is read on the side.
func TestEveryVarIsRead(t *testing.T) {
	base := Default()
	for _, v := range Vars {
		for _, name := range append([]string{v.Name}, v.Aliases...) {
			c, err := FromEnv(func(k string) string {
				if k == name {
					return "x-not-a-default-x"
				}
				return ""
			})
			if err == nil && equalConfig(c, base) {
				t.Errorf("%s: setting it changed nothing", name)
			}
			if err != nil && !strings.Contains(err.Error(), name) {
				t.Errorf("%s: got %v, want an error naming it", name, err)
			}
		}
	}
}

// The documented default is the value in force when the variable is unset.
func TestDefaultsAreTheTables(t *testing.T) {
	base := Default()
	for _, v := range Vars {
		if v.Default == "" {
			continue
		}
		c, err := FromEnv(func(k string) string {
			if k == v.Name {
				return v.Default
			}
			return ""
		})
		if err != nil || !equalConfig(c, base) {
			t.Errorf("%s=%s: got %+v (%v), want the defaults %+v", v.Name, v.Default, c, err, base)
		}
	}
}

func equalConfig(a, b Config) bool { return reflect.DeepEqual(a, b) }
