package desktop

import (
	"bufio"
	"os/exec"
	"strings"
	"testing"

	"github.com/godbus/dbus/v5"
)

// otherInstance, on a session bus of the test's own: no owner of the app's
// name, this process owning it (as Wails makes it when the first instance
// quit before the handoff), and another process owning it.
func TestOtherInstance(t *testing.T) {
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", startSessionBus(t))
	if otherInstance() {
		t.Error("no owner: got another instance, want none")
	}

	conn, err := dbus.ConnectSessionBus()
	if err != nil {
		t.Fatal(err)
	}
	if reply, err := conn.RequestName(dbusName(UniqueID), dbus.NameFlagDoNotQueue); err != nil || reply != dbus.RequestNameReplyPrimaryOwner {
		t.Fatalf("take the name: got %v, %v", reply, err)
	}
	if otherInstance() {
		t.Error("this process owns the name: got another instance, want none")
	}
	conn.Close()

	// Another process owns it.
	owner := exec.Command(python3(), "-c", `
import sys
from gi.repository import Gio, GLib
c = Gio.bus_get_sync(Gio.BusType.SESSION, None)
c.call_sync("org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus", "RequestName",
    GLib.Variant("(su)", (sys.argv[1], 4)), None, 0, -1, None)
print("owned", flush=True)
sys.stdin.read()
`, dbusName(UniqueID))
	stdin, _ := owner.StdinPipe()
	stdout, _ := owner.StdoutPipe()
	if err := owner.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { stdin.Close(); owner.Wait() }()
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if strings.TrimSpace(line) != "owned" {
		t.Fatalf("the other process did not take the name: %q, %v", line, err)
	}
	if !otherInstance() {
		t.Error("another process owns the name: got none, want another instance")
	}
}
