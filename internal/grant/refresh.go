package grant

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"time"

	"github.com/tokend/tokend/claims"
	"github.com/tokend/tokend/internal/fault"
	"github.com/tokend/tokend/internal/issue"
	"github.com/tokend/tokend/internal/principal"
	"github.com/tokend/tokend/internal/revoke"
	"github.com/tokend/tokend/internal/store"
	"github.com/tokend/tokend/internal/token"
)

// DefaultRefreshGrace is how long after a rotation the spent refresh
// token may still be presented to get the same successor again (a client
// that lost the response).
const DefaultRefreshGrace = 10 * time.Second

// refreshGrant is RFC 6749 §6 with rotation (RFC 9700 §4.14.2): every use
// spends the refresh token and returns a successor. What a presentation
// gets is decided on the presented token's locked row, in the ledger's
// group commit together with the new access token's row (see rotate):
//
//   - An unused token is spent: its successor and the access token are
//     written. Of any number of concurrent presentations, on any replica,
//     exactly one does this: the row lock (and on SQLite the single
//     writer) orders them, and the others find the token spent.
//   - A spent token presented again by its client within the grace, while
//     its successor is unused and live, is a retry of a lost response: it
//     gets the same successor again (see successor) and a new access
//     token; nothing else is minted. So N concurrent refreshes with one
//     token all succeed with one successor, and the family never holds two
//     valid refresh tokens, which is what RFC 9700 §4.14.2 asks of
//     rotation. The successor is then marked (GraceUsed): two parties may
//     hold it, so once it is spent it has no grace of its own.
//   - Any other presentation of a spent token (after the grace, once its
//     successor has been used or revoked, or of a token handed out more
//     than once) is a replay: the whole family (the login's session: every
//     refresh and access token of it) is revoked and token.reuse audited.
//
// A thief who replays a spent token within the grace thus gets the very
// successor the client holds, and whichever of the two spends it second
// revokes the family: "one of them will present an invalidated refresh
// token, which will inform the authorization server of the breach" (RFC
// 9700 §4.14.2). The price, since nothing tells a thief from a client
// with the same token: a successor handed out more than once (to a retry,
// or to concurrent refreshes) must then be used once, one request at a
// time; retrying it too, or refreshing it concurrently again, revokes the
// family and the user logs in again.
//
// Authorize only checks the token; the rotation happens once the
// request's scope and audience have passed too (a refused request spends
// nothing), and costs a share of one group commit, no commit of its own.
type refreshGrant struct {
	grace  time.Duration
	revoke *revoke.Service
	// key derives successors (see successor).
	key []byte
}

// rotation is a checked refresh token awaiting its rotation.
type rotation struct {
	row      store.Token
	client   store.Client
	now, exp time.Time
}

// The answers to a refresh token that does not refresh: one description
// (RFC 6749 §5.2 invalid_grant), refined by a fault.Reason for surfaces
// whose legacy API tells the cases apart.
var (
	errRefresh        = fault.InvalidGrant("the refresh token is invalid, expired or revoked")
	errRefreshUnknown = errRefresh.WithReason(fault.ReasonMalformed)
	errRefreshExpired = errRefresh.WithReason(fault.ReasonExpired)
	errRefreshRevoked = errRefresh.WithReason(fault.ReasonRevoked)
)

func (g *refreshGrant) Authorize(ctx context.Context, e *Engine, r *Request, c store.Client, pol store.Policy) (*Subject, error) {
	if r.RefreshToken == "" {
		return nil, fault.InvalidRequest("refresh_token is required").WithReason(fault.ReasonMissing).WithValue("refresh_token")
	}
	if tag, err := token.ParseOpaque(r.RefreshToken); err != nil || tag != token.TagRefresh {
		return nil, errRefreshUnknown
	}
	row, err := e.st.Tokens().GetByHash(ctx, token.Hash(r.RefreshToken))
	if errors.Is(err, store.ErrNotFound) {
		return nil, errRefreshUnknown
	}
	if err != nil {
		return nil, fault.Unavailable(err)
	}
	now := e.now().UTC().Truncate(time.Microsecond)
	switch {
	case row.Tenant != r.Tenant || row.Kind != claims.KindRefresh:
		return nil, errRefreshUnknown
	case row.ClientID != c.ID:
		// RFC 6749 §6: the token is bound to the client it was issued to.
		return nil, fault.InvalidGrant("the refresh token was issued to another client").WithReason(fault.ReasonOtherClient)
	case row.ExpiresAt != nil && !now.Before(*row.ExpiresAt):
		return nil, errRefreshExpired
	case row.RevokedAt != nil || g.revoke.RowReason(row) != "":
		return nil, errRefreshRevoked
	}
	u, err := e.authn.Directory().User(ctx, r.Tenant, row.Subject)
	if errors.Is(err, store.ErrNotFound) {
		return nil, errRefreshRevoked
	}
	if err != nil {
		return nil, fault.Unavailable(err)
	}
	if u.Disabled {
		return nil, fault.InvalidGrant("the user is disabled").WithReason(fault.ReasonUserDisabled)
	}
	if pol.LoginGroup != "" && !slices.Contains(u.Groups, pol.LoginGroup) {
		// The user has left the accounts this client logs in.
		return nil, errRefreshRevoked
	}
	a, err := principal.ExpandFrom(ctx, e.authn.Directory(), r.Tenant, u.Roles, u.Groups)
	if err != nil {
		return nil, fault.Unavailable(err)
	}

	exp := now.Add(time.Duration(pol.RefreshTTL) * time.Second)
	if row.LifetimeEnd != nil && row.LifetimeEnd.Before(exp) {
		exp = *row.LifetimeEnd
	}
	if !exp.After(now) {
		return nil, errRefreshExpired
	}
	return &Subject{
		Type: "user", ID: u.ID, Login: u.Login, Authority: &a, SessionID: row.SessionID, Granted: row.Scope,
		FamilyID: row.FamilyID, LifetimeEnd: derefTime(row.LifetimeEnd), Audience: row.Audience,
		rotation: &rotation{row: row, client: c, now: now, exp: exp},
	}, nil
}

// successor returns the value of the refresh token that succeeds value:
// HMAC-SHA256 of value under a key derived from the master key. Refresh
// tokens are stored only as hashes, yet a retry must be given the very
// successor the rotation made. Deriving it, rather than keeping it sealed
// on the spent row until the grace ends, adds no write to the rotation (it
// stays one savepoint of the group commit) and works on every replica that
// shares the master key. Only a holder of value can derive the successor,
// and the successor reveals nothing of value.
func (g *refreshGrant) successor(value string) string {
	if token.IsLeague(value) {
		// A league-profile family keeps its shape.
		return token.DeriveLeagueRefresh(g.key, value)
	}
	return token.DeriveOpaque(token.TagRefresh, g.key, value)
}

// rotate applies the rules of refreshGrant to the checked refresh token
// and returns the successor to hand out, in one group commit with access,
// the access token issued for this refresh (made with issue.Request.Defer):
// both are recorded, or neither is. A retry gets a new access token, not
// the one it lost: that one is never handed out twice, and the new one,
// short-lived and of the same session, dies with the family.
func (g *refreshGrant) rotate(ctx context.Context, e *Engine, r *Request, rot *rotation, access issue.Result) (string, error) {
	c, now, value := rot.client, rot.now, g.successor(r.RefreshToken)
	by := revoke.Actor{Name: "client:" + c.ID, ClientID: c.ID}
	retried := e.audit.Prepare(ctx, store.AuditEvent{Tenant: r.Tenant, Action: "token.refresh_retry",
		Actor: rot.row.SubjectType + ":" + rot.row.Subject, Subject: rot.row.Subject, ClientID: c.ID})
	var events []store.AuditEvent
	var reused bool
	err := e.issuer.Apply(ctx, func(ctx context.Context, tx store.Store) ([]store.AuditEvent, error) {
		// This may run twice (see ledger.Writer.Apply): start afresh.
		events, reused = nil, false
		cur, err := tx.Tokens().Lock(ctx, r.Tenant, rot.row.ID)
		if err != nil {
			return nil, err
		}
		if cur.RevokedAt != nil || g.revoke.RowReason(cur) != "" {
			return nil, errRefreshRevoked
		}
		rows := []store.Token{access.Row}
		if cur.UsedAt == nil {
			// The normal case: spend this token.
			minted, err := g.spend(ctx, e, tx, r, rot, cur, value)
			if err != nil {
				return nil, err
			}
			rows, events = append(rows, minted.Row), []store.AuditEvent{minted.Event, access.Event}
		} else {
			next, ok, err := g.retry(ctx, tx, cur, value, now)
			if err != nil {
				return nil, err
			}
			if !ok {
				reused = true
				_, err := g.revoke.BeforeIn(ctx, tx, by, r.Tenant, store.RevokeSession, cur.SessionID, "token.reuse")
				return nil, err
			}
			ev := retried
			ev.Detail = map[string]string{"jti": next.ID, "spent": cur.ID}
			events = []store.AuditEvent{ev, access.Event}
		}
		if err := tx.Tokens().Insert(ctx, rows...); err != nil {
			return nil, err
		}
		return events, nil
	})
	if err != nil {
		if fault.As(err) != nil {
			return "", err
		}
		return "", fault.Unavailable(err)
	}
	if reused {
		return "", fault.InvalidGrant("the refresh token was already used; its family has been revoked").WithReason(fault.ReasonRevoked)
	}
	e.audit.Observe(events...)
	return value, nil
}

// spend marks cur, the unused refresh token, spent and makes its
// successor, whose value is value, for the caller to write.
func (g *refreshGrant) spend(ctx context.Context, e *Engine, tx store.Store, r *Request, rot *rotation, cur store.Token, value string) (issue.Result, error) {
	now, next := rot.now, token.NewTimeID(rot.now)
	cur.UsedAt, cur.ReplacedBy = &now, next
	if err := tx.Tokens().MarkUsed(ctx, cur); err != nil {
		return issue.Result{}, err
	}
	return e.issuer.Issue(ctx, issue.Request{
		Tenant: r.Tenant, ID: next, Value: value, Kind: claims.KindRefresh, Format: store.FormatOpaque,
		SubjectType: cur.SubjectType, Subject: cur.Subject, ClientID: rot.client.ID,
		SessionID: cur.SessionID, FamilyID: cur.FamilyID, Scope: cur.Scope, Audience: cur.Audience,
		TTL: rot.exp.Sub(now), LifetimeEnd: derefTime(cur.LifetimeEnd), Action: "token.refresh", Defer: true,
	})
}

// retry reports whether presenting cur, a spent refresh token, again at
// now is the retry of a lost response (see refreshGrant), and if so marks
// its successor, whose value is value, as handed out more than once.
func (g *refreshGrant) retry(ctx context.Context, tx store.Store, cur store.Token, value string, now time.Time) (store.Token, bool, error) {
	if cur.GraceUsed || cur.ReplacedBy == "" || now.Sub(*cur.UsedAt) > g.grace {
		return store.Token{}, false, nil
	}
	next, err := tx.Tokens().Lock(ctx, cur.Tenant, cur.ReplacedBy)
	if errors.Is(err, store.ErrNotFound) {
		return store.Token{}, false, nil
	}
	if err != nil {
		return store.Token{}, false, err
	}
	switch {
	case next.UsedAt != nil || next.RevokedAt != nil || g.revoke.RowReason(next) != "":
		return store.Token{}, false, nil
	case next.ExpiresAt != nil && !now.Before(*next.ExpiresAt):
		return store.Token{}, false, nil
	case !bytes.Equal(next.Hash, token.Hash(value)):
		// Only a change of master key makes the successor derive anew.
		return store.Token{}, false, fault.Internal(errors.New("refresh: the successor of a spent token no longer derives from it"))
	}
	if !next.GraceUsed {
		next.GraceUsed = true
		if err := tx.Tokens().MarkUsed(ctx, next); err != nil {
			return store.Token{}, false, err
		}
	}
	return next, true, nil
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
		Profile: pol.Profile,
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
