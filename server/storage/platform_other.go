//go:build !unix

package storage

import "io/fs"

// fileID has no inode to offer here; size and time tell versions apart.
func fileID(fs.FileInfo) uint64 { return 0 }

func allocPart() *[]byte {
	b := make([]byte, PartSize)
	return &b
}
