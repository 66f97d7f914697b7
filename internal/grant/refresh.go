package grant

import (
	"context"
	"errors"
	"slices"
	"time"

	"github.com/tokend/tokend/claims"
	"github.com/tokend/tokend/internal/fault"
	"github.com/tokend/tokend/internal/issue"
	"github.com/tokend/tokend/internal/revoke"
	"github.com/tokend/tokend/internal/store"
	"github.com/tokend/tokend/internal/token"
)

// DefaultRefreshGrace is how long after a refresh the previous refresh
// token may be presented once more (a client that lost the response).
const DefaultRefreshGrace = 10 * time.Second

// refreshGrant is RFC 6749 §6 with rotation (RFC 9700 §4.14.2): every use
// returns a new refresh token and spends the old one. Within the grace
// period the old one may be presented once more by the same client; that
// retry succeeds and invalidates the successor it had been given. Any
// other replay is treated as theft and revokes the whole family (the
// login's session: every refresh and access token descended from it).
//
// Authorize only checks the token; the rotation happens once the
// request's scope and audience have passed too (a refused request spends
// nothing), in the ledger's group commit together with the new access
// token's row (see rotate). It holds the old token's row lock (and on
// SQLite the single writer), so concurrent refreshes with one token leave
// at most one valid refresh token in the family, while refreshes of
// different families share one durable commit.
type refreshGrant struct {
	grace  time.Duration
	revoke *revoke.Service
}

// rotation is a checked refresh token awaiting its rotation.
type rotation struct {
	row      store.Token
	client   store.Client
	now, exp time.Time
}

var errRefresh = fault.InvalidGrant("the refresh token is invalid, expired or revoked")

func (g *refreshGrant) Authorize(ctx context.Context, e *Engine, r *Request, c store.Client, pol store.Policy) (*Subject, error) {
	if r.RefreshToken == "" {
		return nil, fault.InvalidRequest("refresh_token is required")
	}
	if tag, err := token.ParseOpaque(r.RefreshToken); err != nil || tag != token.TagRefresh {
		return nil, errRefresh
	}
	row, err := e.st.Tokens().GetByHash(ctx, token.Hash(r.RefreshToken))
	if errors.Is(err, store.ErrNotFound) {
		return nil, errRefresh
	}
	if err != nil {
		return nil, fault.Unavailable(err)
	}
	now := e.now().UTC().Truncate(time.Microsecond)
	switch {
	case row.Tenant != r.Tenant || row.Kind != claims.KindRefresh:
		return nil, errRefresh
	case row.ClientID != c.ID:
		// RFC 6749 §6: the token is bound to the client it was issued to.
		return nil, fault.InvalidGrant("the refresh token was issued to another client")
	case row.ExpiresAt != nil && !now.Before(*row.ExpiresAt):
		return nil, errRefresh
	case row.RevokedAt != nil || g.revoke.RowReason(row) != "":
		return nil, errRefresh
	}
	u, err := e.st.Users().Get(ctx, r.Tenant, row.Subject)
	if errors.Is(err, store.ErrNotFound) {
		return nil, errRefresh
	}
	if err != nil {
		return nil, fault.Unavailable(err)
	}
	if u.Disabled {
		return nil, fault.InvalidGrant("the user is disabled")
	}
	a, err := userAuthority(ctx, e.st, r.Tenant, u)
	if err != nil {
		return nil, fault.Unavailable(err)
	}

	exp := now.Add(time.Duration(pol.RefreshTTL) * time.Second)
	if row.LifetimeEnd != nil && row.LifetimeEnd.Before(exp) {
		exp = *row.LifetimeEnd
	}
	if !exp.After(now) {
		return nil, errRefresh
	}
	return &Subject{
		Type: "user", ID: u.ID, Authority: &a, SessionID: row.SessionID, Granted: row.Scope,
		FamilyID: row.FamilyID, LifetimeEnd: derefTime(row.LifetimeEnd), Audience: row.Audience,
		rotation: &rotation{row: row, client: c, now: now, exp: exp},
	}, nil
}

// rotate spends the checked refresh token and returns its successor, in
// one group commit with access, the access token issued for this refresh
// (made with issue.Request.Defer): both are recorded, or neither is.
func (g *refreshGrant) rotate(ctx context.Context, e *Engine, r *Request, rot *rotation, access issue.Result) (string, error) {
	c, now, next := rot.client, rot.now, token.NewTimeID(rot.now)
	var minted issue.Result
	var reused bool
	err := e.issuer.Apply(ctx, func(ctx context.Context, tx store.Store) ([]store.AuditEvent, error) {
		// This may run twice (see ledger.Writer.Apply): start afresh.
		minted, reused = issue.Result{}, false
		cur, err := tx.Tokens().Lock(ctx, r.Tenant, rot.row.ID)
		if err != nil {
			return nil, err
		}
		if cur.RevokedAt != nil {
			return nil, errRefresh
		}
		switch {
		case cur.UsedAt == nil:
			// The normal case: spend this token.
		case !cur.GraceUsed && now.Sub(*cur.UsedAt) <= g.grace:
			// The client lost the response: the successor it was given is
			// invalidated and a new one issued instead.
			if cur.ReplacedBy != "" {
				if _, err := g.revoke.TokenIn(ctx, tx, revoke.Actor{Name: "client:" + c.ID, ClientID: c.ID}, r.Tenant, cur.ReplacedBy); err != nil {
					return nil, err
				}
			}
			cur.GraceUsed = true
		default:
			reused = true
			_, err := g.revoke.BeforeIn(ctx, tx, revoke.Actor{Name: "client:" + c.ID, ClientID: c.ID},
				r.Tenant, store.RevokeSession, cur.SessionID, "token.reuse")
			return nil, err
		}
		cur.UsedAt, cur.ReplacedBy = &now, next
		if err := tx.Tokens().MarkUsed(ctx, cur); err != nil {
			return nil, err
		}
		minted, err = e.issuer.Issue(ctx, issue.Request{
			Tenant: r.Tenant, ID: next, Kind: claims.KindRefresh, Format: store.FormatOpaque,
			SubjectType: cur.SubjectType, Subject: cur.Subject, ClientID: c.ID,
			SessionID: cur.SessionID, FamilyID: cur.FamilyID, Scope: cur.Scope, Audience: cur.Audience,
			TTL: rot.exp.Sub(now), LifetimeEnd: derefTime(cur.LifetimeEnd), Action: "token.refresh", Defer: true,
		})
		if err != nil {
			return nil, err
		}
		if err := tx.Tokens().Insert(ctx, minted.Row, access.Row); err != nil {
			return nil, err
		}
		return []store.AuditEvent{minted.Event, access.Event}, nil
	})
	if err != nil {
		if fault.As(err) != nil {
			return "", err
		}
		return "", fault.Unavailable(err)
	}
	if reused {
		return "", fault.InvalidGrant("the refresh token was already used; its family has been revoked")
	}
	e.audit.Observe(minted.Event, access.Event)
	return minted.Value, nil
}

// IssueRefresh makes the first refresh token of a login (a family), with
// issue.Request.Defer: the caller commits it with the login's access
// token. ok is false when the family's lifetime leaves no room for one.
func (g *refreshGrant) IssueRefresh(ctx context.Context, e *Engine, r *Request, c store.Client, s *Subject, scope, aud []string, pol store.Policy) (res issue.Result, ok bool, err error) {
	ttl := time.Duration(pol.RefreshTTL) * time.Second
	if !s.LifetimeEnd.IsZero() {
		ttl = min(ttl, time.Until(s.LifetimeEnd))
	}
	if ttl <= 0 {
		return issue.Result{}, false, nil
	}
	res, err = e.issuer.Issue(ctx, issue.Request{
		Tenant: r.Tenant, Kind: claims.KindRefresh, Format: store.FormatOpaque,
		SubjectType: s.Type, Subject: s.ID, ClientID: c.ID, SessionID: s.SessionID, FamilyID: s.SessionID,
		Scope: scope, Audience: aud, TTL: ttl, LifetimeEnd: s.LifetimeEnd, Action: "token.issue_refresh", Defer: true,
	})
	return res, err == nil, err
}

func derefTime(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return *t
}

// allowsRefresh reports whether the client may receive refresh tokens.
func allowsRefresh(c store.Client) bool { return slices.Contains(c.GrantTypes, RefreshToken) }
