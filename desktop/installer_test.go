package desktop

import (
	"bytes"
	"debug/pe"
	"encoding/json"
	"os"
	"os/exec"
	"path"
	"strings"
	"testing"
	"unicode/utf16"
)

// The Windows installer that `make package-windows` makes is a Windows
// program (an MZ header pointing to a PE header for amd64) and holds the
// app with ffmpeg.exe and ffprobe.exe beside it, their licence, and the
// licence notices of the Go code in the app.
func TestWindowsInstaller(t *testing.T) {
	installer := os.Getenv("ASSETLAB_WINDOWS_INSTALLER")
	if installer == "" {
		t.Skip("ASSETLAB_WINDOWS_INSTALLER is not set: run `make test-windows-installer`, which builds the installer")
	}
	fi, err := os.Stat(installer)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("installer %s: %d bytes (%.1f MiB)", installer, fi.Size(), float64(fi.Size())/(1<<20))

	head := make([]byte, 2)
	if f, err := os.Open(installer); err != nil {
		t.Fatal(err)
	} else {
		_, err = f.Read(head)
		f.Close()
		if err != nil || string(head) != "MZ" {
			t.Fatalf("first bytes: got %q (%v), want \"MZ\"", head, err)
		}
	}
	// pe.Open follows the MZ header's pointer to the "PE\0\0" signature
	// and reads the COFF header after it.
	f, err := pe.Open(installer)
	if err != nil {
		t.Fatalf("not a PE file: %v", err)
	}
	defer f.Close()
	// NSIS stubs are 32-bit programs that run on every Windows.
	if f.Machine != pe.IMAGE_FILE_MACHINE_I386 && f.Machine != pe.IMAGE_FILE_MACHINE_AMD64 {
		t.Errorf("machine: got %#x, want i386 or amd64", f.Machine)
	}
	if f.Characteristics&pe.IMAGE_FILE_EXECUTABLE_IMAGE == 0 {
		t.Errorf("characteristics %#x: not an executable image", f.Characteristics)
	}

	// Its version resource holds wails.json's version and copyright, not
	// template placeholders.
	var project struct {
		Info struct {
			ProductVersion string `json:"productVersion"`
			Copyright      string `json:"copyright"`
		} `json:"info"`
	}
	if b, err := os.ReadFile("../wails.json"); err != nil {
		t.Fatal(err)
	} else if err := json.Unmarshal(b, &project); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(installer)
	if err != nil {
		t.Fatal(err)
	}
	encode := func(s string) []byte {
		var b []byte
		for _, u := range utf16.Encode([]rune(s)) {
			b = append(b, byte(u), byte(u>>8))
		}
		return b
	}
	for _, want := range []string{project.Info.ProductVersion, project.Info.Copyright} {
		if want == "" || !bytes.Contains(data, encode(want)) {
			t.Errorf("the installer's version resource lacks %q (wails.json's info)", want)
		}
	}
	if bytes.Contains(data, encode("{{")) {
		t.Error("the installer's version resource holds a template placeholder")
	}

	sevenZip, err := exec.LookPath("7z")
	if err != nil {
		t.Fatal("7z is not installed (Debian's p7zip-full): cannot list the installer")
	}
	out, err := exec.Command(sevenZip, "l", "-slt", installer).CombinedOutput()
	if err != nil {
		t.Fatalf("7z l: %v\n%s", err, out)
	}
	// After the "----------" line, one block per file: its path, its size
	// (in a solid archive; else only its packed size is known).
	_, entries, ok := strings.Cut(string(out), "\n----------\n")
	if !ok {
		t.Fatalf("7z l -slt lists no files:\n%s", out)
	}
	sizes := map[string]string{} // base name -> size, or packed size
	var name string
	for _, line := range strings.Split(entries, "\n") {
		line = strings.TrimSpace(line)
		if v, ok := strings.CutPrefix(line, "Path = "); ok {
			name = path.Base(strings.ReplaceAll(v, `\`, "/"))
			sizes[name] = ""
		} else if v, ok := strings.CutPrefix(line, "Size = "); ok && sizes[name] == "" {
			sizes[name] = v
		} else if v, ok := strings.CutPrefix(line, "Packed Size = "); ok && sizes[name] == "" {
			sizes[name] = v + " packed"
		}
	}
	for _, want := range []string{"AssetLab.exe", "ffmpeg.exe", "ffprobe.exe", "FFmpeg-NOTICE.txt", "FFmpeg-COPYING.GPLv3.txt", "NOTICES.txt",
		"MicrosoftEdgeWebview2Setup.exe", "uninstall.exe"} {
		size, ok := sizes[want]
		switch {
		case !ok:
			t.Errorf("%s is not in the installer; it holds %v", want, sizes)
		// The uninstaller is written at install time: it has no size here.
		case want != "uninstall.exe" && (size == "" || size == "0"):
			t.Errorf("%s is in the installer with size %q, want its bytes", want, size)
		default:
			t.Logf("holds %s (%s bytes)", want, size)
		}
	}
}
