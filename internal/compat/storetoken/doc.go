// Package storetoken answers the store-token API of seed 000
// (000_069ffe45e2a4068d): a Rails application that authenticates with the
// Knock gem (ruby-jwt HS256 tokens) and authorizes with Pundit, in which an
// admin generates a long-lived token for a store's kiosks and every new
// token ends the store's earlier ones.
//
// Routes (the tenant comes from the request's host: --surface-hosts, the
// tenant bound by --surface-tenants, or a tenant whose settings name the
// host):
//
//	POST /stores/{id}/generate_token   StoresController#generate_token: 201 {"jwt":"…"}
//	GET  /stores/{id}/tokens           beyond the seed: the store's active tokens
//	POST /user_token                   Knock::AuthTokenController#create: 201 {"jwt":"…"}, 404 with no body
//
// Mapping. A store is a tokend device of type "store" whose id is the
// store id; its current jti is the device's JTI. A store token is a
// device token in the compact HS256 format (store.FormatCompact): header
// {"alg":"HS256"}, payload {"exp","sub","aud":["api"],"jti"} in Knock's
// order (AuthToken merges its exp claim in front of the entity's
// to_token_payload), signed with the tenant's legacy HMAC secret, which an
// operator imports (the Rails secret_key_base) so that the Rails
// application's own verification keeps accepting tokend's tokens. An
// admin is a user of the tenant with the settings' admin role
// (User#admin?), or any tokend token of the tenant whose scope holds
// tokend:admin. The rules — who is an admin, rotation under the store's
// lock with a revocation cutoff, the current-jti check of verification,
// expiry and audience bounds, audit of every generation and refusal — are
// the core's (mint.StoreToken, introspect.VerifyIn).
//
// Deliberate differences, each with its reason:
//
//   - 401 bodies follow the seed ({"error":"You need to sign in or sign up
//     before continuing."}, Devise's unauthenticated text); Knock itself
//     answers head(:unauthorized) with an empty body.
//   - 403 follows the seed ({"error":"You are not authorized to perform
//     this action."}, the text of Pundit's README); the public copy of the
//     real application renders {"status":403,"message":…} instead.
//   - sub is a JSON number when the store id is a decimal integer (the
//     real application's bigint ids) and a string otherwise (the seed's
//     UUID example).
//   - The seed's example token has no exp; Knock adds one whenever
//     token_lifetime is set, so tokend does (100 Rails years by default,
//     the tenant's token_lifetime setting otherwise).
//   - Sign-in tokens carry a jti (the legacy user tokens have none) so that
//     each is in tokend's ledger and revocable one by one; Rails ignores
//     the extra claim.
//   - The 404 text is Rails' RecordNotFound message for Store.find, with
//     the id as sent; a store of another tenant and a device that is not a
//     store answer it too, so nothing tells them from a missing one.
//   - Knock also reads the token from params[:token]; tokend reads only the
//     Authorization header (its last word, so "Bearer X" and "X" both
//     work): a token in a URL ends up in logs.
//   - Beyond the seed: an optional body {"expires_in":…,"audience":[…]}
//     (422 naming the field when refused), GET /stores/{id}/tokens, per-token
//     revocation through the admin API, an audit event per generation and
//     per refusal, and 503 {"error":"Service Unavailable"} on a storage
//     outage.
//
// Sources: Knock (github.com/nsarno/knock, lib/knock.rb defaults,
// app/model/knock/auth_token.rb encode and to_json,
// lib/knock/authenticable.rb token lookup and unauthorized_entity);
// ruby-jwt's HS256 header; Ruby's SecureRandom.hex (16 random bytes as 32
// hex characters, docs.ruby-lang.org); Rails' RecordNotFound message
// (activerecord core.rb find); ActiveSupport's 1.year of 365.2425 days;
// Pundit's README (github.com/varvet/pundit); Devise's en.yml
// (devise.failure.unauthenticated); PyJWT's decode API
// (pyjwt.readthedocs.io), which the tests use to verify tokend's tokens as
// the legacy application's other clients would.
package storetoken
