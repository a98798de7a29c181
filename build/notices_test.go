package build

import (
	"debug/buildinfo"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestLicenceName(t *testing.T) {
	tests := []struct{ text, want string }{
		{"MIT License\n\nCopyright (c) 2014 X\n\nPermission is hereby granted, free of charge, to any person", "MIT"},
		{"Apache License\n                           Version 2.0, January 2004", "Apache-2.0"},
		{"Redistribution and use in source and binary forms, with or without\nmodification ... Neither the name of Google Inc. nor", "BSD-3-Clause"},
		{"Redistribution and use in source and binary forms, with or without\nmodification, are permitted provided", "BSD-2-Clause"},
		{"Permission to use, copy, modify, and/or distribute this software for any\npurpose with or without fee", "ISC"},
		{"Mozilla Public License Version 2.0\n==================================", "MPL-2.0"},
		{"GNU GENERAL PUBLIC LICENSE Version 3", ""},
		{"All rights reserved.", ""},
	}
	for _, tt := range tests {
		if got := licenceName(tt.text); got != tt.want {
			t.Errorf("licenceName(%.40q): got %q, want %q", tt.text, got, tt.want)
		}
	}
}

func TestEscapeModulePath(t *testing.T) {
	if got, want := escapeModulePath("github.com/BurntSushi/toml"), "github.com/!burnt!sushi/toml"; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
}

// A module without a licence file, or with one not known here, stops the
// package: nothing ships whose terms were not read.
func TestNoticesRefuse(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "app")
	if out, err := exec.Command("go", "build", "-o", bin, "github.com/assetlab/assetlab/desktop/cmd/assetlab-upload").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	real := strings.TrimSpace(goEnv(t, "GOMODCACHE"))
	info, err := buildinfo.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	var xdg, uuid string // the folders of the versions linked in
	for _, m := range info.Deps {
		switch m.Path {
		case "github.com/adrg/xdg":
			xdg = "github.com/adrg/xdg@" + m.Version
		case "github.com/google/uuid":
			uuid = "github.com/google/uuid@" + m.Version
		}
	}
	if xdg == "" || uuid == "" {
		t.Fatalf("the program links no xdg or uuid: %v", info.Deps)
	}
	if _, err := Notices(bin, real, ""); err != nil {
		t.Fatalf("with the real module cache: %v", err)
	}

	// A cache of copies: xdg's licence made unknown, uuid's removed.
	cache := filepath.Join(dir, "cache")
	for _, m := range []string{xdg, uuid} {
		if err := os.MkdirAll(filepath.Join(cache, m), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	os.WriteFile(filepath.Join(cache, xdg, "LICENSE"), []byte("Do what you like.\n"), 0o644)
	_, err = Notices(bin, cache, "")
	if err == nil || !strings.Contains(err.Error(), "github.com/adrg/xdg") {
		t.Errorf("an unknown licence: got %v, want an error naming github.com/adrg/xdg", err)
	}
	b, _ := os.ReadFile(filepath.Join(real, xdg, "LICENSE"))
	os.WriteFile(filepath.Join(cache, xdg, "LICENSE"), b, 0o644)
	_, err = Notices(bin, cache, "")
	if err == nil || !strings.Contains(err.Error(), "github.com/google/uuid") || !strings.Contains(err.Error(), "no LICENSE file") {
		t.Errorf("no licence file: got %v, want an error naming github.com/google/uuid", err)
	}

	// With its licence back, a COPYING beside a LICENSE is not taken for
	// it, and a NOTICE goes with the licences.
	b, _ = os.ReadFile(filepath.Join(real, uuid, "LICENSE"))
	os.WriteFile(filepath.Join(cache, uuid, "LICENSE"), b, 0o644)
	os.WriteFile(filepath.Join(cache, uuid, "COPYING"), []byte("GNU GENERAL PUBLIC LICENSE Version 3\n"), 0o644)
	os.WriteFile(filepath.Join(cache, xdg, "NOTICE.txt"), []byte("XDG for Go\r\nCopyright 2014 Someone\r\n"), 0o644)
	got, err := Notices(bin, cache, "")
	if err != nil {
		t.Fatalf("LICENSE and COPYING, and a NOTICE: %v", err)
	}
	if want := "The NOTICE of github.com/adrg/xdg:\n\nXDG for Go\nCopyright 2014 Someone\n"; !strings.Contains(got, want) {
		t.Errorf("got notices\n%s\nwant them to hold %q", got, want)
	}
}

func goEnv(t *testing.T, name string) string {
	t.Helper()
	out, err := exec.Command("go", "env", name).Output()
	if err != nil {
		t.Fatalf("go env %s: %v", name, err)
	}
	return string(out)
}
