// Package bigcommerce is the compatible surface of seed 001: BigCommerce's
// GraphQL Storefront API tokens (REST) and the customer sign-in part of
// its GraphQL Storefront API, so that a headless storefront or an
// integration written against BigCommerce works against tokend with only
// its hosts changed.
//
// # Sources
//
// The seed is BigCommerce's docs pull request #1245 (PAPI-3173, private
// tokens). The rest of the contract comes from BigCommerce's public docs
// repository, github.com/bigcommerce/docs:
//   - reference/storefront_tokens.v3.yml (read at commit 03e21810): the
//     server https://api.bigcommerce.com/stores/{store_hash}/v3, the
//     X-Auth-Token scheme and its two scopes, the required Accept and
//     Content-Type headers, the bodies TokenPostSimple and
//     TokenPostImpersonation, Token_Full, the Sf-Api-Token header of the
//     revocation, the 401/403/422 descriptions, and ErrorResponse
//     (status, title, type, errors as field → string);
//   - docs/start/authentication/graphql-storefront.mdx (as the seed
//     changes it): storefront, private and impersonation tokens, the
//     private-token scopes and the INSUFFICIENT_ACCESS_SCOPE error,
//     customer access tokens (body for servers, cookie for browsers,
//     logout on every device), X-Bc-Customer-Access-Token and
//     X-Bc-Customer-Id, the wrong-context message;
//   - docs/start/about/status-codes.mdx: "all GraphQL errors return a
//     401" and the nine credential messages, verbatim;
//   - @bigcommerce/catalyst-client 1.0.3 (npm): the GraphQL host
//     store-{hash}-{channel}.{BIGCOMMERCE_GRAPHQL_API_DOMAIN}, its
//     headers, and the error codes it recognises.
//
// # Routes
//
//	POST   /stores/{store_hash}/v3/storefront/api-token                        storefront token
//	POST   /stores/{store_hash}/v3/storefront/api-token-private                private token
//	POST   /stores/{store_hash}/v3/storefront/api-token-customer-impersonation impersonation token
//	DELETE /stores/{store_hash}/v3/storefront/api-token                        revoke (Sf-Api-Token)
//	POST   /graphql on store-{store_hash}-{channel_id}.{--bigcommerce-domain}
//	POST   /stores/{store_hash}/graphql (channel: X-Bc-Channel-Id or ?channel_id=, default the first)
//	OPTIONS on both GraphQL routes: CORS preflight
//
// # Mapping
//
// A store is a tenant that enabled the surface with settings
// (binding.BigCommerce) naming its store hash (the lookup key) and its
// channels. An API account is a client of that tenant; its X-Auth-Token
// is one of its access tokens, normally a long-lived opaque one minted
// through the admin API (POST /v1/tenants/{t}/tokens) or the CLI. Its
// allowed scopes store_storefront_api and
// store_storefront_api_customer_impersonation are mint rights
// (mint.CreationScopes): the first mints and revokes storefront and
// private tokens, the second mints impersonation tokens. Each create
// calls mint.Minter.Kind; the revocation mint.Minter.RevokeKind; login
// mint.Minter.CustomerLoginWith (customer access tokens in BigCommerce's
// form, store.FormatSession), logout mint.Minter.CustomerLogout, the
// customer query mint.Minter.Customer after introspect's Verify or
// ActFor. Customers are users of the tenant whose ids are BigCommerce's
// integer customer ids (entityId); their display name gives firstName
// and lastName (split at the first space).
//
// The tokens are ordinary tokend JWTs (ES256 by default) under the
// header {"typ":"JWT","alg":"ES256"} without kid, as BigCommerce's
// examples show them (issue.Request.Untyped); they carry kind, channels,
// origins (storefront) and scope (private) and verify with the tenant's
// JWKS.
//
// # Browsers
//
// BigCommerce does not publish how it tells a browser from a server.
// tokend's test (verify.FromBrowser): a request that carries any of
// Origin, Sec-Fetch-Site or Cookie comes from a browser; a request with
// none of them from a server. Every current browser sends Origin on every
// POST and Sec-Fetch-Site on every request; a server-side HTTP client
// sends none of them unless told to. Sec-Fetch-Mode alone is not a
// browser's: Node's built-in fetch, which BigCommerce's own client uses
// from Next.js servers, sends "Sec-Fetch-Mode: cors" on every request. From a browser, login
// sets the customer access token as an HttpOnly, Secure cookie
// (SHOP_TOKEN, SameSite=None so that a storefront on another site gets
// it with credentials) and asking for customerAccessToken in the body is
// an error with the seed's message; X-Bc-Customer-Access-Token is refused
// from a browser; private and impersonation tokens are refused from a
// browser (verify.CheckUse, as the gateway check and the verifier library
// apply it); a storefront token only from its allowed_cors_origins, whose
// responses carry Access-Control-Allow-Origin for exactly that origin and
// Access-Control-Allow-Credentials. A preflight, which carries no token,
// is answered for an origin that an active storefront token of the store
// allows (mint.Minter.StorefrontOrigins).
//
// # Deliberate differences
//
//   - Channels are listed in the tenant's surface settings rather than a
//     separate channel API; once listed, a token may name only those
//     (mint.KindSpec.AllowedChannels).
//   - 415 and 406 bodies use the v3 shape with tokend's titles; the spec
//     gives none. The 401 and 403 titles are the spec's response
//     descriptions (the real bodies are not published). A missing Accept
//     is taken as the spec's default, application/json.
//   - dev_mode (the older spec's) is accepted and has no effect: tokend
//     has no prelaunch storefronts.
//   - An expires_at in the past, an unknown channel, three origins or an
//     unknown scope are 422 naming the field (the spec names no status
//     for some of them; 422 is its validation status).
//   - The revocation answers 200 with {"data":{},"meta":{}} (the spec
//     gives no body) and takes effect at once, not "scheduled".
//   - GraphQL: the subset is login, loginWithCustomerLoginJwt, logout and
//     customer (and
//     introspection of that subset); any other field is the standard
//     validation error "Cannot query field …". Login failures answer
//     "Invalid credentials" on the field; the logout result is "success"
//     (BigCommerce publishes neither). A customer access token that is no
//     longer valid makes the request a guest's, or, with
//     X-Bc-Error-On-Invalid-Customer-Access-Token: true (as BigCommerce's
//     client sends), an INVALID_CUSTOMER_ACCESS_TOKEN error.
//   - loginWithCustomerLoginJwt verifies BigCommerce's customer login
//     JWT (docs/start/authentication/customer-login.mdx: HS256, iss the
//     API account, iat within 30 s, jti once, operation customer_login,
//     store_hash, customer_id, optional channel_id and redirect_to) with
//     the API account's signing secret (POST
//     /v1/tenants/{t}/clients/{id}/signing-secret): tokend keeps client
//     secrets only as hashes, which cannot key an HMAC. Every refusal is
//     "Invalid customer login JWT" on the field.
package bigcommerce
