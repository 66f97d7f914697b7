// Package buildinfo says which tokend is running: its version, the source
// revision it was built from, and the Go release that built it.
package buildinfo

import (
	"runtime"
	"runtime/debug"
	"sync"
)

// Version is set at build time for a release:
//
//	go build -ldflags "-X github.com/tokend/tokend/internal/buildinfo.Version=v1.2.0" ./cmd/tokend
//
// Without it, the module version recorded by "go install module@version"
// is used, else "devel".
var Version string

// Info describes the running binary.
type Info struct {
	Version   string `json:"version"`
	Revision  string `json:"revision,omitempty"` // VCS commit, when built from a checkout
	Time      string `json:"time,omitempty"`     // commit time (RFC 3339)
	Modified  bool   `json:"modified,omitempty"` // the checkout had uncommitted changes
	GoVersion string `json:"go_version"`
}

var (
	once sync.Once
	info Info
)

// Get returns the Info of the running binary.
func Get() Info {
	once.Do(func() { info = read(Version) })
	return info
}

func read(set string) Info {
	i := Info{Version: set, GoVersion: runtime.Version()}
	bi, ok := debug.ReadBuildInfo()
	if ok {
		if i.Version == "" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			i.Version = bi.Main.Version
		}
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				i.Revision = s.Value
			case "vcs.time":
				i.Time = s.Value
			case "vcs.modified":
				i.Modified = s.Value == "true"
			}
		}
	}
	if i.Version == "" {
		i.Version = "devel"
	}
	return i
}

// String is the one-line form "tokend" prints: version, revision (marked
// when modified), and Go release.
func (i Info) String() string {
	s := "tokend " + i.Version
	if i.Revision != "" {
		rev := i.Revision
		if len(rev) > 12 {
			rev = rev[:12]
		}
		s += " (" + rev
		if i.Modified {
			s += ", modified"
		}
		s += ")"
	}
	return s + " " + i.GoVersion
}
