// Package dotkernel is the compatible surface of seed 003
// (003_e511e177ab66ad84.txt): Dotkernel API's token authentication, a PHP
// API built on Mezzio, mezzio-authentication-oauth2 and
// league/oauth2-server 8, whose clients post JSON to one token handler and
// read league's error shape.
//
// # Routes
//
//	POST /security/generate-token  password (or refresh_token) grant, JSON body
//	POST /security/refresh-token   refresh_token (or password) grant, JSON body
//	GET  /admin/my-account         the caller's admin account (HAL), role admin
//	GET  /user/my-account          the caller's user account (HAL), role user
//
// Both token paths run one handler and the body's grant_type decides, as
// Dotkernel routes both to mezzio-authentication-oauth2's token endpoint.
// The requests name no tenant: it is the tenant bound to the request's host
// (--surface-hosts) or to the surface (--surface-tenants; --dev binds it to
// the "dotkernel" tenant its fixtures create), and that tenant must have
// enabled the surface (binding.Dotkernel names its two clients and the
// roles of the two routes).
//
// # How it maps onto tokend
//
// A token request becomes a grant.Request for the tenant's own token
// endpoint pipeline (grant.Engine.Token: client authentication, the
// password grant's throttle and argon2id check, audit, ledger, refresh
// rotation with reuse detection), restricted to the surface's two clients
// (grant.Request.Clients). Dotkernel's two account tables are two groups
// of the tenant, and each client's policy names the group whose users it
// logs in (store.Policy.LoginGroup): an admin's credentials sent with the
// frontend client, or the reverse, fail as a wrong password does. The
// tokens are league-shaped by the tenant policy's profile
// (store.ProfileLeague): RS256 under {"typ":"JWT","alg":"RS256"}, aud the
// client id, sub the account's identity (its login), an 80-hex jti, iat,
// nbf and exp as integers, "scopes" beside tokend's iss, kind, roles, sid,
// scope and uid (the account's tokend id, which subject revocations name);
// refresh tokens are opaque and start with def50200. They are
// ordinary tokend tokens: listed, revocable, introspected, seen by the
// gateway check (/check?role=) and the verifier library.
//
// The my-account routes verify the bearer token (introspect.Verifier),
// require the route's role with claims.Claims.HasRole (the rule of
// verify.RequireRole and the gateway check), and render the tenant's user
// record (authn.Authenticator.Account, found through the token's ledger
// row) as Dotkernel's HAL resource. No token, a token that does not verify
// or has expired, a refresh token, or one without the role: Dotkernel
// treats the caller as a guest, and a guest gets 403
// {"error":{"messages":["You are not allowed to access this resource."]}}.
//
// # Errors (render.go is the one mapping)
//
// league 8.5's OAuthServerException payload {error, error_description,
// [hint], message}, message a copy of error_description, with
// Cache-Control no-store and Pragma no-cache:
//
//	wrong username or password, or an account of the other table
//	    400 "Invalid credentials." (Dotkernel's ErrorResponseMiddleware rewrites league's
//	    400 invalid_grant without hint)
//	inactive account          401 inactive_user "User account must be activated first."
//	wrong client secret       401 invalid_client "Client authentication failed"
//	                          (WWW-Authenticate Basic realm="OAuth" when an Authorization header came)
//	client not the surface's  401 invalid_client "Invalid client_id."
//	missing parameter         400 invalid_request, hint "Check the `x` parameter"
//	unknown grant_type        400 unsupported_grant_type, hint "Check that all required parameters have been provided"
//	unknown scope             400 invalid_scope, hint "Check the `x` scope"
//	refresh token             401 invalid_request "The refresh token is invalid.", hint
//	                          "Cannot decrypt the refresh token" (not one), "Token has been revoked"
//	                          (revoked, spent, replayed), "Token has expired", "Token is not linked to client"
//	not JSON, malformed JSON, unknown or repeated member, non-string value
//	                          400 invalid_request
//	store unavailable         503 server_error, Retry-After
//
// # Deliberate differences
//
//   - The seed lists the admin password as "dotadmin"; its curl commands
//     and Dotkernel's fixtures use "dotkernel", which the dev fixtures use.
//   - A refresh token presented again within the refresh grace (default
//     10 s) while its successor is unused gets that successor again (a
//     client that lost the response); league answers "Token has been
//     revoked". Any later reuse revokes the whole login (RFC 9700
//     §4.14.2), which league does not do.
//   - The checks run in the core's order (client, then user, then scope);
//     league checks the scope before the user, so a request with both a
//     bad scope and bad credentials gets the other error first.
//   - A body that is not JSON gets 400 invalid_request with a hint of our
//     own; unknown and repeated members are refused (league ignores
//     unknown ones). Throttled logins get 429 with Retry-After; league has
//     no throttle. A request without scope gets every scope the client and
//     the account allow (tokend's rule), not league's "Specify a scope"
//     error, unless the tenant's roles grant none.
//   - Refresh tokens are random values that tokend stores hashed, not
//     defuse-encrypted JSON; only their def50200 prefix is league's.
//   - created and updated render as PHP's json_encode renders a
//     DateTimeImmutable; uuid, hash and role uuids are derived from the
//     tenant and record ids (name-based UUIDs), as tokend has no UUIDs.
//   - Client secrets and account passwords that Dotkernel stored with
//     PHP's password_hash (bcrypt) are imported as they are (secret_hash,
//     password_hash); a login replaces an account's with argon2id.
//
// # Sources
//
//   - github.com/thephpleague/oauth2-server, tag 8.5.4:
//     src/Exception/OAuthServerException.php (texts, statuses, hints, the
//     message copy, WWW-Authenticate on invalid_client),
//     src/Grant/PasswordGrant.php and src/Grant/RefreshTokenGrant.php
//     (order of checks, refresh-token hints),
//     src/ResponseTypes/BearerTokenResponse.php (member order, headers),
//     src/Entities/Traits/AccessTokenTrait.php (claims),
//     src/Grant/AbstractGrant.php (generateUniqueIdentifier: 40 random
//     bytes in hex).
//   - github.com/dotkernel/api: src/App/src/Middleware/ErrorResponseMiddleware.php
//     (the "Invalid credentials." rewrite), AuthenticationMiddleware.php
//     and AuthorizationMiddleware.php (guest identity, 403 body),
//     src/User/src/Repository/UserRepository.php (getUserEntityByUserCredentials:
//     client to table, "Invalid client_id.", inactive_user),
//     src/*/src/RoutesDelegator.php (routes), data/doctrine/fixtures
//     (accounts, clients, scope api), config/autoload/authorization.global.php
//     (roles), src/Admin/src/Entity/Admin.php and src/User/src/Entity/User.php
//     (getArrayCopy fields).
//   - RFC 6749 §4.3, §5.2, §6; RFC 9700 §2.4 (the password grant stays off
//     unless the tenant and the client enable it) and §4.14.2 (rotation).
package dotkernel
