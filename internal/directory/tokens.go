package directory

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tokend/tokend/internal/audit"
	"github.com/tokend/tokend/internal/fault"
	"github.com/tokend/tokend/internal/revoke"
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

// RotateKey gives a tenant a new signing key of alg (the policy's
// algorithm when empty). A staged rotation (now false) publishes the new
// key at once and signs with it only after the rotation stage, when the
// current key retires, so that no verifier with a cached JWKS meets a key
// it does not know; now rotates at once, for a key that may be
// compromised. A retired key stays published for as long as tokens it
// signed can live.
func (s *Service) RotateKey(ctx context.Context, by Actor, ten, alg string, now bool) (store.Key, error) {
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
	stage, action := s.stage, "key.rotate"
	if now {
		stage, action = 0, "key.rotate_now"
	}
	k, err := s.keys.Rotate(ctx, ten, alg, publishFor(pol), stage)
	if err != nil {
		return store.Key{}, storeErr(err)
	}
	detail := map[string]string{"alg": k.Alg}
	if k.ActivateAt != nil {
		detail["activate_at"] = k.ActivateAt.UTC().Format(time.RFC3339)
	}
	_ = s.audit.Record(ctx, nil, store.AuditEvent{Tenant: ten, Action: action, Actor: by.String(), Subject: k.ID, ClientID: by.ClientID, Detail: detail})
	return k, nil
}

// RotateScheduled stages a key rotation for each tenant whose policy sets
// key_rotation_period and whose signing key has signed, as of now, for
// that period less the rotation stage, so that the new key signs when the
// period ends. A tenant with a rotation pending is left alone. It returns
// the tenants it rotated; a failure for one tenant is logged and the
// others go on.
func (s *Service) RotateScheduled(ctx context.Context, now time.Time) ([]string, error) {
	var rotated []string
	pg := store.Page{Limit: 500}
	for {
		l, err := s.st.Tenants().List(ctx, pg)
		if err != nil {
			return rotated, storeErr(err)
		}
		for _, t := range l {
			period := time.Duration(t.Policy.KeyRotationPeriod) * time.Second
			if period <= 0 {
				continue
			}
			ks, err := s.keys.Keys(ctx, t.ID)
			if err != nil {
				return rotated, storeErr(err)
			}
			if !rotationDue(ks, period, s.stage, now) {
				continue
			}
			if _, err := s.RotateKey(ctx, Actor{}, t.ID, "", false); err != nil {
				if fault.CodeOf(err) != fault.CodeConflict {
					s.log.ErrorContext(ctx, "scheduled key rotation failed", "tenant", t.ID, "error", err)
				}
				continue
			}
			rotated = append(rotated, t.ID)
		}
		if len(l) < pg.Limit {
			return rotated, nil
		}
		pg.After = l[len(l)-1].ID
	}
}

// rotationDue reports whether a tenant with keys l should stage a
// rotation at now under a rotation period: no rotation is pending, and
// the signing key has signed since at least period-stage ago.
func rotationDue(l []store.Key, period, stage time.Duration, now time.Time) bool {
	var since time.Time
	for _, k := range l { // newest first
		switch {
		case k.State == store.KeyNext:
			return false
		case k.State == store.KeyActive && since.IsZero():
			since = k.CreatedAt
			if k.ActivateAt != nil {
				since = *k.ActivateAt
			}
		}
	}
	return !since.IsZero() && !now.Before(since.Add(period-stage))
}

// publishFor is how long a retired key of a tenant under pol stays
// published: as long as a token it signed can live, plus a minute; 0
// (until deleted by hand) for tenants with eternal tokens.
func publishFor(pol store.Policy) time.Duration {
	if pol.AllowEternal {
		return 0
	}
	return time.Duration(max(pol.MaxAccessTTL, pol.MaxLifetime))*time.Second + time.Minute
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

// ImportNamedKey makes secret the tenant's HMAC secret named name, which
// signs and verifies its HS256 tokens whose header kid is name (seed
// 002's per-token-type secrets: "default" from JWT_DEF_SECRET,
// "sdk-agent" from JWT_SDK_SECRET); tokens signed with an earlier secret
// of that name stop verifying. Shorter than 32 bytes is refused (field
// "secret").
func (s *Service) ImportNamedKey(ctx context.Context, by Actor, ten, name string, secret []byte) error {
	if err := s.tenantExists(ctx, ten); err != nil {
		return err
	}
	if err := s.keys.ImportNamed(ctx, ten, name, secret); err != nil {
		return err
	}
	_ = s.audit.Record(ctx, nil, store.AuditEvent{Tenant: ten, Action: "key.import_named", Actor: by.String(), ClientID: by.ClientID,
		Detail: map[string]string{"alg": "HS256", "name": name, "bytes": strconv.Itoa(len(secret))}})
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
