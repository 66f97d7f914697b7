// Package revoke owns revocation: one token, a presented token for its
// client (RFC 7009, [Service.Presented]), or every token of a subject,
// session, client or tenant issued before a cutoff. It keeps each
// replica's in-memory deny-list in step with the revocation log, serves
// the log as a feed, and prunes entries no token they match can still be
// valid under.
package revoke
