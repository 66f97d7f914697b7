// Package exchange owns a tenant's trusted external issuers and the
// checks of the tokens they issue: the subject and actor tokens of RFC
// 8693 token exchange and the assertions of the RFC 7523 jwt-bearer
// grant. It decides whether a presented token is acceptable (issuer
// trusted and compared exactly, algorithm on the issuer's explicit list,
// signature, audience compared exactly, exp, nbf, iat and auth_time
// within bounds, email_verified where required), and maps its subject to
// a tenant user with the roles and groups its external claims map to.
//
// It never sees HTTP: keys and introspection answers of other providers
// come through the Upstream interface (package upstream/oidc implements
// it; only package app wires it). A provider that cannot be reached is
// ErrUnavailable, which the token endpoint answers with 503
// temporarily_unavailable: an unverified token is never accepted.
//
// Where the RFCs leave a choice: a token's age bound (MaxAge) applies to
// iat and to auth_time (OIDC Core §2); tokend's clock skew allowance is
// 30 s, as for its own tokens; a subject token up to 16 KiB is read, a
// larger one is invalid_request without being parsed.
package exchange
