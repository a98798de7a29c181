//go:build !unix && !windows

package storage

func noSpace(error) bool { return false }
