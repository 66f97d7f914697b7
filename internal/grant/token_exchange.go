package grant

import (
	"context"
	"time"

	"github.com/tokend/tokend/claims"
	"github.com/tokend/tokend/internal/exchange"
	"github.com/tokend/tokend/internal/fault"
	"github.com/tokend/tokend/internal/principal"
	"github.com/tokend/tokend/internal/store"
)

// tokenExchange is RFC 8693: the client presents a subject_token (an ID
// token or JWT access token of a trusted issuer, or an access token of
// this tenant) and gets an access token of this tenant for the user it
// maps to, with the roles, groups, resources and scopes the password
// grant would give that user (principal.Expand), narrowed by the client's
// scopes, by the subject token's own scope when it is one of this
// tenant's, and by the request's scope and audience (the pipeline's
// scope and audience steps: narrowed, never widened). An actor_token
// makes it delegation: the issued token's act names the actor and nests
// the actor's own act chain (§4.1). Errors are §2.2.2's: a token that is
// not acceptable is invalid_grant, a bad parameter invalid_request, an
// audience or resource not allowed invalid_target.
type tokenExchange struct{}

// RFC 8693 token types, for callers (compatible surfaces) that may not
// import package exchange.
const (
	TokenTypeAccess = exchange.TypeAccessToken
	TokenTypeJWT    = exchange.TypeJWT
	TokenTypeID     = exchange.TypeIDToken
)

func (tokenExchange) Authorize(ctx context.Context, e *Engine, r *Request, c store.Client, pol store.Policy) (*Subject, error) {
	if r.SubjectToken == "" {
		return nil, fault.InvalidRequest("subject_token is required").WithReason(fault.ReasonMissing).WithValue("subject_token")
	}
	if r.ActorToken == "" && r.ActorTokenType != "" {
		return nil, fault.InvalidRequest("actor_token_type is sent only with actor_token")
	}
	switch r.RequestedTokenType {
	case "", exchange.TypeAccessToken:
	case exchange.TypeJWT:
		if pol.Format == store.FormatOpaque {
			return nil, fault.InvalidRequest("requested_token_type jwt: this client's access tokens are opaque")
		}
	default:
		return nil, fault.InvalidRequest("requested_token_type %q is not issued here; ask for %s", r.RequestedTokenType, exchange.TypeAccessToken)
	}
	id, err := e.xchg.Subject(ctx, r.Tenant, r.SubjectToken, r.SubjectTokenType)
	if err != nil {
		return nil, err
	}
	s, err := subjectOf(ctx, e, r.Tenant, id)
	if err != nil {
		return nil, err
	}
	s.Grant = "token-exchange"
	s.IssuedTokenType = exchange.TypeAccessToken
	if r.RequestedTokenType == exchange.TypeJWT {
		s.IssuedTokenType = exchange.TypeJWT
	}
	s.Actor = id.Act
	if r.ActorToken != "" {
		act, err := e.xchg.Actor(ctx, r.Tenant, r.ActorToken, r.ActorTokenType)
		if err != nil {
			return nil, err
		}
		a := &claims.Actor{Subject: act.Subject, Act: act.Act}
		if act.External {
			a.Issuer = act.Issuer
		} else {
			a.ClientID = act.ClientID
		}
		s.Actor = a
	}
	return s, nil
}

// subjectOf turns a checked identity into the grant's subject: a user's
// authority expanded as for the password grant, a client's own scopes
// otherwise; a token of this tenant bounds the scope by its own.
func subjectOf(ctx context.Context, e *Engine, ten string, id *exchange.Identity) (*Subject, error) {
	s := &Subject{Type: id.SubjectType, ID: id.ID, Login: id.Login}
	if id.External {
		s.IDP, s.ExternalSubject = id.Issuer, id.Subject
		s.Claims = id.Claims
	}
	if !id.External && id.Scope != nil {
		s.Granted = id.Scope
	}
	if id.SubjectType == "user" {
		a, err := principal.ExpandFrom(ctx, e.authn.Directory(), ten, id.Roles, id.Groups)
		if err != nil {
			return nil, fault.Unavailable(err)
		}
		s.Authority = &a
	}
	return s, nil
}

// refused audits a refused token exchange or jwt-bearer grant: the reason
// (the error's description, which never holds the token) and the grant,
// then hands err back.
func (e *Engine) refused(ctx context.Context, r *Request, c store.Client, err error) error {
	grant := ""
	switch r.GrantType {
	case TokenExchange:
		grant = "token-exchange"
	case JWTBearer:
		grant = "jwt-bearer"
	default:
		return err
	}
	reason, code := err.Error(), "server_error"
	if fe, ok := err.(*fault.Error); ok {
		reason, code = fe.Description, string(fe.Code)
	}
	ev := store.AuditEvent{Tenant: r.Tenant, Time: e.now().UTC().Truncate(time.Microsecond), Action: "token.refuse", Outcome: "failure",
		Actor: "client:" + c.ID, ClientID: c.ID, Detail: map[string]string{"grant": grant, "reason": reason, "error": code}}
	if aerr := e.audit.Record(ctx, nil, ev); aerr != nil {
		e.log.WarnContext(ctx, "audit of a refused grant failed", "grant", grant, "error", aerr)
	}
	return err
}
