// Package token defines the formats of the opaque strings tokend hands out:
// ids, opaque tokens and generated secrets; and Issued, the surface-safe
// result of an issuance.
//
// An opaque value is "tkd_" + a kind tag + "_" + 43 base64url characters
// (256 bits of randomness) + 6 base62 characters of CRC-32 checksum, so a
// secret scanner can recognise a leaked value and reject a typo without a
// database lookup. Only the SHA-256 hash of a value is ever stored.
package token
