package token

import (
	"strings"
	"testing"
	"time"
)

func TestLeagueRefresh(t *testing.T) {
	t.Parallel()
	v := NewLeagueRefresh()
	if !strings.HasPrefix(v, "def50200") || len(v) != 80 {
		t.Fatalf("NewLeagueRefresh() = %q", v)
	}
	if tag, err := ParseOpaque(v); err != nil || tag != TagRefresh {
		t.Fatalf("ParseOpaque = %q, %v", tag, err)
	}
	if !IsOpaque(v) || !IsLeague(v) {
		t.Fatal("IsOpaque/IsLeague false")
	}
	if v == NewLeagueRefresh() {
		t.Fatal("two league refresh tokens are equal")
	}
	key := []byte(strings.Repeat("k", 32))
	d := DeriveLeagueRefresh(key, v)
	if d != DeriveLeagueRefresh(key, v) || d == DeriveLeagueRefresh([]byte(strings.Repeat("j", 32)), v) {
		t.Fatal("DeriveLeagueRefresh is not a keyed function of its input")
	}
	if _, err := ParseOpaque(d); err != nil {
		t.Fatalf("derived value does not parse: %v", err)
	}
	flipped := []byte(v)
	flipped[20] ^= 1
	for name, bad := range map[string]string{
		"prefix only": "def50200", "short": v[:79], "long": v + "0", "upper": strings.ToUpper(v),
		"flipped": string(flipped), "not hex": v[:40] + "zz" + v[42:], "sum": v[:72] + "00000000",
	} {
		if _, err := ParseOpaque(bad); err == nil {
			t.Errorf("%s: ParseOpaque(%q) accepted", name, bad)
		}
	}
}

func TestLeagueID(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 12, 3, 8, 0, 0, 123456000, time.UTC)
	id := NewLeagueID(now)
	if len(id) != 80 || strings.ToLower(id) != id {
		t.Fatalf("NewLeagueID = %q", id)
	}
	got, ok := TimeOfID(id)
	if !ok || !got.Equal(now) {
		t.Fatalf("TimeOfID = %v, %v; want %v", got, ok, now)
	}
	if _, ok := TimeOfID(strings.ToUpper(id)); ok {
		t.Fatal("TimeOfID accepted upper-case hex")
	}
}
