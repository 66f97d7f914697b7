// Package keys owns tokend's signing keys: the master key that seals them
// at rest, their generation per tenant, rotation, the per-tenant cache of
// parsed keys, JWT signing and verification of tokend access tokens
// (RFC 9068), and each tenant's public JWK Set (RFC 7517).
//
// Private key material only ever leaves this package sealed with AES-256-GCM
// under the master key; it is never logged and never part of an error.
package keys
