package desktop

import (
	"os"

	"github.com/godbus/dbus/v5"
)

// otherInstance tells whether another process holds the app's D-Bus name
// (not this one: once the first instance is gone, Wails takes the name for
// this process).
func otherInstance() bool {
	conn, err := dbus.ConnectSessionBus()
	if err != nil {
		return false
	}
	defer conn.Close()
	var owner string
	if err := conn.BusObject().Call("org.freedesktop.DBus.GetNameOwner", 0, dbusName(UniqueID)).Store(&owner); err != nil {
		return false // no owner
	}
	var pid uint32
	if err := conn.BusObject().Call("org.freedesktop.DBus.GetConnectionUnixProcessID", 0, owner).Store(&pid); err != nil {
		return true
	}
	return int(pid) != os.Getpid()
}
