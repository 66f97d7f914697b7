// Package oidc reaches other OpenID Connect and OAuth 2.0 providers for
// package exchange: OIDC Discovery 1.0 and ID token / JWT verification
// through github.com/coreos/go-oidc/v3, JWKS (RFC 7517) fetched and
// cached by tokend itself, and RFC 7662 introspection of opaque tokens.
//
// Every fetch is bounded: HTTPS only (plain HTTP for a loopback host only
// when AllowInsecureLoopback is set, as in dev mode), a timeout, a size
// limit on every document read, at most 100 keys in a JWKS. Discovery
// documents and key sets are cached for their Cache-Control max-age,
// clamped to [MinTTL, MaxTTL]; an unknown kid refetches the key set at
// most once per RefreshInterval (10 s) per issuer. Introspection answers
// are cached no longer than the token's exp and IntrospectionTTL.
//
// A provider that cannot be reached, answers slowly past the timeout, or
// answers with something unreadable is ErrUnavailable; a token its keys
// or answer refuse is ErrRejected. Only package app wires this package.
package oidc
