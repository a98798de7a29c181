package desktop

import (
	"debug/pe"
	"os"
	"os/exec"
	"path"
	"strings"
	"testing"
)

// The Windows installer that `make package-windows` makes is a Windows
// program (an MZ header pointing to a PE header for amd64) and holds the
// app with ffmpeg.exe and ffprobe.exe beside it, and their licence.
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

	sevenZip, err := exec.LookPath("7z")
	if err != nil {
		t.Fatal("7z is not installed (Debian's p7zip-full): cannot list the installer")
	}
	out, err := exec.Command(sevenZip, "l", "-slt", installer).CombinedOutput()
	if err != nil {
		t.Fatalf("7z l: %v\n%s", err, out)
	}
	sizes := map[string]string{} // base name -> size, of what the installer holds
	var name string
	for _, line := range strings.Split(string(out), "\n") {
		line = strings.TrimSpace(line)
		if v, ok := strings.CutPrefix(line, "Path = "); ok {
			name = path.Base(strings.ReplaceAll(v, `\`, "/"))
		} else if v, ok := strings.CutPrefix(line, "Size = "); ok && name != "" {
			sizes[name] = v
		}
	}
	for _, want := range []string{"AssetLab.exe", "ffmpeg.exe", "ffprobe.exe", "FFmpeg-NOTICE.txt", "FFmpeg-COPYING.GPLv3.txt", "MicrosoftEdgeWebview2Setup.exe"} {
		size, ok := sizes[want]
		if !ok {
			t.Errorf("%s is not in the installer; it holds %v", want, sizes)
			continue
		}
		if size == "" || size == "0" {
			t.Errorf("%s is in the installer with size %q, want its bytes", want, size)
		}
		t.Logf("holds %s (%s bytes)", want, size)
	}
}
