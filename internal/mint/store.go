package mint

import (
	"context"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/tokend/tokend/claims"
	"github.com/tokend/tokend/internal/fault"
	"github.com/tokend/tokend/internal/introspect"
	"github.com/tokend/tokend/internal/issue"
	"github.com/tokend/tokend/internal/principal"
	"github.com/tokend/tokend/internal/revoke"
	"github.com/tokend/tokend/internal/store"
	"github.com/tokend/tokend/internal/tenant"
	"github.com/tokend/tokend/internal/token"
)

// Verifier verifies a bearer token presented to a tenant;
// *introspect.Verifier is one.
type Verifier interface {
	VerifyIn(ctx context.Context, tenant, raw string) (*introspect.Identity, error)
}

// StoreType is the device type of a store (seed 000).
const StoreType = "store"

// DefaultStoreAudience is the audience of a store token (Knock payload
// aud: [:api]).
const DefaultStoreAudience = "api"

// MaxStoreLifetime bounds a tenant's store-token lifetime: 100 years as
// Rails counts them (365.2425 days each), the
// legacy application's token_lifetime.
const MaxStoreLifetime = 100 * 31556952 * time.Second

// StoreSpec asks for a store token (seed 000): a compact HS256 token whose
// subject is a device of type store, made by an admin of the tenant.
type StoreSpec struct {
	// Bearer is the caller's token, as presented.
	Bearer string
	// Lifetime is the tenant's store-token lifetime, the token's default
	// expiry; 0 makes tokens without exp (Knock with a nil lifetime).
	Lifetime time.Duration
	// AdminRole is the role that makes a user an admin of the tenant.
	AdminRole string
	// ExpiresIn, in seconds, asks for an expiry shorter than Lifetime.
	ExpiresIn *int64
	// Audience replaces ["api"]; each must be "api" or the audience of a
	// project of the tenant.
	Audience []string
	// Surface names the compatible surface, for the audit log.
	Surface string
}

// StoreToken rotates a store's token: every earlier token of the store
// (compact or not) is revoked at a cutoff, the new token is issued at that
// instant, and its jti becomes the store's current one (store.Device.JTI)
// in the same transaction, so introspection refuses the earlier tokens on
// every replica from the commit on.
//
// The caller (sp.Bearer) must be a live token of tenant ten (else an
// invalid_token fault) whose subject is a user holding sp.AdminRole, or
// whose scope holds tokend:admin (else forbidden; a device's token never
// is). An unknown store, or a device that is not a store, is not_found; a
// disabled store is a conflict. Every generation and every refusal is
// audited, naming the caller, the store and the request's address.
func (s *Minter) StoreToken(ctx context.Context, ten, storeID string, sp StoreSpec) (token.Issued, error) {
	by := Actor{Tenant: ten}
	res, err := s.storeToken(ctx, ten, storeID, sp, &by)
	if err != nil && fault.CodeOf(err) != fault.CodeUnavailable && fault.CodeOf(err) != fault.CodeInternal {
		d := map[string]string{"reason": string(fault.CodeOf(err)), "surface": sp.Surface}
		if f := fault.As(err); f != nil && f.Description != "" {
			d["description"] = f.Description
		}
		s.audit.RecordFailure(ctx, store.AuditEvent{Tenant: ten, Action: "token.mint", Actor: by.String(), Subject: storeID, Detail: d})
	}
	return res, err
}

func (s *Minter) storeToken(ctx context.Context, ten, storeID string, sp StoreSpec, by *Actor) (token.Issued, error) {
	if s.verifier == nil {
		return token.Issued{}, fault.Internal(errors.New("mint: no Verifier for store tokens"))
	}
	if sp.Bearer == "" {
		return token.Issued{}, fault.InvalidToken("no token")
	}
	id, err := s.verifier.VerifyIn(ctx, ten, sp.Bearer)
	if err != nil {
		return token.Issued{}, err
	}
	if id.Tenant != ten {
		return token.Issued{}, fault.InvalidToken("token of another tenant")
	}
	by.Subject, by.ClientID = id.Claims.SubjectType+":"+id.Claims.Subject, id.Claims.ClientID
	d, err := s.st.Devices().Get(ctx, ten, storeID)
	if err != nil || d.Type != StoreType {
		if err == nil || isNotFound(err) {
			return token.Issued{}, fault.NotFound("store %q not found", storeID)
		}
		return token.Issued{}, storeErr(err)
	}
	if err := s.isAdmin(ctx, ten, id, sp.AdminRole); err != nil {
		return token.Issued{}, err
	}
	if d.Disabled {
		return token.Issued{}, fault.Conflict("store %q is disabled", storeID)
	}
	ttl, aud, err := s.storePolicy(ctx, ten, sp)
	if err != nil {
		return token.Issued{}, err
	}
	req := issue.Request{
		Tenant: ten, Kind: claims.KindDevice, SubjectType: "device", Subject: d.ID,
		Audience: aud, Scope: []string{}, TTL: ttl, Format: store.FormatCompact,
		Action: "token.mint", AuditActor: by.String(), Surface: sp.Surface, Defer: true,
	}
	return issued(s.subjectIssue(ctx, ten, "device", d.ID, func(tx store.Store, _ int) (issue.Result, error) {
		cur, err := tx.Devices().Get(ctx, ten, d.ID)
		if err != nil {
			return issue.Result{}, notFound(err, "store", d.ID)
		}
		if cur.Disabled {
			return issue.Result{}, fault.Conflict("store %q is disabled", d.ID)
		}
		// An imported superseded jti is revoked by id first (before the
		// cutoff makes that a no-op), so that the revocation feed names it.
		ra := revoke.Actor{Name: by.String(), ClientID: by.ClientID}
		if err := s.revokeJTI(ctx, tx, ra, ten, cur.JTI); err != nil {
			return issue.Result{}, err
		}
		rev, err := s.revoker.TargetIn(ctx, tx, ra, ten, revoke.Subject("device", d.ID), "")
		if err != nil {
			return issue.Result{}, err
		}
		req := req
		req.ID = token.NewTimeID(rev.Cutoff)
		res, err := s.issuer.Issue(ctx, req)
		if err != nil {
			return issue.Result{}, err
		}
		cur.JTI, cur.UpdatedAt = res.ID, s.now().UTC()
		return res, tx.Devices().Update(ctx, cur)
	}))
}

// revokeJTI revokes by id a store's superseded compact token when the
// rotation's cutoff cannot name it: a jti imported from the legacy
// application carries no issue time (a jti tokend made is the hex of a
// time id whose time is the row's issue time, which the cutoff covers).
func (s *Minter) revokeJTI(ctx context.Context, tx store.Store, by revoke.Actor, ten, jti string) error {
	if jti == "" {
		return nil
	}
	row, err := tx.Tokens().Get(ctx, ten, jti)
	if isNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	if t, ok := token.TimeOfID(jti); ok && t.Equal(row.IssuedAt) {
		return nil
	}
	_, err = s.revoker.TokenIn(ctx, tx, by, ten, jti)
	if fault.CodeOf(err) == fault.CodeNotFound {
		return nil
	}
	return err
}

// isAdmin applies seed 000's StorePolicy#generate_token? (admin?): the
// caller's token holds tokend:admin, or its subject is an enabled user of
// the tenant with the admin role (directly or through a group).
func (s *Minter) isAdmin(ctx context.Context, ten string, id *introspect.Identity, role string) error {
	if slices.Contains(strings.Fields(id.Claims.Scope), claims.ScopeAdmin) {
		return nil
	}
	if id.Claims.SubjectType != "user" || role == "" {
		return fault.Forbidden("only an admin of the tenant may generate store tokens")
	}
	u, err := s.st.Users().Get(ctx, ten, id.Claims.Subject)
	if isNotFound(err) || (err == nil && u.Disabled) {
		return fault.Forbidden("only an admin of the tenant may generate store tokens")
	}
	if err != nil {
		return storeErr(err)
	}
	a, err := principal.Expand(ctx, s.st, ten, u.Roles, u.Groups)
	if err != nil {
		return storeErr(err)
	}
	if !slices.Contains(a.Roles, role) {
		return fault.Forbidden("only an admin of the tenant may generate store tokens")
	}
	return nil
}

// storePolicy applies the tenant's store-token rules to a request: the
// expiry defaults to the lifetime and never exceeds it; the audience is
// "api" or projects' audiences of the tenant.
func (s *Minter) storePolicy(ctx context.Context, ten string, sp StoreSpec) (time.Duration, []string, error) {
	if sp.Lifetime < 0 || sp.Lifetime > MaxStoreLifetime {
		return 0, nil, fault.Internal(errors.New("mint: store token lifetime out of range"))
	}
	ttl := sp.Lifetime
	if sp.ExpiresIn != nil {
		switch v := *sp.ExpiresIn; {
		case v <= 0:
			return 0, nil, invalidf("expires_in", "must be a positive number of seconds, got %d", v)
		case sp.Lifetime > 0 && time.Duration(v) > sp.Lifetime/time.Second:
			return 0, nil, invalidf("expires_in", "must be at most %d seconds (the tenant's store token lifetime), got %d", int64(sp.Lifetime/time.Second), v)
		case time.Duration(v) > MaxStoreLifetime/time.Second:
			return 0, nil, invalidf("expires_in", "must be at most %d seconds, got %d", int64(MaxStoreLifetime/time.Second), v)
		default:
			ttl = time.Duration(v) * time.Second
		}
	}
	aud := []string{DefaultStoreAudience}
	if sp.Audience != nil {
		if len(sp.Audience) == 0 || len(sp.Audience) > 10 {
			return 0, nil, invalidf("audience", "must list 1 to 10 audiences")
		}
		aud = nil
		for _, a := range sp.Audience {
			if a != DefaultStoreAudience {
				if _, err := s.st.Projects().GetByAudience(ctx, ten, a); err != nil {
					if isNotFound(err) {
						return 0, nil, invalidf("audience", "%q is neither \"api\" nor the audience of a project", a)
					}
					return 0, nil, storeErr(err)
				}
			}
			if !slices.Contains(aud, a) {
				aud = append(aud, a)
			}
		}
	}
	return ttl, aud, nil
}

// UserSpec asks for an admin's sign-in token as Knock issues it.
type UserSpec struct {
	// Audience of the token (the legacy application's ["backend"]).
	Audience []string
	// Surface names the compatible surface, for the audit log.
	Surface string
}

// UserToken signs a user in with a login and password (the password
// grant's checks and throttle) and issues a compact HS256 token for the
// user, expiring after the tenant's access-token lifetime (access_ttl).
// Bad credentials are the login's faults (invalid_grant).
func (s *Minter) UserToken(ctx context.Context, ten, login, password string, sp UserSpec) (token.Issued, error) {
	t, err := s.st.Tenants().Get(ctx, ten)
	if err != nil {
		return token.Issued{}, notFound(err, "tenant", ten)
	}
	userID, err := s.login.Login(ctx, ten, login, password)
	if err != nil {
		return token.Issued{}, err
	}
	if len(sp.Audience) == 0 {
		return token.Issued{}, fault.Internal(errors.New("mint: a user token needs an audience"))
	}
	pol := tenant.Effective(t.Policy)
	return issued(s.issuer.Issue(ctx, issue.Request{
		Tenant: ten, Kind: claims.KindAccess, SubjectType: "user", Subject: userID,
		Audience: sp.Audience, Scope: []string{}, TTL: time.Duration(pol.AccessTTL) * time.Second,
		Format: store.FormatCompact, Action: "user.login", Surface: sp.Surface,
	}))
}

// ImportStoreJTI makes jti, a token id the legacy application handed out,
// the current jti of a store, and records the legacy token in the ledger
// (id jti, audience "api", no expiry of its own: its exp is in the token),
// so that the token keeps verifying, is listed and can be revoked. Earlier
// compact tokens of the store stop verifying; tokend's other tokens of
// the store are not touched. A jti must be 1 to 64 letters, digits, '-'
// or '_'; one already in the ledger is a conflict.
func (s *Minter) ImportStoreJTI(ctx context.Context, by Actor, ten, storeID, jti string) error {
	if jti == "" || len(jti) > 64 || strings.IndexFunc(jti, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_')
	}) >= 0 {
		return invalidf("jti", "must be 1 to 64 letters, digits, '-' or '_'")
	}
	_, err := s.subjectIssue(ctx, ten, "device", storeID, func(tx store.Store, _ int) (issue.Result, error) {
		d, err := tx.Devices().Get(ctx, ten, storeID)
		if err != nil || d.Type != StoreType {
			if err == nil || isNotFound(err) {
				return issue.Result{}, fault.NotFound("store %q not found", storeID)
			}
			return issue.Result{}, err
		}
		if _, err := tx.Tokens().Get(ctx, ten, jti); err == nil {
			return issue.Result{}, fault.Conflict("token %q is already in the ledger", jti)
		} else if !isNotFound(err) {
			return issue.Result{}, err
		}
		if err := s.revokeJTI(ctx, tx, revoke.Actor{Name: by.String(), ClientID: by.ClientID}, ten, d.JTI); err != nil {
			return issue.Result{}, err
		}
		now := s.now().UTC().Truncate(time.Microsecond)
		d.JTI, d.UpdatedAt = jti, now
		if err := tx.Devices().Update(ctx, d); err != nil {
			return issue.Result{}, err
		}
		row := store.Token{
			Tenant: ten, ID: jti, Kind: claims.KindDevice, Format: store.FormatCompact,
			SubjectType: "device", Subject: d.ID, Audience: []string{DefaultStoreAudience},
			Scope: []string{}, Origins: []string{}, Channels: []string{}, IssuedAt: now,
		}
		ev := s.audit.Prepare(ctx, store.AuditEvent{Tenant: ten, Action: "token.import", Actor: by.String(), Subject: d.ID,
			Detail: map[string]string{"jti": jti, "kind": claims.KindDevice, "format": store.FormatCompact}})
		return issue.Result{ID: jti, IssuedAt: now, Row: row, Event: ev}, nil
	})
	return err
}

// StoreTokenInfo describes one active token of a store.
type StoreTokenInfo struct {
	ID        string
	Format    string
	Audience  []string
	IssuedAt  time.Time
	ExpiresAt *time.Time
	// Current is true for the compact token whose jti is the store's.
	Current bool
}

// maxStoreTokens bounds a listing of one store's tokens.
const maxStoreTokens = 1000

// StoreTokens lists a store's active tokens (compact or not) for an admin
// of the tenant (the caller checks of StoreToken, audited the same way on
// refusal): a compact token counts only while its jti is the store's
// current one, any token only while neither revoked nor expired.
func (s *Minter) StoreTokens(ctx context.Context, ten, storeID string, sp StoreSpec) ([]StoreTokenInfo, error) {
	by := Actor{Tenant: ten}
	out, err := s.storeTokens(ctx, ten, storeID, sp, &by)
	if err != nil && fault.CodeOf(err) != fault.CodeUnavailable && fault.CodeOf(err) != fault.CodeInternal {
		s.audit.RecordFailure(ctx, store.AuditEvent{Tenant: ten, Action: "token.list", Actor: by.String(), Subject: storeID,
			Detail: map[string]string{"reason": string(fault.CodeOf(err)), "surface": sp.Surface}})
	}
	return out, err
}

func (s *Minter) storeTokens(ctx context.Context, ten, storeID string, sp StoreSpec, by *Actor) ([]StoreTokenInfo, error) {
	if sp.Bearer == "" {
		return nil, fault.InvalidToken("no token")
	}
	id, err := s.verifier.VerifyIn(ctx, ten, sp.Bearer)
	if err != nil {
		return nil, err
	}
	if id.Tenant != ten {
		return nil, fault.InvalidToken("token of another tenant")
	}
	by.Subject, by.ClientID = id.Claims.SubjectType+":"+id.Claims.Subject, id.Claims.ClientID
	d, err := s.st.Devices().Get(ctx, ten, storeID)
	if err != nil || d.Type != StoreType {
		if err == nil || isNotFound(err) {
			return nil, fault.NotFound("store %q not found", storeID)
		}
		return nil, storeErr(err)
	}
	if err := s.isAdmin(ctx, ten, id, sp.AdminRole); err != nil {
		return nil, err
	}
	now := s.now()
	rows, err := s.st.Tokens().List(ctx, ten, store.TokenFilter{SubjectType: "device", Subject: d.ID, ActiveAt: &now,
		Page: store.Page{Limit: maxStoreTokens}})
	if err != nil {
		return nil, storeErr(err)
	}
	out := []StoreTokenInfo{}
	for _, r := range rows {
		if r.Format == store.FormatCompact && r.ID != d.JTI {
			continue
		}
		if s.revoker.RowReason(r) != "" {
			continue
		}
		out = append(out, StoreTokenInfo{ID: r.ID, Format: r.Format, Audience: r.Audience, IssuedAt: r.IssuedAt,
			ExpiresAt: r.ExpiresAt, Current: r.Format == store.FormatCompact && r.ID == d.JTI})
	}
	return out, nil
}
