// Package deb makes the desktop app's Debian package: the binary in /usr/bin,
// a desktop entry that opens videos, icons in the hicolor theme, and the
// packages it needs at run time, assembled in a folder and packed by
// dpkg-deb, which every Debian system has.
package deb

import (
	"bytes"
	"crypto/md5"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"github.com/assetlab/assetlab/build"
)

// Name is the package's name, and the name of its binary, desktop entry and
// icon: a shell matches the window to its entry by the program name too.
const Name = "assetlab-desktop"

// Depends is what the app needs besides its own binary: WebKitGTK 4.1 and
// GTK 3 to show the UI; GStreamer's avdec_h264 (libav) and MP4 demuxer
// (good) for the player, and h264parse (bad), which WebKitGTK's Media Source
// Extensions put before the decoder when hls.js plays a stream (WebKitGTK
// only recommends libav and bad, and a system installed without
// recommends would show a player that plays nothing); and FFmpeg for the
// built-in server's transcoder.
var Depends = []string{
	"libwebkit2gtk-4.1-0",
	"libgtk-3-0",
	"gstreamer1.0-plugins-good",
	"gstreamer1.0-plugins-bad",
	"gstreamer1.0-libav",
	"ffmpeg",
}

// Recommends is what helps but is not needed: GStreamer's OpenGL video sink,
// which WebKitGTK uses when it can.
var Recommends = []string{"gstreamer1.0-gl"}

// IconSizes are the hicolor sizes made from the app icon.
var IconSizes = []int{16, 24, 32, 48, 64, 128, 256, 512}

// MimeTypes are the videos the app opens: MP4, MOV, WebM and Matroska, what
// the server accepts.
var MimeTypes = []string{"video/mp4", "video/x-m4v", "video/quicktime", "video/webm", "video/x-matroska"}

// DesktopEntry is the app's entry in menus and in "Open with" (%F: the
// files chosen, none when started from a menu).
func DesktopEntry() string {
	return `[Desktop Entry]
Type=Application
Name=AssetLab
GenericName=Video Sharing
Comment=Upload videos and share links to stream them
Exec=` + Name + ` %F
Icon=` + Name + `
Terminal=false
Categories=AudioVideo;Video;
MimeType=` + strings.Join(MimeTypes, ";") + `;
Keywords=video;upload;stream;share;transcode;
StartupNotify=true
StartupWMClass=` + Name + `
`
}

// Package is what goes into one .deb.
type Package struct {
	// Version is the app's version as `git describe` gives it (see Version).
	Version string
	// Arch is the Debian architecture of Binary, e.g. amd64.
	Arch string
	// Binary is the built app.
	Binary string
	// Maintainer is the package's Maintainer field ("Name <email>").
	Maintainer string
	// ModCache and GoRoot are the Go module cache and installation Binary
	// was built with: the licences of what is linked into it are read
	// there (see build.Notices); "" asks the go command.
	ModCache, GoRoot string
}

// FileName is the package's file name, as Debian names them.
func (p Package) FileName() string {
	return fmt.Sprintf("%s_%s_%s.deb", Name, Version(p.Version), p.Arch)
}

// Build writes the package into dir and returns its path. Set
// SOURCE_DATE_EPOCH for a package that is the same byte for byte from the
// same binary: dpkg-deb stamps every file with it.
func Build(p Package, dir string) (string, error) {
	root, err := os.MkdirTemp("", "assetlab-deb-")
	if err != nil {
		return "", fmt.Errorf("make staging folder: %w", err)
	}
	defer os.RemoveAll(root)

	bin, err := os.ReadFile(p.Binary)
	if err != nil {
		return "", fmt.Errorf("read the app: %w", err)
	}
	notices, err := build.Notices(p.Binary, p.ModCache, p.GoRoot)
	if err != nil {
		return "", err
	}
	files := map[string][]byte{
		"usr/share/applications/" + Name + ".desktop": []byte(DesktopEntry()),
		"usr/share/doc/" + Name + "/copyright":        []byte(copyright + "\n" + notices),
	}
	for _, size := range IconSizes {
		png, err := build.Icon(size)
		if err != nil {
			return "", err
		}
		files[fmt.Sprintf("usr/share/icons/hicolor/%dx%d/apps/%s.png", size, size, Name)] = png
	}
	if err := write(root, "usr/bin/"+Name, bin, 0o755); err != nil {
		return "", err
	}
	for path, data := range files {
		if err := write(root, path, data, 0o644); err != nil {
			return "", err
		}
	}

	// md5sums lets `dpkg --verify` check the installed files.
	var sums bytes.Buffer
	var installed int64
	var paths []string
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		paths = append(paths, rel)
		return nil
	})
	if err != nil {
		return "", fmt.Errorf("list staged files: %w", err)
	}
	sort.Strings(paths)
	for _, rel := range paths {
		data, err := os.ReadFile(filepath.Join(root, rel))
		if err != nil {
			return "", fmt.Errorf("read staged file: %w", err)
		}
		installed += int64(len(data))
		fmt.Fprintf(&sums, "%x  %s\n", md5.Sum(data), rel)
	}
	if err := write(root, "DEBIAN/md5sums", sums.Bytes(), 0o644); err != nil {
		return "", err
	}
	if err := write(root, "DEBIAN/control", []byte(p.control((installed+1023)/1024)), 0o644); err != nil {
		return "", err
	}

	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("make output folder: %w", err)
	}
	out := filepath.Join(dir, p.FileName())
	cmd := exec.Command("dpkg-deb", "--root-owner-group", "-Zxz", "--build", root, out)
	if msg, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("dpkg-deb: %w: %s", err, msg)
	}
	return out, nil
}

func (p Package) control(installedKiB int64) string {
	maintainer := p.Maintainer
	if maintainer == "" {
		maintainer = "AssetLab <assetlab@localhost>"
	}
	return fmt.Sprintf(`Package: %s
Version: %s
Architecture: %s
Maintainer: %s
Installed-Size: %d
Depends: %s
Recommends: %s
Section: video
Priority: optional
Description: self-hosted video upload and streaming, desktop app
 AssetLab uploads videos to an AssetLab server, or to the server built into
 the app, and plays them back: the original at once, then 360p, 720p and
 1080p versions made with FFmpeg. Links to a video play in any browser.
`, Name, Version(p.Version), p.Arch, maintainer, installedKiB,
		strings.Join(Depends, ", "), strings.Join(Recommends, ", "))
}

// copyright heads the package's copyright file; the notices of the Go
// modules linked into the binary follow it.
const copyright = `AssetLab desktop app
Copyright: AssetLab authors

/usr/bin/` + Name + ` is one statically linked Go program: AssetLab's own
code and the Go modules listed below. It runs FFmpeg, from Debian's own
package, as a separate program.
`

func write(root, rel string, data []byte, mode os.FileMode) error {
	path := filepath.Join(root, rel)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("stage %s: %w", rel, err)
	}
	if err := os.WriteFile(path, data, mode); err != nil {
		return fmt.Errorf("stage %s: %w", rel, err)
	}
	// The umask may have taken bits away; dpkg installs what is here.
	return os.Chmod(path, mode)
}

var (
	commit = regexp.MustCompile(`^g?([0-9a-f]{7,40})(-dirty)?$`)
	tagged = regexp.MustCompile(`^v?([0-9][0-9A-Za-z.-]*?)(?:-([0-9]+)-g([0-9a-f]+))?(-dirty)?$`)
	unsafe = regexp.MustCompile(`[^0-9A-Za-z.+~]+`)
)

// Version maps a `git describe --tags --always --dirty` to a Debian version
// that sorts the same way: v1.2.3 → 1.2.3; 4 commits after it →
// 1.2.3+4.gabc1234 (later than 1.2.3, earlier than 1.2.4); v1.2.3-rc1 →
// 1.2.3~rc1 (earlier than 1.2.3); no tag, only a commit → 0.0.0~gitabc1234
// (earlier than any release); uncommitted changes add .dirty; nothing
// ("dev", "") → 0.0.0~dev. No hyphen is left: in a Debian version it would
// start a Debian revision.
func Version(describe string) string {
	if m := commit.FindStringSubmatch(describe); m != nil {
		v := "0.0.0~git" + m[1]
		if m[2] != "" {
			v += ".dirty"
		}
		return v
	}
	if m := tagged.FindStringSubmatch(describe); m != nil {
		v := strings.ReplaceAll(m[1], "-", "~") // 1.2.3-rc1 comes before 1.2.3
		if m[2] != "" {
			v += "+" + m[2] + ".g" + m[3]
		}
		if m[4] != "" {
			if m[2] == "" {
				v += "+0" // changes on the tag itself: before the next commit
			}
			v += ".dirty"
		}
		return v
	}
	if s := strings.Trim(unsafe.ReplaceAllString(describe, "."), "."); s != "" {
		return "0.0.0~" + s
	}
	return "0.0.0~dev"
}
