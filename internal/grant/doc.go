// Package grant runs the OAuth 2.0 token endpoint's fixed pipeline
// (RFC 6749 §4–6): authenticate the client (package authn), check the
// grant is allowed for it, let the grant authorize the subject, apply the
// scope, audience and expiry policy, and issue. A grant is one file
// implementing Grant plus one line in the registry; it cannot skip client
// authentication or policy.
package grant
