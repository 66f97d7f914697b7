package tokenapi

import (
	"strings"
	"testing"
)

// TestNewNamesMissingDependencies: a surface is never built with a nil
// dependency; the error names what is required.
func TestNewNamesMissingDependencies(t *testing.T) {
	s, err := New(Options{})
	if err == nil || s != nil {
		t.Fatalf("New(Options{}) = %v, %v; want an error", s, err)
	}
	if !strings.Contains(err.Error(), "required") {
		t.Fatalf("error %q does not say what is required", err)
	}
}
