package apptest

import (
	"bufio"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// BuildServer builds the server binary into a temporary folder and returns
// its path.
func BuildServer(t testing.TB) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "assetlab-server")
	if out, err := exec.Command("go", "build", "-o", bin, "github.com/assetlab/assetlab/server/cmd/assetlab-server").CombinedOutput(); err != nil {
		t.Fatalf("build server: %v\n%s", err, out)
	}
	return bin
}

// Process is a server binary running as its own process.
type Process struct {
	URL string
	Cmd *exec.Cmd
	// Log is the file that holds its standard error.
	Log string
}

// StartProcess runs the server binary bin on a port it chooses and waits
// until it serves. Its environment is this process's, then the test
// defaults (token, loopback, no workers, warnings only), then env: later
// values win. It is killed when the test ends; its log is shown if the test
// fails.
func StartProcess(t testing.TB, bin string, env ...string) *Process {
	t.Helper()
	cmd := exec.Command(bin)
	cmd.Env = append(os.Environ(), "ADMIN_TOKEN="+Token, "HOST=127.0.0.1", "PORT=0",
		"ASSETLAB_WORKERS=0", "ASSETLAB_LOG_LEVEL=warn")
	cmd.Env = append(cmd.Env, env...)
	logPath := filepath.Join(t.TempDir(), "server.log")
	logf, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = logf
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &Process{Cmd: cmd, Log: logPath}
	t.Cleanup(func() {
		p.Kill()
		logf.Close()
		if t.Failed() {
			b, _ := os.ReadFile(logPath)
			t.Logf("log of server %d:\n%s", cmd.Process.Pid, b)
		}
	})
	// The banner names the port the server chose; the rest of its output
	// is read and dropped, so that it never blocks on a full pipe.
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if _, after, ok := strings.Cut(sc.Text(), "running at http://localhost:"); ok {
				found <- "http://127.0.0.1:" + strings.TrimSpace(after)
			}
		}
	}()
	select {
	case p.URL = <-found:
	case <-time.After(30 * time.Second):
		t.Fatal("the server did not start within 30 s")
	}
	return p
}

// Pid is the process's ID.
func (p *Process) Pid() int { return p.Cmd.Process.Pid }

// Kill sends SIGKILL: the process gets no chance to clean up.
func (p *Process) Kill() {
	if p.Cmd.ProcessState == nil {
		p.Cmd.Process.Kill()
		p.Cmd.Wait()
	}
}

// WriteVideoFile writes a file of size bytes that starts like an MP4 file,
// the rest pseudo-random from seed, as a large upload's source.
func WriteVideoFile(t testing.TB, path string, size int64, seed byte) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w := bufio.NewWriterSize(f, 1<<20)
	w.Write(MP4Head)
	if _, err := io.CopyN(w, rand.NewChaCha8([32]byte{seed}), size-int64(len(MP4Head))); err != nil {
		t.Fatal(err)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
}
