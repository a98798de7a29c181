package build

import (
	"bytes"
	"debug/buildinfo"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"sort"
	"strings"
	"unicode"
)

// Notices is the text that the licences of the Go modules linked into the
// program at binary, and of Go's standard library, ask to go with it: each
// module with its licence, then each licence text once, with the copyright
// lines it carries, and each module's NOTICE file (Apache-2.0 asks for it). The modules are read from the program's build
// information and their licence files from modCache, the module cache it
// was built from, and the standard library's from goRoot, the Go it was
// built with; "" for either asks the go command (`go env`).
// A module without a licence file, or with a licence not known here, is an
// error: a new dependency's terms are then read by a person before it ships.
func Notices(binary, modCache, goRoot string) (string, error) {
	for _, v := range []struct {
		dir  *string
		name string
	}{{&modCache, "GOMODCACHE"}, {&goRoot, "GOROOT"}} {
		if *v.dir != "" {
			continue
		}
		out, err := exec.Command("go", "env", v.name).Output()
		if err != nil {
			return "", fmt.Errorf("go env %s: %w", v.name, err)
		}
		*v.dir = strings.TrimSpace(string(out))
	}
	info, err := buildinfo.ReadFile(binary)
	if err != nil {
		return "", fmt.Errorf("read the build information of %s: %w", binary, err)
	}
	// Each distinct text once, in the order of the first module that has it.
	type text struct {
		heading string // what the text is: a licence's name, or NOTICE
		modules []string
	}
	var order []string
	texts := map[string]*text{}
	add := func(body, heading, module string) {
		t := texts[body]
		if t == nil {
			t = &text{heading: heading}
			texts[body] = t
			order = append(order, body)
		}
		t.modules = append(t.modules, module)
	}
	var list strings.Builder
	std := &debug.Module{Path: "Go standard library", Version: info.GoVersion}
	for _, m := range append([]*debug.Module{std}, info.Deps...) {
		if m.Replace != nil {
			m = m.Replace
		}
		dir := filepath.Join(modCache, escapeModulePath(m.Path)+"@"+m.Version)
		switch {
		case m == std:
			dir = goRoot
		case m.Version == "": // replaced by a folder
			dir = m.Path
		}
		body, err := firstFile(dir, "LICENSE", "LICENCE", "COPYING")
		if err == nil && body == "" {
			err = fmt.Errorf("no LICENSE file in %s", dir)
		}
		if err != nil {
			return "", fmt.Errorf("licence of %s %s: %w", m.Path, m.Version, err)
		}
		name := licenceName(body)
		if name == "" {
			return "", fmt.Errorf("licence of %s %s: not one of MIT, BSD-2-Clause, BSD-3-Clause, Apache-2.0, ISC, MPL-2.0", m.Path, m.Version)
		}
		fmt.Fprintf(&list, " %s %s: %s\n", m.Path, m.Version, name)
		add(body, name+", the licence", m.Path)
		// Apache-2.0 (4d) asks that a work's NOTICE go with it too.
		notice, err := firstFile(dir, "NOTICE")
		if err != nil {
			return "", fmt.Errorf("notice of %s %s: %w", m.Path, m.Version, err)
		}
		if notice != "" {
			add(notice, "The NOTICE", m.Path)
		}
	}
	var b strings.Builder
	b.WriteString("The program contains these Go modules, under these licences:\n")
	b.WriteString(list.String())
	for _, body := range order {
		t := texts[body]
		fmt.Fprintf(&b, "\n%s of %s:\n\n", t.heading, strings.Join(t.modules, ", "))
		b.WriteString(body)
	}
	return b.String(), nil
}

// firstFile reads the first file in dir whose name starts with one of
// prefixes (case-blind), taken in that order, with its line ends made Unix
// ones and its end made one newline; "" if there is none.
func firstFile(dir string, prefixes ...string) (string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return "", err
	}
	for _, prefix := range prefixes {
		var names []string
		for _, e := range entries {
			if !e.IsDir() && strings.HasPrefix(strings.ToUpper(e.Name()), prefix) {
				names = append(names, e.Name())
			}
		}
		if len(names) == 0 {
			continue
		}
		sort.Strings(names) // LICENSE before LICENSE-THIRD-PARTY and the like
		b, err := os.ReadFile(filepath.Join(dir, names[0]))
		if err != nil {
			return "", err
		}
		b = bytes.ReplaceAll(b, []byte("\r\n"), []byte("\n"))
		return strings.TrimRight(string(b), " \n\t") + "\n", nil
	}
	return "", nil
}

// licenceName names the licence of text by the words that set each apart,
// "" for none known.
func licenceName(text string) string {
	t := strings.Join(strings.Fields(text), " ")
	switch {
	case strings.Contains(t, "Apache License") && strings.Contains(t, "Version 2.0"):
		return "Apache-2.0"
	case strings.Contains(t, "Mozilla Public License Version 2.0"):
		return "MPL-2.0"
	case strings.Contains(t, "Permission is hereby granted, free of charge"):
		return "MIT"
	case strings.Contains(t, "Permission to use, copy, modify, and/or distribute this software for any purpose"):
		return "ISC"
	case strings.Contains(t, "Redistribution and use in source and binary forms"):
		if strings.Contains(t, "Neither the name") || strings.Contains(t, "The names of its contributors") {
			return "BSD-3-Clause"
		}
		return "BSD-2-Clause"
	}
	return ""
}

// escapeModulePath is a module path as the module cache spells it: each
// capital letter as '!' and the lower-case letter.
func escapeModulePath(path string) string {
	var b strings.Builder
	for _, r := range path {
		if unicode.IsUpper(r) {
			b.WriteByte('!')
			r = unicode.ToLower(r)
		}
		b.WriteRune(r)
	}
	return b.String()
}
