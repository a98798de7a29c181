package deb

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestVersion(t *testing.T) {
	tests := []struct{ describe, want string }{
		{"v1.2.3", "1.2.3"},
		{"1.2.3", "1.2.3"},
		{"v1.2.3-dirty", "1.2.3+0.dirty"},
		{"v1.2.3-4-gabc1234", "1.2.3+4.gabc1234"},
		{"v1.2.3-4-gabc1234-dirty", "1.2.3+4.gabc1234.dirty"},
		{"v1.2.3-rc1", "1.2.3~rc1"},
		{"v1.2.3-rc1-2-gabc1234", "1.2.3~rc1+2.gabc1234"},
		{"e30d8fa", "0.0.0~gite30d8fa"},
		{"ge30d8fa", "0.0.0~gite30d8fa"},
		{"e30d8fa-dirty", "0.0.0~gite30d8fa.dirty"},
		{"dev", "0.0.0~dev"},
		{"", "0.0.0~dev"},
		{"release_x/y", "0.0.0~release.x.y"},
	}
	for _, tt := range tests {
		if got := Version(tt.describe); got != tt.want {
			t.Errorf("Version(%q): got %q, want %q", tt.describe, got, tt.want)
		}
	}
}

// dpkg agrees that the versions sort as the commits they come from.
func TestVersionOrder(t *testing.T) {
	if _, err := exec.LookPath("dpkg"); err != nil {
		t.Skip("no dpkg: not a Debian system")
	}
	order := []string{"dev", "e30d8fa", "v0.1.0-rc1", "v0.1.0-rc1-3-gabc1234", "v0.1.0", "v0.1.0-dirty", "v0.1.0-1-gabc1234", "v0.1.0-12-gabc1234", "v0.1.1"}
	for i := 1; i < len(order); i++ {
		a, b := Version(order[i-1]), Version(order[i])
		if err := exec.Command("dpkg", "--compare-versions", a, "lt", b).Run(); err != nil {
			t.Errorf("dpkg does not sort %s (%s) before %s (%s)", a, order[i-1], b, order[i])
		}
	}
}

func TestDesktopEntryValidates(t *testing.T) {
	validate, err := exec.LookPath("desktop-file-validate")
	if err != nil {
		t.Skip("desktop-file-validate is not installed (apt-get install desktop-file-utils)")
	}
	path := filepath.Join(t.TempDir(), Name+".desktop")
	if err := os.WriteFile(path, []byte(DesktopEntry()), 0o644); err != nil {
		t.Fatal(err)
	}
	// Clean means no error, no warning and no hint.
	if out, err := exec.Command(validate, path).CombinedOutput(); err != nil || len(out) > 0 {
		t.Errorf("desktop-file-validate: %v\n%s", err, out)
	}
}

// A package built from a stand-in binary holds what it should, says what it
// needs, and is the same byte for byte when built again.
func TestBuild(t *testing.T) {
	if _, err := exec.LookPath("dpkg-deb"); err != nil {
		t.Skip("no dpkg-deb: not a Debian system")
	}
	dir := t.TempDir()
	// A small program of this module, linked with two modules of others.
	bin := filepath.Join(dir, "app")
	if out, err := exec.Command("go", "build", "-o", bin, "github.com/assetlab/assetlab/desktop/cmd/assetlab-upload").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	t.Setenv("SOURCE_DATE_EPOCH", "1700000000")
	p := Package{Version: "v1.2.3-4-gabc1234", Arch: "amd64", Binary: bin}
	deb, err := Build(p, filepath.Join(dir, "a"))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := filepath.Base(deb), "assetlab-desktop_1.2.3+4.gabc1234_amd64.deb"; got != want {
		t.Errorf("got %s, want %s", got, want)
	}

	fields := map[string]string{}
	for _, f := range []string{"Package", "Version", "Architecture", "Depends", "Recommends"} {
		out, err := exec.Command("dpkg-deb", "--field", deb, f).Output()
		if err != nil {
			t.Fatalf("dpkg-deb --field %s: %v", f, err)
		}
		fields[f] = strings.TrimSpace(string(out))
	}
	if fields["Package"] != Name || fields["Version"] != "1.2.3+4.gabc1234" || fields["Architecture"] != "amd64" {
		t.Errorf("got %v, want %s 1.2.3+4.gabc1234 amd64", fields, Name)
	}
	for _, dep := range []string{"libwebkit2gtk-4.1-0", "libgtk-3-0", "gstreamer1.0-libav", "gstreamer1.0-plugins-good", "gstreamer1.0-plugins-bad", "ffmpeg"} {
		if !slices.Contains(strings.Split(fields["Depends"], ", "), dep) {
			t.Errorf("Depends: got %q, want it to hold %s", fields["Depends"], dep)
		}
	}

	out, err := exec.Command("dpkg-deb", "--contents", deb).Output()
	if err != nil {
		t.Fatal(err)
	}
	listing := string(out)
	want := []string{
		"-rwxr-xr-x root/root", "./usr/bin/assetlab-desktop",
		"./usr/share/applications/assetlab-desktop.desktop",
		"./usr/share/icons/hicolor/16x16/apps/assetlab-desktop.png",
		"./usr/share/icons/hicolor/48x48/apps/assetlab-desktop.png",
		"./usr/share/icons/hicolor/512x512/apps/assetlab-desktop.png",
		"./usr/share/doc/assetlab-desktop/copyright",
	}
	for _, w := range want {
		if !strings.Contains(listing, w) {
			t.Errorf("the package's files hold no %q:\n%s", w, listing)
		}
	}

	// The copyright file carries the licences of the modules linked in.
	copyright, err := exec.Command("dpkg-deb", "--fsys-tarfile", deb).Output()
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{
		`(?m)^ github\.com/adrg/xdg v\S+: MIT$`, `(?m)^ github\.com/google/uuid v\S+: BSD-3-Clause$`,
		`(?m)^ Go standard library go\S+: BSD-3-Clause$`, `Copyright 2009 The Go Authors`,
		`Copyright \(c\) 2014 Adrian-George Bostan`, `Copyright \(c\) 2009,2014 Google Inc\.`,
	} {
		if !regexp.MustCompile(w).Match(copyright) {
			t.Errorf("the copyright file holds no %s", w)
		}
	}

	// A second later, so that only SOURCE_DATE_EPOCH can make the dates agree.
	time.Sleep(1100 * time.Millisecond)
	again, err := Build(p, filepath.Join(dir, "b"))
	if err != nil {
		t.Fatal(err)
	}
	a, _ := os.ReadFile(deb)
	b, _ := os.ReadFile(again)
	if !bytes.Equal(a, b) {
		t.Errorf("two builds from the same binary differ (%d and %d bytes)", len(a), len(b))
	}
}
