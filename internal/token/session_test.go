package token

import (
	"strings"
	"testing"
	"time"
)

func TestSession(t *testing.T) {
	t.Parallel()
	exp := time.Unix(1721406629, 0)
	v := NewSession(exp)
	if !IsSession(v) || !strings.HasSuffix(v, "_1721406629") || len(v) != 64+1+10 {
		t.Fatalf("NewSession = %q", v)
	}
	if NewSession(exp) == v {
		t.Fatal("two equal session values")
	}
	for _, bad := range []string{"", v[:64], v[:65], strings.ToUpper(v[:64]) + v[64:], v[:64] + "_0", v[:64] + "_01", v[:64] + "_x", "tkd_" + v[4:], v[:64] + "-1721406629"} {
		if IsSession(bad) {
			t.Errorf("IsSession(%q) = true", bad)
		}
	}
}
