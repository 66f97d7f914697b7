package token

import "time"

// Issued is what a surface may see of a token the core just issued: the
// value to hand out and the facts to render beside it, never the ledger row
// or the audit event behind it.
type Issued struct {
	Value       string
	ID          string
	Kind        string
	SubjectType string
	Subject     string
	IssuedAt    time.Time
	ExpiresAt   *time.Time // nil: the token never expires
	LifetimeEnd *time.Time // nil: the token has no lifetime (not renewable)
	Scope       []string
}

// ExpiresIn returns the seconds until expiry, 0 for eternal tokens.
func (t Issued) ExpiresIn() int64 {
	if t.ExpiresAt == nil {
		return 0
	}
	return int64(t.ExpiresAt.Sub(t.IssuedAt).Round(time.Second) / time.Second)
}
