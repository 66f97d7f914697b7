package introspect

import (
	"slices"

	"github.com/tokend/tokend/claims"
	"github.com/tokend/tokend/internal/store"
)

// Introspection rights a client holds through its allowed scopes (they are
// read from the client record, never from a token).
const (
	// ScopeIntrospect lets a client introspect every token of its tenant
	// but other clients' refresh tokens.
	ScopeIntrospect = "tokend:introspect"
	// ScopeIntrospectAudience prefixes the right to introspect the tokens
	// issued for one audience: a client allowed
	// "tokend:introspect:https://orders.example.com" is the resource server
	// of that audience.
	ScopeIntrospectAudience = "tokend:introspect:"
)

// Visible reports whether the authenticated client caller may learn that
// the token c is active, and its claims (RFC 7662 §2.2, §4: "the
// authorization server MUST determine whether or not the token can be
// used at the protected resource making the introspection call"):
//   - the token was issued to caller (its client_id);
//   - a refresh token is visible to nobody else: it is presented only to
//     tokend, by its own client;
//   - caller is an intended audience of the token: the token's aud holds
//     caller's client id, or caller is allowed the audience's
//     ScopeIntrospectAudience. A client's Audiences say which APIs it
//     calls, not which it serves, so they grant nothing here: two callers
//     of one API must not read each other's tokens;
//   - caller holds ScopeIntrospect, or tokend:admin (which includes it).
//
// Any other token is answered exactly like an unknown one. Visible does no
// I/O: caller is the record client authentication already loaded.
func Visible(caller store.Client, c *claims.Claims) bool {
	if c.ClientID != "" && c.ClientID == caller.ID {
		return true
	}
	if c.Kind == claims.KindRefresh {
		return false
	}
	if slices.Contains(caller.Scopes, ScopeIntrospect) || slices.Contains(caller.Scopes, claims.ScopeAdmin) {
		return true
	}
	for _, a := range c.Audience {
		if a == caller.ID || slices.Contains(caller.Scopes, ScopeIntrospectAudience+a) {
			return true
		}
	}
	return false
}
