package apptest

import (
	"testing"
	"time"
)

// Eventually polls cond until it holds, and fails the test if it still does
// not after timeout. what names the awaited state in the failure.
func Eventually(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	if !Within(timeout, cond) {
		t.Fatalf("timed out after %v waiting for %s", timeout, what)
	}
}

// Within polls cond until it holds or timeout passes, and reports whether it
// held: for a test that says more than Eventually when it fails.
func Within(timeout time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(50 * time.Millisecond)
	}
	return true
}
