// Package directory owns the rules for a tenant's data: tenants, projects,
// clients, users, devices, roles and groups. It validates every input
// before any write, hashes secrets and passwords, and records each change
// as an audit event in the same transaction as the change.
package directory

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/tokend/tokend/internal/audit"
	"github.com/tokend/tokend/internal/fault"
	"github.com/tokend/tokend/internal/principal"
	"github.com/tokend/tokend/internal/revoke"
	"github.com/tokend/tokend/internal/store"
)

// KeyAdmin manages a tenant's signing keys.
type KeyAdmin interface {
	Ensure(ctx context.Context, tenant, alg string) error
	Rotate(ctx context.Context, tenant, alg string, publishFor, stage time.Duration) (store.Key, error)
	Keys(ctx context.Context, tenant string) ([]store.Key, error)
	Invalidate(tenant string)
	SealSecret(tenant, name string, plain []byte) ([]byte, error)
	OpenSecret(tenant, name string, sealed []byte) ([]byte, error)
	ImportLegacy(ctx context.Context, tenant string, secret []byte) error
	ImportNamed(ctx context.Context, tenant, name string, secret []byte) error
}

// Revoker revokes tokens durably.
type Revoker interface {
	Token(ctx context.Context, by revoke.Actor, tenant, id string) (store.Token, error)
	Before(ctx context.Context, by revoke.Actor, tenant string, target revoke.Target) (store.Revocation, error)
}

// Options configure a Service; all but Now and Log are required.
type Options struct {
	Store   store.Store
	Keys    KeyAdmin
	Audit   *audit.Recorder
	Revoker Revoker
	Log     *slog.Logger
	Now     func() time.Time
	// GrantTypes lists the grant types the token endpoint serves, the only
	// ones a client may be allowed (the grant engine's).
	GrantTypes func() []string
	// Changed, when set, is told of each surface, trusted-issuer, tenant,
	// project, client, user, role and group record this replica changed,
	// once committed, so that its caches need not wait for the change log.
	Changed func(store.Change)
	// RotationStage is how long a staged key rotation publishes the new
	// key before it signs (default DefaultRotationStage).
	RotationStage time.Duration
	// Checkpoints checks the signed checkpoints audit retention leaves.
	Checkpoints audit.Checkpoints
}

// DefaultRotationStage covers the JWKS's five minutes of HTTP caching and
// the five minutes a replica may keep its loaded keys without a change
// notice.
const DefaultRotationStage = 10 * time.Minute

// Service is the directory core.
type Service struct {
	st      store.Store
	revoker Revoker
	keys    KeyAdmin
	audit   *audit.Recorder
	log     *slog.Logger
	now     func() time.Time
	// grantTypes is Options.GrantTypes.
	grantTypes  func() []string
	changed     func(store.Change)
	stage       time.Duration
	checkpoints audit.Checkpoints
}

// New returns a Service.
func New(o Options) (*Service, error) {
	if o.Store == nil || o.Keys == nil || o.Audit == nil || o.Revoker == nil || o.GrantTypes == nil {
		return nil, errors.New("directory: Store, Keys, Audit, Revoker and GrantTypes are required")
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.Changed == nil {
		o.Changed = func(store.Change) {}
	}
	if o.RotationStage <= 0 {
		o.RotationStage = DefaultRotationStage
	}
	return &Service{st: o.Store, revoker: o.Revoker, keys: o.Keys, audit: o.Audit, log: o.Log, now: o.Now,
		grantTypes: o.GrantTypes, changed: o.Changed, stage: o.RotationStage, checkpoints: o.Checkpoints}, nil
}

// Actor is who asks for a change, as the audit log names them.
type Actor = principal.Actor

func (s *Service) stamp() time.Time { return s.now().UTC().Truncate(time.Microsecond) }

// change runs fn in one transaction with the audit event of the change;
// once committed, a change of a record the token paths cache (the
// action's entity: tenant, project, client, user, role, group) is told
// to Options.Changed.
func (s *Service) change(ctx context.Context, by Actor, tenant, action, subject string, detail map[string]string, fn func(st store.Store) error) error {
	err := storeErr(s.st.Tx(ctx, func(st store.Store) error {
		if err := fn(st); err != nil {
			return err
		}
		return s.audit.Record(ctx, st, store.AuditEvent{
			Tenant: tenant, Action: action, Actor: by.String(), Subject: subject, ClientID: by.ClientID, Detail: detail,
		})
	}))
	if err == nil {
		entity, _, _ := strings.Cut(action, ".")
		switch entity {
		case store.EntityTenant, store.EntityProject, store.EntityClient, store.EntityUser, store.EntityRole, store.EntityGroup:
			s.changed(store.Change{Tenant: tenant, Entity: entity, Key: subject})
		}
	}
	return err
}

// storeErr maps storage errors to faults, keeping faults as they are.
func storeErr(err error) error { return store.Fault(err) }

// notFound turns ErrNotFound into a fault naming what was missing.
func notFound(err error, what, id string) error {
	if errors.Is(err, store.ErrNotFound) {
		return fault.NotFound("%s %q not found", what, id).WithCause(err)
	}
	return storeErr(err)
}

// conflict turns ErrConflict into a fault naming the duplicate.
func conflict(err error, format string, args ...any) error {
	if errors.Is(err, store.ErrConflict) {
		return fault.Conflict(format, args...).WithCause(err)
	}
	return storeErr(err)
}

// tenantExists reports not_found for an unknown tenant.
func (s *Service) tenantExists(ctx context.Context, id string) error {
	if _, err := s.st.Tenants().Get(ctx, id); err != nil {
		return notFound(err, "tenant", id)
	}
	return nil
}

func invalidf(field, format string, args ...any) error {
	return fault.Invalid(field, "%s: %s", field, fmt.Sprintf(format, args...))
}

func isNotFound(err error) bool { return errors.Is(err, store.ErrNotFound) }
