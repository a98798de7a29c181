package app_test

import (
	"os"
	"os/exec"
	"runtime/pprof"
	"testing"
)

func TestZZProfile(t *testing.T) {
	if os.Getenv("PROF") == "" {
		t.Skip()
	}
	e := newEnv(t, "s3")
	f, _ := os.Create("/tmp/bx/cpu.prof")
	pprof.StartCPUProfile(f)
	out, err := exec.Command("curl", "-s", "-H", "Authorization: Bearer "+testToken, "-F", "file=@/tmp/bx/src.bin", e.url+"/api/upload").CombinedOutput()
	pprof.StopCPUProfile()
	f.Close()
	t.Logf("%s %v", out, err)
}
