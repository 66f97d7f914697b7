// Package tenantauth is the compatible surface of seed 002
// (../shared/seeds/002_3636a989521184c8.txt): the token-management part
// of AuthSec's Auth Manager API (authsec.dev, Auth Manager API v1.1.0).
// The original Go service is github.com/authsec-ai/auth-manager; its
// source is not public, but its handlers were ported into the AuthSec
// monolith as controllers/authmgr_controller.go of authsec-ai/authsec
// (commit 8ec79ad9, "ported from auth-manager/controllers/
// token_controller.go"), with the Vault layout in config/vault.go. The
// facts below not in the seed come from there; where the port and the
// seed disagree, the seed wins.
//
// # Routes
//
//   - POST /auth/admin/generateToken, POST /auth/user/generateToken: body
//     {"client_id","email_id","project_id","secret_id","tenant_id"}
//     (secret_id optional); 200 {"access_token","expires_in","token_type"}.
//   - POST /auth/admin/oidcToken, POST /auth/user/oidcToken: header
//     Authorization: Bearer <a token of the calling client> and body
//     {"oidc_token":"…"}; 200 in the same shape. The oidc_token is checked
//     by the tenant's trusted issuers (JWKS, or RFC 7662 introspection
//     for opaque tokens) and exchanged by the grant engine's RFC 8693
//     token exchange — the code path of POST /t/{tenant}/oauth2/token,
//     with grant.Request.Caller (the client the bearer names, which must
//     be allowed the token-exchange grant) and grant.Request.Named (the
//     token issued as HS256 kid "oidc" with the original's claims
//     tenant_id, project_id, client_id, email_id, provider, provider_id,
//     user_id, token_type "oidc", aud, iss, iat, exp, jti; no nbf, as the
//     port). provider, provider_id and user_id are the external token's
//     claims of those names (the original reads them from Hydra's ext),
//     else its issuer, its sub and the tenant user's id; email_id is its
//     email, else the user's login.
//   - GET /auth/admin/verifyToken, GET /auth/user/verifyToken: the token
//     as a bearer, or in a body {"token":"…"} as the port binds
//     sharedmodels.VerifyRequest; 200 {"valid":true,"tenant_id",
//     "project_id","client_id","email_id","scopes","roles","groups",
//     "resources","token_type","issued_at","expires_at","issuer"} (the
//     port's keys; issued_at and expires_at are the iat and exp numbers,
//     as the port copies them from jwt.MapClaims), or 401
//     {"error":"invalid token"} (the port's text).
//
// The tenant is the request's tenant_id (the body of generateToken, the
// token's tenant_id claim for verifyToken, whose signature is then
// checked with that tenant's secret). A tenant that does not serve the
// surface answers like an unknown one.
//
// # What the core does
//
// The surface parses, calls mint.Minter.TenantToken (or the verifier),
// and renders. TenantToken checks that the tenant, the project and the
// client exist and belong together (the client is registered for the
// project in the tenant's settings, binding.TenantAuth), authenticates
// the client with the secret_id through the core's one client
// authentication (authn.Authenticator.Client: tokend's stored hash, or
// the client's secret reference — seed 002's Vault layout is mount kv,
// path secret/{tenant_id}/{project_id}/{client_id}, field secret_id, as
// the port's SecretInVault reads it — compared in constant time,
// throttled and audited), finds the user by email (an admin holds the
// tenant's admin role on the admin routes), expands roles and groups with
// principal.Expand, and issues through issue.Issuer (ledger row, audit
// event naming the surface, revocation, introspection, /check).
//
// # Tokens
//
// As the port makes them: HS256 with header {"alg":"HS256","kid":<token
// type>,"typ":"JWT"} (golang-jwt's header with the kid), token_type
// "sdk-agent" signed with JWT_SDK_SECRET when secret_id was sent,
// "default" with JWT_DEF_SECRET otherwise; claims tenant_id, project_id,
// client_id, email_id, token_type, aud "authsec-api", iss
// "authsec-ai/auth-manager" (configurable), iat, nbf and exp (24 h, the
// tenant's token_lifetime). The secrets are the tenant's named HMAC
// secrets (keys.Manager.ImportNamed, POST /v1/tenants/{t}/keys/named
// {"name":"default"|"sdk-agent","secret":…}), refused below 32 bytes
// (RFC 7518 §3.2), so that tokens keep verifying in the legacy verifiers
// (tested with PyJWT).
//
// # Deliberate differences
//
//   - Being HS256 with a shared secret, the tokens are not verifiable by
//     tokend's verifier library (JWKS: no HMAC key is ever published);
//     resource servers use /t/{tenant}/check, introspection, verifyToken
//     or the legacy secret. Revocation reaches them through the ledger
//     row, which every one of those checks reads.
//   - Tokens carry a jti (32 hex characters, the ledger id): the port's
//     generateToken tokens have none; tokend needs it for the ledger,
//     revocation by id and introspection. Legacy verifiers ignore it.
//   - The port never checks secret_id nor looks the client up; the seed
//     says it validates "tenant, project, client, and optional secret
//     from Vault" and answers 404 "Client not found": tokend does both.
//     The 404 text is one for an unknown tenant, project, client, or a
//     client of another project: "client not found" (no enumeration).
//   - Without secret_id, only a client registered with no_secret gets a
//     ("default") token; off by default, because tenant, project and
//     client ids are not secrets and the port would hand anyone a token
//     for any email.
//   - The user routes embed the user's roles, scopes, resources and
//     groups (the seed: "queries tenant database for user authorization
//     data"); the port fetches them at verification. verifyToken answers
//     with the lists the token carries (empty for admin tokens).
//   - 401 bodies other than verifyToken's are {"error":"unauthorized"}
//     (the seed's "401 - Unauthorized"; the original's text is not
//     public). 500 is the port's {"error":"failed to generate token"}
//     (also when the tenant lacks the token type's secret). A secret
//     store or storage outage is 503 {"error":"service unavailable"} with
//     Retry-After, never a 4xx.
//   - oidcToken's required fields. The seed names none (its oidcToken
//     errors are 400 invalid payload and 401). The original (OIDCToken
//     in controllers/authmgr_controller.go) introspects the token at
//     Hydra and requires required := []string{"provider",
//     "provider_id", "user_id", "tenant_id", "email"} among the
//     introspection's Ext (authmgrValidateRequiredFields: a key
//     present, any value), answering 400 gin.H{"error":
//     fmt.Errorf("missing required OIDC fields: %v", missing)}; those
//     are the session fields its own login flow put into Hydra, and it
//     copies them into the token (provider, provider_id, user_id,
//     tenant_id, email_id). tokend maps the token of any trusted issuer
//     to a tenant user, so it knows all five after mapping: provider
//     the trusted issuer, provider_id the token's sub, user_id the
//     tenant user's id, tenant_id the tenant, email the token's email
//     claim, else the user's login (a token's own claim of one of those
//     names wins, as the original takes them from Ext). By default
//     those five are required of the exchanged identity
//     (grant.IdentityFields: each must have a non-empty value, a
//     stricter test than the original's presence), so the seed's
//     exchange works with a standard OP's ID token (tested with the
//     zitadel OP's, which carries no email) and every token carries
//     the original's claims. The tenant setting oidc_required_claims
//     lists claims the oidc_token itself must carry — the original's
//     five for a provider that sets them as its Hydra did, or any other
//     — and a missing one is the original's 400 {"error":"missing
//     required OIDC fields: [a b]"} (Go's %v of the list; golden files
//     error.400.oidc_missing_fields and oidc_missing_original). A
//     refused oidc_token (expired, bad signature, foreign issuer,
//     inactive at introspection, no tenant user) is the port's 401
//     {"error":"invalid or inactive OIDC token"}; a bad bearer, or a client not allowed the
//     token-exchange grant, 401 {"error":"unauthorized"}; the provider
//     unreachable 503. The port looks the client up by tenant and email
//     ("failed to retrieve tenant information"); tokend takes the client
//     and project from the bearer, as the seed's "Authorization: Bearer".
//   - 400 texts are those gin's ShouldBindJSON gives (the validator's
//     "Key: 'TokenRequest.EmailID' Error:Field validation for 'EmailID'
//     failed on the 'required' tag", encoding/json's type errors naming
//     the field); unknown and duplicate fields are refused too, which gin
//     would ignore.
package tenantauth
