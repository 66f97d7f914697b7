package directory

import (
	"context"
	"github.com/tokend/tokend/internal/revoke"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tokend/tokend/internal/audit"
	"github.com/tokend/tokend/internal/store"
	"github.com/tokend/tokend/internal/tenant"
)

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

// ImportLegacyKey makes secret the tenant's legacy HMAC secret, which
// signs and verifies its compact HS256 tokens (a Rails application's
// secret_key_base, for Knock tokens); tokens signed with an earlier one
// stop verifying. Shorter than 32 bytes is refused (field "secret").
func (s *Service) ImportLegacyKey(ctx context.Context, by Actor, ten string, secret []byte) error {
	if err := s.tenantExists(ctx, ten); err != nil {
		return err
	}
	if err := s.keys.ImportLegacy(ctx, ten, secret); err != nil {
		return err
	}
	_ = s.audit.Record(ctx, nil, store.AuditEvent{Tenant: ten, Action: "key.import_legacy", Actor: by.String(), ClientID: by.ClientID,
		Detail: map[string]string{"alg": "HS256", "bytes": strconv.Itoa(len(secret))}})
	return nil
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
	r, err := audit.Verify(ctx, s.st, tenant, s.checkpoints)
	return r, storeErr(err)
}
