package store

import "time"

// Revocation scopes. A "token" revocation names one token id; the others
// are cutoffs: every token of that subject, session, client, refresh
// family or whole tenant issued before Cutoff is revoked, none after it.
const (
	RevokeToken   = "token"
	RevokeSubject = "subject"
	RevokeSession = "session"
	RevokeClient  = "client"
	RevokeFamily  = "family"
	RevokeTenant  = "tenant"
)

// Revocation is one entry of the ordered revocation log that every replica
// follows and verifiers read through the revocation feed.
type Revocation struct {
	Seq    int64
	Tenant string
	Scope  string // one of the Revoke* constants
	// SubjectType is, for RevokeSubject, the type of the subject (user,
	// client, device, customer): ids are unique only within a type. ""
	// (entries logged before schema 7) matches a subject of every type.
	SubjectType string
	Key         string // token id, subject id, session id, client id, family id; "" for tenant
	// Cutoff is the instant before which matching tokens are revoked
	// (microsecond precision). For a token revocation, when it was revoked.
	Cutoff time.Time
	// Until is when the entry stops mattering (every token it can match has
	// expired) and may be pruned; nil keeps it.
	Until     *time.Time
	CreatedAt time.Time
}
