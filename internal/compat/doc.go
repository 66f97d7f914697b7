// Package compat holds tokend's compatible surfaces: one package per legacy
// token API in the seeds, each answering that API's paths, fields, status
// codes, headers, cookies and error texts exactly, with ordinary tokend
// tokens underneath.
//
//	storetoken   seed 000, the admin-only store token API
//	bigcommerce  seed 001, storefront, private, impersonation and customer tokens
//	tenantauth   seed 002, tenant tokens and OIDC token exchange
//	dotkernel    seed 003, OAuth 2.0 password and refresh grants
//	apstrata     seed 004, signed GenerateToken, RenewToken and DeleteToken
//
// A compatible surface is a translator and holds no rule of its own. Each
// handler parses the legacy request shape strictly (parse.go), calls one
// core entry point, and renders the result or the fault in the legacy
// shape (render.go, the one place that maps each fault code to the legacy
// status and text). Expiry and lifetime bounds, token limits, mint rights,
// credential and signature checks, revocation scope, audit writes, storage,
// signing and caches belong to the core; a rule a surface needs and the
// core lacks is added to the core, with its own tests, so that the native
// API gains it too.
//
// What a package under internal/compat may import from this module:
//
//   - internal/httpx, internal/fault, internal/reqctx and claims: the edge
//     helpers, the error type, request-scoped data, the token's wire shape;
//   - internal/authn, internal/grant, internal/mint, internal/revoke and
//     internal/introspect: the core entry points;
//   - internal/binding: which tenant a request is for and the tenant's
//     settings of the surface (each surface's settings type lives there);
//   - internal/token: the surface-safe result of an issuance (token.Issued);
//   - internal/compat itself, for helpers the surfaces share;
//   - verify: the rules of a token kind at use (CheckUse, CheckChannel,
//     RequireScopes), the same functions the gateway check and resource
//     servers apply.
//
// Never internal/store, internal/issue, internal/directory, a storage
// backend, or another surface (internal/oauth, internal/gateway,
// internal/tokenapi, internal/admin, another package under
// internal/compat). internal/archtest enforces this list.
//
// Each package has a doc.go naming its seed, the legacy product, its
// routes and every deliberate difference with the reason and the public
// source it follows; testdata/*.golden files with the seed's examples
// verbatim; a fuzz target for its parser; and a user document in
// docs/compat/<name>.md.
package compat
