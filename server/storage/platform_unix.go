//go:build unix

package storage

import (
	"io/fs"
	"syscall"
)

// fileID is the file's inode number, which changes when a key is replaced.
func fileID(fi fs.FileInfo) uint64 {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return uint64(st.Ino)
	}
	return 0
}

// allocPart maps an anonymous PartSize buffer outside the Go heap.
func allocPart() *[]byte {
	b, err := syscall.Mmap(-1, 0, PartSize, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	if err != nil {
		b = make([]byte, PartSize)
	}
	return &b
}
