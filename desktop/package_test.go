package desktop

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/assetlab/assetlab/desktop/deb"
)

// The Debian package from `make package-linux` installs with apt, the app
// starts from its menu entry's Exec line and draws its window, with its icon
// and its version, and apt's purge leaves none of its files. It installs on
// this machine, so it runs only as root, when `make test-desktop` names the
// package in ASSETLAB_DEB. The package's size and the time from launch to a
// drawn window go to test-artifacts/desktop/package-linux.txt.
func TestDebInstallRunRemove(t *testing.T) {
	pkg := os.Getenv("ASSETLAB_DEB")
	switch {
	case pkg == "":
		t.Skip("ASSETLAB_DEB is not set: `make test-desktop` builds the package and sets it")
	case os.Geteuid() != 0:
		t.Skip("installing the package needs root")
	}
	if _, err := exec.LookPath("apt-get"); err != nil {
		t.Skip("no apt-get: not a Debian system")
	}
	pkg, _ = filepath.Abs(pkg)
	st, err := os.Stat(pkg)
	if err != nil {
		t.Fatal(err)
	}
	field := func(name string) string {
		out, err := exec.Command("dpkg-deb", "--field", pkg, name).Output()
		if err != nil {
			t.Fatalf("dpkg-deb --field %s: %v", name, err)
		}
		return strings.TrimSpace(string(out))
	}
	version := field("Version")

	purge := func() {
		if out, err := exec.Command("apt-get", "purge", "-y", deb.Name).CombinedOutput(); err != nil {
			t.Errorf("apt-get purge: %v\n%s", err, out)
		}
	}
	apt := exec.Command("apt-get", "install", "-y", "--no-install-recommends", pkg)
	apt.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
	if out, err := apt.CombinedOutput(); err != nil {
		t.Fatalf("apt-get install %s: %v\n%s", pkg, err, out)
	}
	removed := false
	t.Cleanup(func() {
		if !removed {
			purge()
		}
	})
	out, err := exec.Command("dpkg", "-L", deb.Name).Output()
	if err != nil {
		t.Fatalf("dpkg -L: %v", err)
	}
	files := strings.Fields(string(out))
	for _, want := range []string{"/usr/bin/assetlab-desktop", "/usr/share/applications/assetlab-desktop.desktop", "/usr/share/icons/hicolor/256x256/apps/assetlab-desktop.png"} {
		if !slices.Contains(files, want) {
			t.Errorf("the package installed no %s", want)
		}
	}

	// The version stamped into the binary is the package's.
	stamped, err := exec.Command("/usr/bin/assetlab-desktop", "--version").Output()
	if err != nil {
		t.Fatalf("assetlab-desktop --version: %v", err)
	}
	v := strings.TrimPrefix(strings.TrimSpace(string(stamped)), "AssetLab ")
	if got := deb.Version(v); got != version || v == "dev" {
		t.Errorf("the installed app says it is %q (%s as a Debian version), the package says %s", v, got, version)
	}

	// Start it as a menu would: the entry's Exec line, with no file for %F.
	entry, err := os.ReadFile("/usr/share/applications/assetlab-desktop.desktop")
	if err != nil {
		t.Fatal(err)
	}
	exec_ := regexp.MustCompile(`(?m)^Exec=(.*)$`).FindSubmatch(entry)
	if exec_ == nil {
		t.Fatal("the desktop entry has no Exec line")
	}
	var argv []string
	for _, f := range strings.Fields(string(exec_[1])) {
		if !strings.HasPrefix(f, "%") {
			argv = append(argv, f)
		}
	}
	bin, err := exec.LookPath(argv[0])
	if err != nil {
		t.Fatalf("the Exec line's program %q is not on PATH: %v", argv[0], err)
	}

	s := newScreen(t, 1280, 900)
	dir := t.TempDir()
	start := time.Now()
	app, _ := startApp(t, bin, s.display, dir, argv[1:]...)
	shot, drawn := s.waitDrawn("package-linux.png", 60*time.Second)
	launch := time.Since(start)
	if !drawn {
		t.Fatalf("the installed app drew no page in 60 s; see %s", shot)
	}
	// The screenshot that showed the page was taken this long after the
	// start (the sampling adds up to a few hundred milliseconds).
	t.Logf("launch to drawn window: %.1f s; package %s is %.1f MiB", launch.Seconds(), filepath.Base(pkg), float64(st.Size())/(1<<20))
	checkWindowIcon(s)
	app.Process.Kill()
	app.Wait()

	report := fmt.Sprintf("package: %s\nsize: %d bytes (%.1f MiB)\ninstalled size: %s KiB\nlaunch to drawn window (installed app, Xvfb): %.1f s\nscreenshot: %s\n",
		filepath.Base(pkg), st.Size(), float64(st.Size())/(1<<20), field("Installed-Size"), launch.Seconds(), shot)
	os.WriteFile(filepath.Join(artifactsDir(t), "package-linux.txt"), []byte(report), 0o644)

	// Purged, it leaves none of its files, and of its folders only those
	// that other packages own too.
	purge()
	removed = true
	if out, err := exec.Command("dpkg-query", "-W", "-f=${db:Status-Abbrev}", deb.Name).Output(); err == nil && strings.TrimSpace(string(out)) != "un" {
		t.Errorf("after purge dpkg says %q of the package, want it unknown", out)
	}
	for _, f := range files {
		if f == "/." {
			continue // dpkg -L lists the root
		}
		fi, err := os.Lstat(f)
		if err != nil {
			continue
		}
		if !fi.IsDir() {
			t.Errorf("purge left %s", f)
		} else if exec.Command("dpkg-query", "-S", f).Run() != nil {
			t.Errorf("purge left the folder %s, which no other package owns", f)
		}
	}
}

// The window has the app's icon and program name (its WM_CLASS, which the
// desktop entry's StartupWMClass names).
func TestWindowIcon(t *testing.T) {
	bin := appBin(t)
	s := newScreen(t, 1280, 900)
	startApp(t, bin, s.display, t.TempDir())
	if _, ok := s.waitDrawn("window-icon.png", 30*time.Second); !ok {
		t.Fatal("the app drew no page in 30 s")
	}
	checkWindowIcon(s)
}

// checkWindowIcon finds the app's window on the screen and checks its icon
// and WM_CLASS.
func checkWindowIcon(s *screen) {
	t := s.t
	t.Helper()
	search := exec.Command("xdotool", "search", "--onlyvisible", "--name", "^AssetLab$")
	search.Env = s.env()
	out, err := search.Output()
	ids := strings.Fields(string(out))
	if err != nil || len(ids) == 0 {
		t.Fatalf("no window named AssetLab: %v", err)
	}
	props := s.x("xprop", "-id", ids[0], "WM_CLASS", "_NET_WM_ICON")
	class := regexp.MustCompile(`WM_CLASS\(STRING\) = (.*)`).FindStringSubmatch(props)
	icon := regexp.MustCompile(`Icon \(\d+ x \d+\)`).FindString(props)
	if class == nil {
		t.Fatalf("the window has no WM_CLASS:\n%.300s", props)
	}
	if want := fmt.Sprintf("%q", ProgramName); !strings.HasPrefix(class[1], want) {
		t.Errorf("got a WM_CLASS of %s, want %s", class[1], want)
	}
	if want := fmt.Sprintf("Icon (%d x %d)", windowIconSize, windowIconSize); icon != want {
		t.Errorf("window icon: got %q, want %q", icon, want)
	}
}

// What Go's Info gives the UI is what the UI's DesktopInfo declares: a field
// added on one side only (the version, say) would not reach the page.
func TestUIDesktopInfoMatchesInfo(t *testing.T) {
	src, err := os.ReadFile("../frontend/src/lib/desktop.svelte.ts")
	if err != nil {
		t.Fatal(err)
	}
	block := regexp.MustCompile(`(?s)interface DesktopInfo \{(.*?)\n\}`).FindSubmatch(src)
	if block == nil {
		t.Fatal("no interface DesktopInfo in desktop.svelte.ts")
	}
	var ui []string
	for _, m := range regexp.MustCompile(`(?m)^\s*(\w+)\??:`).FindAllSubmatch(block[1], -1) {
		ui = append(ui, string(m[1]))
	}
	var goSide []string
	typ := reflect.TypeOf(Info{})
	for i := range typ.NumField() {
		goSide = append(goSide, strings.Split(typ.Field(i).Tag.Get("json"), ",")[0])
	}
	slices.Sort(ui)
	slices.Sort(goSide)
	if !slices.Equal(ui, goSide) {
		t.Errorf("DesktopInfo declares %v, Info gives %v", ui, goSide)
	}
	b, _ := json.Marshal(NewApp(filepath.Join(t.TempDir(), "s.json")).Info())
	if !strings.Contains(string(b), fmt.Sprintf(`"version":%q`, Version)) {
		t.Errorf("got %s, want the version %q in it", b, Version)
	}
}
