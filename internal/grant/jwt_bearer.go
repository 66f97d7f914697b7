package grant

import (
	"context"

	"github.com/tokend/tokend/internal/fault"
	"github.com/tokend/tokend/internal/store"
)

// jwtBearer is RFC 7523 §2.1, a JWT as an authorization grant: the
// assertion is signed by a trusted issuer (its subject mapped to a user
// as for token exchange) or by a key registered on the client (its sub
// the client itself or a user of the tenant); aud names this tenant's
// token endpoint or issuer, exp is required and at most five minutes
// ahead, each jti is accepted once (see exchange.Checker.Assertion).
// Errors are §3.1's: an assertion that is not acceptable is
// invalid_grant.
type jwtBearer struct{}

func (jwtBearer) Authorize(ctx context.Context, e *Engine, r *Request, c store.Client, _ store.Policy) (*Subject, error) {
	if r.Assertion == "" {
		return nil, fault.InvalidRequest("assertion is required").WithReason(fault.ReasonMissing).WithValue("assertion")
	}
	id, err := e.xchg.Assertion(ctx, r.Tenant, c, r.Assertion)
	if err != nil {
		return nil, err
	}
	s, err := subjectOf(ctx, e, r.Tenant, id)
	if err != nil {
		return nil, err
	}
	s.Grant = "jwt-bearer"
	if !id.External {
		s.ExternalSubject = id.Subject
	}
	return s, nil
}
