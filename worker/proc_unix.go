//go:build unix

package worker

import "syscall"

func processAlive(pid int) bool {
	return syscall.Kill(pid, 0) != syscall.ESRCH
}
