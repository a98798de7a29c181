package desktop

import "github.com/godbus/dbus/v5"

// otherInstance tells whether another instance holds the app's D-Bus name.
func otherInstance() bool {
	conn, err := dbus.ConnectSessionBus()
	if err != nil {
		return false
	}
	defer conn.Close()
	var has bool
	err = conn.BusObject().Call("org.freedesktop.DBus.NameHasOwner", 0, dbusName(UniqueID)).Store(&has)
	return err == nil && has
}
