package sqldb

import (
	"encoding/json"
	"testing"
)

// listText must encode exactly as encoding/json does (rows written before
// and after it was added must read back the same).
func TestListTextMatchesJSON(t *testing.T) {
	for _, l := range [][]string{
		nil, {}, {""}, {"read"}, {"read", "write"}, {"a b", "x:y/z"}, {`q"uote`}, {`back\slash`},
		{"<html>", "a&b"}, {"tab\t"}, {"é"}, {"\u2028"}, {"ok", "\x00"}, {"~"}, {"\x7f"},
	} {
		want := "[]"
		if len(l) > 0 {
			b, _ := json.Marshal(l)
			want = string(b)
		}
		if got := listText(l); got != want {
			t.Errorf("listText(%q) = %s, want %s", l, got, want)
		}
	}
}

func FuzzListText(f *testing.F) {
	for _, s := range []string{"", "read", `a"b`, "<", "\u00e9", "\x00"} {
		f.Add(s, "write")
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		l := []string{a, b}
		want, _ := json.Marshal(l)
		if got := listText(l); got != string(want) {
			t.Fatalf("listText(%q) = %s, want %s", l, got, want)
		}
	})
}

func TestDetailTextMatchesJSON(t *testing.T) {
	for _, m := range []map[string]string{
		nil, {}, {"jti": "abc", "kind": "access", "format": "jwt", "scope": "read write"},
		{"b": "1", "a": "2"}, {"k": `"quoted"`}, {"<": ">"}, {"é": "x"}, {"": ""},
	} {
		want := "{}"
		if len(m) > 0 {
			b, _ := json.Marshal(m)
			want = string(b)
		}
		if got := detailText(m); got != want {
			t.Errorf("detailText(%q) = %s, want %s", m, got, want)
		}
	}
}

func TestValuesSQL(t *testing.T) {
	for _, tc := range []struct {
		width, rows int
		want        string
	}{
		{1, 1, "INSERT INTO t (a) VALUES ($1)"},
		{2, 3, "INSERT INTO t (a) VALUES ($1, $2), ($3, $4), ($5, $6)"},
	} {
		for range 2 { // built, then cached
			if got := valuesSQL("INSERT INTO t (a) VALUES ", tc.width, tc.rows); got != tc.want {
				t.Errorf("valuesSQL(%d, %d) = %q, want %q", tc.width, tc.rows, got, tc.want)
			}
		}
	}
}
