//go:build !linux

package desktop

// otherInstance is only checked on Linux, where Wails starts the window's
// OnStartup before its single-instance handoff ends.
func otherInstance() bool { return false }
