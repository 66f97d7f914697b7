package grant

import (
	"strings"

	"github.com/tokend/tokend/internal/fault"
)

// ParseScope parses a scope parameter strictly (RFC 6749 §3.3):
// scope-token *( SP scope-token ), scope-token = 1*( %x21 / %x23-5B /
// %x5D-7E ). An empty value is an omitted scope (§3.1) and gives nil.
// Anything else that is not that grammar (a doubled, leading or trailing
// space, a tab, a quote, a backslash, a control or non-ASCII character)
// is invalid_scope, the code §5.2 gives a malformed scope. Duplicates are
// dropped: the order and repetition of scopes carry no meaning.
func ParseScope(v string) ([]string, error) {
	if v == "" {
		return nil, nil
	}
	l := strings.Split(v, " ")
	for _, sc := range l {
		if sc == "" {
			return nil, fault.InvalidScope("scope tokens must be separated by single spaces, with none before the first or after the last").WithField("scope")
		}
		for i := 0; i < len(sc); i++ {
			if c := sc[i]; c < 0x21 || c == 0x22 || c == 0x5c || c > 0x7e {
				return nil, fault.InvalidScope("scope %q contains a character not allowed in a scope token", sc).WithField("scope")
			}
		}
	}
	return sorted(l), nil
}
