package buildinfo

import (
	"runtime"
	"strings"
	"testing"
)

func TestRead(t *testing.T) {
	for _, tc := range []struct {
		name, set, want string
	}{
		{"set at build time", "v1.2.0", "v1.2.0"},
		{"unset", "", "devel"}, // tests run a binary of no released module version
	} {
		t.Run(tc.name, func(t *testing.T) {
			i := read(tc.set)
			if i.Version != tc.want || i.GoVersion != runtime.Version() {
				t.Fatalf("read(%q) = %+v", tc.set, i)
			}
		})
	}
}

func TestString(t *testing.T) {
	for _, tc := range []struct {
		in   Info
		want string
	}{
		{Info{Version: "v1.2.0", GoVersion: "go1.26.8"}, "tokend v1.2.0 go1.26.8"},
		{Info{Version: "devel", Revision: "0123456789abcdef0123", Modified: true, GoVersion: "go1.26.8"}, "tokend devel (0123456789ab, modified) go1.26.8"},
		{Info{Version: "devel", Revision: "abc", GoVersion: "go1.26.8"}, "tokend devel (abc) go1.26.8"},
	} {
		if got := tc.in.String(); got != tc.want {
			t.Errorf("%+v.String() = %q, want %q", tc.in, got, tc.want)
		}
	}
	if !strings.HasPrefix(Get().String(), "tokend ") {
		t.Fatal(Get().String())
	}
}
