package claims

import "errors"

// ErrCritical reports a JWS header that asks the recipient to understand
// an extension this code does not implement.
var ErrCritical = errors.New("claims: the token header names an extension that is not understood")

// CheckHeader refuses a JWS header that must not be accepted without
// understanding it. RFC 7515 §4.1.11: a recipient that does not understand
// every extension listed in "crit" must reject the JWS; tokend understands
// none, so any "crit", whatever its shape (array, string, null), is
// refused. "b64" (RFC 7797) is refused too: with b64 false the signature
// covers the raw payload rather than its encoding, which changes what was
// signed.
func CheckHeader(h map[string]any) error {
	for _, name := range []string{"crit", "b64"} {
		if _, ok := h[name]; ok {
			return ErrCritical
		}
	}
	return nil
}
