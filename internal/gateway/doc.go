// Package gateway is the surface resource servers and their proxies call:
// the gateway check /t/{tenant}/check (nginx auth_request, forward auth),
// which applies every binding of a token's kind to the forwarded request,
// and the revocation feed /t/{tenant}/revocations (cursor pages, long polls
// and server-sent events), which verifiers follow to keep a deny-list.
package gateway
