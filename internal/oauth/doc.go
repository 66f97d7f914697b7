// Package oauth is the surface of the RFC endpoints, per tenant: the token
// endpoint (RFC 6749, with the token_kind extension that mints a kind for
// the calling client), introspection (RFC 7662), revocation (RFC 7009),
// OpenID Connect discovery and RFC 8414 metadata, and the JWKS (RFC 7517).
// It parses, calls the core (authn, grant, mint, revoke, introspect) and
// renders; it holds no rule of its own.
package oauth
