package desktop

// Version is the app's version, stamped at build time by the Makefile:
//
//	-ldflags "-X github.com/assetlab/assetlab/desktop.Version=$(git describe --tags --always --dirty)"
//
// The UI shows it, `assetlab-desktop --version` prints it and the Linux
// package's version is made from it.
var Version = "dev"
