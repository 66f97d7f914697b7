package directory

import (
	"context"
	"github.com/tokend/tokend/internal/revoke"
	"slices"
	"strings"
	"time"

	"github.com/tokend/tokend/claims"
	"github.com/tokend/tokend/internal/audit"
	"github.com/tokend/tokend/internal/issue"
	"github.com/tokend/tokend/internal/store"
	"github.com/tokend/tokend/internal/tenant"
	"github.com/tokend/tokend/internal/token"
)

// MintSpec asks for an access token for a client, minted by an admin.
type MintSpec struct {
	ClientID  string `json:"client_id"`
	Scope     string `json:"scope"`
	Audience  string `json:"audience"`
	ExpiresIn *int64 `json:"expires_in"`
	Format    string `json:"format"`
}

// MintClientToken issues an access token whose subject is a client, within
// the client's allowed scopes and audiences and the policy's bounds.
func (s *Service) MintClientToken(ctx context.Context, by Actor, ten string, sp MintSpec) (token.Issued, error) {
	if sp.ClientID == "" {
		return token.Issued{}, invalidf("client_id", "is required")
	}
	t, err := s.st.Tenants().Get(ctx, ten)
	if err != nil {
		return token.Issued{}, notFound(err, "tenant", ten)
	}
	c, err := s.st.Clients().Get(ctx, ten, sp.ClientID)
	if err != nil {
		if isNotFound(err) {
			return token.Issued{}, invalidf("client_id", "unknown client %q", sp.ClientID)
		}
		return token.Issued{}, storeErr(err)
	}
	if c.Disabled {
		return token.Issued{}, invalidf("client_id", "client %q is disabled", c.ID)
	}
	pol := tenant.Effective(t.Policy, c.Policy)
	scope := c.Scopes
	if sp.Scope != "" {
		scope = clean(strings.Fields(sp.Scope))
		for _, sc := range scope {
			if !slices.Contains(c.Scopes, sc) {
				return token.Issued{}, invalidf("scope", "scope %q is not allowed for client %q", sc, c.ID)
			}
		}
	}
	aud := c.Audiences
	if sp.Audience != "" {
		if !slices.Contains(c.Audiences, sp.Audience) {
			if _, err := s.st.Projects().GetByAudience(ctx, ten, sp.Audience); err != nil {
				if isNotFound(err) {
					return token.Issued{}, invalidf("audience", "%q is neither an audience of the client nor of a project", sp.Audience)
				}
				return token.Issued{}, storeErr(err)
			}
		}
		aud = []string{sp.Audience}
	}
	if len(aud) == 0 {
		aud = s.issuer.DefaultAudience(ten, pol) // RFC 9068 §2.2
	}
	ttl := pol.AccessTTL
	if sp.ExpiresIn != nil {
		switch e := *sp.ExpiresIn; {
		case e <= 0:
			return token.Issued{}, invalidf("expires_in", "must be a positive number of seconds")
		case e > pol.MaxAccessTTL:
			return token.Issued{}, invalidf("expires_in", "must be at most %d seconds (max_access_ttl)", pol.MaxAccessTTL)
		default:
			ttl = e
		}
	}
	format := pol.Format
	if sp.Format != "" {
		if sp.Format != store.FormatJWT && sp.Format != store.FormatOpaque {
			return token.Issued{}, invalidf("format", "must be jwt or opaque")
		}
		format = sp.Format
	}
	return issued(s.issuer.Issue(ctx, issue.Request{
		Tenant: ten, Kind: claims.KindAccess, SubjectType: "client", Subject: c.ID, ClientID: c.ID,
		Scope: scope, Audience: aud, TTL: time.Duration(ttl) * time.Second, Format: format,
		Action: "token.mint", AuditActor: by.String(),
	}))
}

// TokenFilter narrows a ledger listing.
type TokenFilter = store.TokenFilter

// Tokens lists a tenant's ledger.
func (s *Service) Tokens(ctx context.Context, tenant string, f TokenFilter) ([]store.Token, error) {
	if err := s.tenantExists(ctx, tenant); err != nil {
		return nil, err
	}
	l, err := s.st.Tokens().List(ctx, tenant, f)
	return l, storeErr(err)
}

// Token returns one ledger row.
func (s *Service) Token(ctx context.Context, tenant, id string) (store.Token, error) {
	t, err := s.st.Tokens().Get(ctx, tenant, id)
	return t, notFound(err, "token", id)
}

// RevokeToken revokes one token by id. Revoking a revoked token is a
// no-op; the stored revocation is durable before this returns.
func (s *Service) RevokeToken(ctx context.Context, by Actor, tenant, id string) (store.Token, error) {
	if err := s.tenantExists(ctx, tenant); err != nil {
		return store.Token{}, err
	}
	return s.revoker.Token(ctx, revoke.Actor{Name: by.String(), ClientID: by.ClientID}, tenant, id)
}

// RevokeBefore revokes every token of the tenant matching target (a
// subject of one type, a session, client, family or the tenant) issued
// before now.
func (s *Service) RevokeBefore(ctx context.Context, by Actor, tenant string, target revoke.Target) (store.Revocation, error) {
	if err := s.tenantExists(ctx, tenant); err != nil {
		return store.Revocation{}, err
	}
	return s.revoker.Before(ctx, revoke.Actor{Name: by.String(), ClientID: by.ClientID}, tenant, target)
}

// Keys lists a tenant's signing keys (metadata only).
func (s *Service) Keys(ctx context.Context, tenant string) ([]store.Key, error) {
	if err := s.tenantExists(ctx, tenant); err != nil {
		return nil, err
	}
	l, err := s.keys.Keys(ctx, tenant)
	return l, storeErr(err)
}

// RotateKey retires a tenant's active key and makes a new one of alg (the
// policy's algorithm when empty). The retired key stays published for as
// long as tokens it signed can live.
func (s *Service) RotateKey(ctx context.Context, by Actor, ten, alg string) (store.Key, error) {
	t, err := s.st.Tenants().Get(ctx, ten)
	if err != nil {
		return store.Key{}, notFound(err, "tenant", ten)
	}
	pol := tenant.Effective(t.Policy)
	if alg == "" {
		alg = pol.SigningAlg
	}
	if !slices.Contains(tenant.Algs, alg) {
		return store.Key{}, invalidf("alg", "must be one of %s", strings.Join(tenant.Algs, ", "))
	}
	publishFor := time.Duration(max(pol.MaxAccessTTL, pol.MaxLifetime))*time.Second + time.Minute
	if pol.AllowEternal {
		publishFor = 0 // eternal tokens: keep the key published
	}
	k, err := s.keys.Rotate(ctx, ten, alg, publishFor)
	if err != nil {
		return store.Key{}, storeErr(err)
	}
	_ = s.audit.Record(ctx, nil, store.AuditEvent{Tenant: ten, Action: "key.rotate", Actor: by.String(), Subject: k.ID, ClientID: by.ClientID, Detail: map[string]string{"alg": k.Alg}})
	return k, nil
}

// Audit lists a tenant's audit events.
func (s *Service) Audit(ctx context.Context, tenant string, f store.AuditFilter) ([]store.AuditEvent, error) {
	if err := s.tenantExists(ctx, tenant); err != nil {
		return nil, err
	}
	l, err := s.st.Audit().List(ctx, tenant, f)
	return l, storeErr(err)
}

// VerifyAudit checks a tenant's audit chain.
func (s *Service) VerifyAudit(ctx context.Context, tenant string) (audit.Result, error) {
	if err := s.tenantExists(ctx, tenant); err != nil {
		return audit.Result{}, err
	}
	r, err := audit.Verify(ctx, s.st, tenant)
	return r, storeErr(err)
}
