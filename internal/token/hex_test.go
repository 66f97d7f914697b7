package token

import (
	"strings"
	"testing"
)

func TestHex(t *testing.T) {
	t.Parallel()
	v := NewHex()
	if !IsHex(v) || v != strings.ToUpper(v) || len(v) != 32 {
		t.Fatalf("NewHex() = %q", v)
	}
	if NewHex() == v {
		t.Fatal("two NewHex values are equal")
	}
	if !IsHex(strings.ToLower(v)) || CanonicalHex(strings.ToLower(v)) != v {
		t.Fatal("a lower-cased hex value is not the same value")
	}
	for _, bad := range []string{"", v[:31], v + "0", "G" + v[1:], NewOpaque(TagAccess)} {
		if IsHex(bad) {
			t.Errorf("IsHex(%q) = true", bad)
		}
	}
}
