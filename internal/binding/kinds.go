package binding

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
)

// Settings is one surface's per-tenant configuration.
type Settings interface {
	// Validate reports every problem, as field → message.
	Validate() map[string]string
	// LookupKey is the key legacy requests name the tenant by, or "".
	LookupKey() string
}

// kinds lists every surface that can be enabled, each with a constructor
// of its empty settings. Each surface's settings file registers its own.
var kinds = map[string]func() Settings{}

// Register makes surface name known, with newSettings returning its empty
// settings. It is called from init functions; a name registered twice
// panics.
func Register(name string, newSettings func() Settings) {
	if _, dup := kinds[name]; dup {
		panic("binding: surface " + name + " registered twice")
	}
	kinds[name] = newSettings
}

// Known reports whether name is a surface that can be enabled.
func Known(name string) bool {
	_, ok := kinds[name]
	return ok
}

// Names returns the surfaces that can be enabled, sorted.
func Names() []string {
	out := make([]string, 0, len(kinds))
	for n := range kinds {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// NewSettings returns the empty settings of surface name, or nil when it is not
// known.
func NewSettings(name string) Settings {
	k, ok := kinds[name]
	if !ok {
		return nil
	}
	return k()
}

// Decode parses raw as the settings of surface name, strictly (unknown
// fields refused), and validates them. A problem is reported as field →
// message in problems; err is set only for an unknown surface.
func Decode(name string, raw json.RawMessage) (s Settings, problems map[string]string, err error) {
	s = NewSettings(name)
	if s == nil {
		return nil, nil, fmt.Errorf("unknown surface %q (known: %s)", name, strings.Join(Names(), ", "))
	}
	if err := decodeStrict(raw, s); err != nil {
		return nil, map[string]string{"settings": "must be a JSON object of this surface's settings: " + err.Error()}, nil
	}
	if p := s.Validate(); len(p) > 0 {
		return nil, p, nil
	}
	return s, nil, nil
}
