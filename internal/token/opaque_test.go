package token

import (
	"strings"
	"testing"
	"time"
)

func TestOpaqueRoundTrip(t *testing.T) {
	t.Parallel()
	for _, tag := range []string{TagAccess, TagRefresh, TagClientSecret, TagAdmin} {
		v := NewOpaque(tag)
		got, err := ParseOpaque(v)
		if err != nil || got != tag {
			t.Fatalf("ParseOpaque(%q) = %q, %v; want %q", v, got, err, tag)
		}
		if !IsOpaque(v) {
			t.Fatalf("IsOpaque(%q) = false", v)
		}
	}
	if NewOpaque(TagAccess) == NewOpaque(TagAccess) {
		t.Fatal("two opaque values are equal")
	}
}

func TestParseOpaqueRejects(t *testing.T) {
	t.Parallel()
	good := NewOpaque(TagAccess)
	flipped := []byte(good)
	flipped[10] ^= 1
	cases := map[string]string{
		"empty":          "",
		"no prefix":      "abc",
		"jwt":            "eyJhbGciOiJFUzI1NiJ9.e30.sig",
		"bad tag":        strings.Replace(good, "tkd_at_", "tkd_A1_", 1),
		"short":          good[:len(good)-1],
		"long":           good + "x",
		"flipped char":   string(flipped),
		"wrong checksum": good[:len(good)-6] + "000000",
	}
	for name, v := range cases {
		if _, err := ParseOpaque(v); err == nil {
			t.Errorf("%s: ParseOpaque(%q) accepted", name, v)
		}
	}
}

func FuzzParseOpaque(f *testing.F) {
	f.Add(NewOpaque(TagAccess))
	f.Add("tkd_x_")
	f.Fuzz(func(t *testing.T, v string) {
		tag, err := ParseOpaque(v)
		if err == nil && (tag == "" || !strings.HasPrefix(v, "tkd_"+tag+"_")) {
			t.Fatalf("accepted %q with tag %q", v, tag)
		}
	})
}

func TestNewID(t *testing.T) {
	t.Parallel()
	a, b := NewID(), NewID()
	if len(a) != 26 || a == b {
		t.Fatalf("NewID: %q %q", a, b)
	}
}

func TestTimeID(t *testing.T) {
	t.Parallel()
	now := time.Now().Truncate(time.Microsecond)
	id := NewTimeID(now)
	got, ok := TimeOfID(id)
	if !ok || !got.Equal(now) || len(id) != 26 {
		t.Fatalf("TimeOfID(%q) = %v, %v; want %v", id, got, ok, now)
	}
	if a, b := NewTimeID(now), NewTimeID(now.Add(time.Microsecond)); a >= b {
		t.Fatalf("ids not time-ordered: %s >= %s", a, b)
	}
	for _, bad := range []string{"", "short", "0000000000000000000000000!"} {
		if _, ok := TimeOfID(bad); ok {
			t.Errorf("TimeOfID(%q) accepted", bad)
		}
	}
}

func TestDeriveOpaque(t *testing.T) {
	t.Parallel()
	key, other := []byte(strings.Repeat("k", 32)), []byte(strings.Repeat("o", 32))
	from := NewOpaque(TagRefresh)
	v := DeriveOpaque(TagRefresh, key, from)
	if tag, err := ParseOpaque(v); err != nil || tag != TagRefresh {
		t.Fatalf("ParseOpaque(%q) = %q, %v", v, tag, err)
	}
	if DeriveOpaque(TagRefresh, key, from) != v {
		t.Fatal("the same key and input derived two values")
	}
	for name, w := range map[string]string{
		"another key":   DeriveOpaque(TagRefresh, other, from),
		"another input": DeriveOpaque(TagRefresh, key, NewOpaque(TagRefresh)),
		"the input":     from,
	} {
		if w == v {
			t.Errorf("%s gives the same value", name)
		}
	}
}

func TestHexOfID(t *testing.T) {
	now := time.Now()
	id := NewTimeID(now)
	h := HexOfID(id)
	if !IsHexID(h) {
		t.Fatalf("HexOfID(%q) = %q", id, h)
	}
	for _, bad := range []string{"", "short", strings.Repeat("z", 26)} {
		if HexOfID(bad) != "" {
			t.Errorf("HexOfID(%q) accepted", bad)
		}
	}
	for s, want := range map[string]bool{h: true, strings.ToUpper(h): false, h[:31]: false, h + "0": false} {
		if IsHexID(s) != want {
			t.Errorf("IsHexID(%q) != %v", s, want)
		}
	}
}
