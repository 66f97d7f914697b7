// Package apstrata is the compatible surface of seed 004
// (../shared/seeds/004_5b926a073f9c4088.txt): apstrata's token API, which
// later scriptr.io kept. Devices and users sign a request to get a token
// for themselves; the account owner gets one for them with apsdb.runAs.
// Its SDKs work against tokend with only the host changed.
//
// # Routes
//
//	GET|POST /apsdb/rest/{authKey}/GenerateToken
//	GET|POST /apsdb/rest/{authKey}/RenewToken
//	GET|POST /apsdb/rest/{authKey}/DeleteToken
//	GET|POST /apsdb/rest/{authKey}/VerifyCredentials
//
// Parameters go in the query string or a form body (a parameter once, in
// either). {authKey} is the account key: the lookup key under which a
// tenant enabled the surface (binding settings "apstrata": account_key and
// owner_client, the client that is the account owner).
//
// # What it maps onto
//
//   - The account owner is a client allowed tokend:admin; its account
//     secret, a user's or device's apstrata password (kept as its MD5, the
//     form simple signatures use) are legacy credentials sealed under the
//     master key (directory.SetLegacySecret; admin API PUT
//     /v1/tenants/{t}/{users|devices|clients}/{id}/legacy-secret with
//     password, password_md5 to import from the legacy system, or
//     secret). They are never a tokend password: the MD5 of a password is
//     password-equivalent for these signatures and cannot be an argon2id
//     hash, so it lives apart and is usable only here.
//   - apsws.id names a device by id, else a user by login (then by id).
//   - Signatures are authn.LegacySigned; token mode is authn.LegacyToken;
//     tokens are minted by mint.Device and mint.User in seed 004's form
//     (mint.FormatHex: 32 upper-case hex characters, 128 random bits,
//     stored as a hash) and renewed by mint.Renew (the old token valid
//     for 5 more seconds); DeleteToken is revoke.Token. Every token has a
//     ledger row, an audit event and shows in every native listing.
//
// # Sources
//
//   - wiki.apstrata.com "REST API Reference" (Common Request Parameters:
//     apsws.time, apsws.authSig, apsws.authMode default complex,
//     apsws.responseType default xml, apsws.id / apsws.user, apsdb.runAs,
//     apsws.jc, apsdb.force200ResponseStatus) and the authentication
//     overview (viewpagesrc pageId=6587493, 6587399: default, simple,
//     token and bearer authentication).
//   - wiki "Simple Signature Type" and the apstrata JavaScript SDK,
//     apstrataDojoSDK/apstrata/Connection.js and URLSignerMD5.js
//     (github.com/elie-hanna/apstrata): MD5hex(time + key + action +
//     secret) for the owner, MD5hex(time + login + action +
//     UPPER(MD5hex(password))) for users; the time is
//     new Date().getTime(), milliseconds.
//   - wiki "Default Signature Type" (display/doc/Default+Signature+Type,
//     pageId=6586628): HMAC-SHA1 with the secret over METHOD "\n"
//     urlencoded URL (scheme, host, port, path; no query) "\n" the sorted,
//     encoded name=value pairs joined with "&"; space %20, * %2A.
//   - wiki "RenewToken" (display/doc/RenewToken): token authentication,
//     https only, not past the lifetime, the old token valid 5 seconds,
//     eternal tokens not renewable, a referrer-bound token not renewable
//     from another referrer.
//   - wiki "Bearer Token Authentication" (display/doc/Bearer+Token+Authentication,
//     pageId=6586462): Authorization: Bearer base64(authKey:id:token).
//
// # Choices where no source says
//
//   - apsws.time: seconds or milliseconds (a value above 10^11 is
//     milliseconds), within 5 minutes of the server's clock either side;
//     each signature is accepted once across replicas (store nonces).
//     Out of the window or replayed: INVALID_SIGNATURE.
//   - The complex signature's output encoding is not stated: hex (either
//     case) and standard base64 are both accepted. The pairs are sorted
//     as encoded "name=value" strings, byte order. The URL is tokend's
//     public URL or the Host the request was sent to (either verifies).
//     A user's or device's complex key is the same UPPER(MD5hex(password))
//     its simple signature uses (the server holds nothing else).
//   - An unknown account key, an unknown identifier, a principal without
//     a legacy credential and a wrong signature answer INVALID_SIGNATURE
//     alike (no enumeration); a runAs naming nobody INVALID_IDENTIFIER.
//   - Token failures (unknown, expired, revoked, another identifier's,
//     another referrer's) answer INVALID_SIGNATURE: the seed names no code
//     for them; renewal refusals (eternal, lifetime over) INVALID_REQUEST.
//   - A request without apsws.authSig (and not in token mode) is
//     anonymous: INVALID_REQUEST "<Action> must not be called anonymously";
//     an owner without apsdb.runAs gets the seed's "GenerateToken must not
//     be called anonymously"; a user or device sending apsdb.runAs the
//     seed's INVALID_PARAMETER "Invalid parameter apsdb.runAs".
//   - Unknown parameters are refused (INVALID_PARAMETER "The parameter
//     [name] is not allowed in <Action>"), as is one sent twice.
//   - apsdb.bindReferrer defaults to true for users; a user request with
//     no Referer that does not ask for the binding explicitly gets an
//     unbound token (curl and server-side callers have none). Devices'
//     tokens are never bound nor cookied: those parameters are ignored for
//     them. The cookie is named apsdb.authToken (HttpOnly, Secure,
//     SameSite=Strict) and token mode reads it back when
//     apsdb.authToken is absent.
//   - GenerateToken and RenewToken over plain HTTP are refused
//     (INVALID_REQUEST "... must be sent over https") except in dev mode
//     and from loopback.
//   - An eternal token reports apsdb.tokenExpires and
//     apsdb.tokenLifetime "0".
//   - apsws.jc wraps the JSON answer (whatever apsws.responseType) as
//     /**/cb(...); with Content-Type application/javascript; it must be a
//     (dotted) JavaScript identifier of at most 64 characters.
//   - requestId is a random UUID per answer.
//   - Owners renew and delete tokens for a device or user: a signed
//     request with apsdb.runAs and apsdb.authToken (wiki "RenewToken").
//   - The gateway check (/t/{tenant}/check) takes the apstrata token
//     forms; that code lives in internal/gateway (gateway.Legacy).
package apstrata
