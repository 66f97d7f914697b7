// Package tokenapi is tokend's own token API beside OAuth: POST
// /t/{tenant}/tokens (a client mints a storefront, private or
// impersonation token with one of its access tokens), /tokens/generate
// (signed requests of devices, users and owners acting for them),
// /tokens/renew, and the customer sessions /customers/login and
// /customers/logout. Each handler parses, makes one call to authn or mint,
// and renders.
package tokenapi
