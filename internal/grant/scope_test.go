package grant

import (
	"slices"
	"strings"
	"testing"
)

func TestParseScope(t *testing.T) {
	t.Parallel()
	for v, want := range map[string][]string{
		"":                nil,
		"read":            {"read"},
		"write read":      {"read", "write"},
		"read read":       {"read"},
		"a:b/c!#[]~":      {"a:b/c!#[]~"},
		"orders/* admin!": {"admin!", "orders/*"},
	} {
		got, err := ParseScope(v)
		if err != nil || !slices.Equal(got, want) {
			t.Errorf("ParseScope(%q) = %q, %v; want %q", v, got, err, want)
		}
	}
	for _, v := range []string{" ", "  ", "read  write", " read", "read ", "read\twrite", "read\nwrite", `a"b`, `a\b`, "réad", "a\x00", "a\x7f"} {
		if got, err := ParseScope(v); err == nil {
			t.Errorf("ParseScope(%q) = %q, accepted", v, got)
		}
	}
}

func FuzzParseScope(f *testing.F) {
	f.Add("read write")
	f.Add("a  b")
	f.Fuzz(func(t *testing.T, v string) {
		got, err := ParseScope(v)
		if err != nil {
			return
		}
		// What is accepted is sorted, unique tokens of the §3.3 grammar,
		// and parses back to itself.
		again, err := ParseScope(strings.Join(got, " "))
		if err != nil || !slices.Equal(again, got) || !slices.IsSorted(got) || len(slices.Compact(slices.Clone(got))) != len(got) {
			t.Fatalf("ParseScope(%q) = %q, reparsed %q, %v", v, got, again, err)
		}
	})
}
