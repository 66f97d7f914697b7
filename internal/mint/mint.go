// Package mint holds every direct mint that is not an OAuth grant: device
// and user tokens (also on an owner's behalf), storefront, private and
// impersonation tokens, an admin's client token, customer login and
// logout, and renewal. Each checks
// the caller's right, the subject and the tenant's policy, and ends in
// issue. Mints and renewals of one subject are serialised (see
// subjectIssue). It returns token.Issued, never a ledger row.
package mint

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/tokend/tokend/internal/audit"
	"github.com/tokend/tokend/internal/fault"
	"github.com/tokend/tokend/internal/issue"
	"github.com/tokend/tokend/internal/principal"
	"github.com/tokend/tokend/internal/revoke"
	"github.com/tokend/tokend/internal/store"
)

// Revoker revokes the tokens a mint replaces, in the mint's transaction.
type Revoker interface {
	TargetIn(ctx context.Context, st store.Store, by revoke.Actor, tenant string, target revoke.Target, action string) (store.Revocation, error)
	Replaced(ctx context.Context, st store.Store, by revoke.Actor, tenant, id string, grace time.Duration) error
	BeforeIn(ctx context.Context, st store.Store, by revoke.Actor, tenantID, scope, key, action string) (store.Revocation, error)
	// TokenIn revokes one token by id in the caller's transaction.
	TokenIn(ctx context.Context, st store.Store, by revoke.Actor, tenantID, id string) (store.Token, error)
	// RowReason says why a ledger row is revoked, "" when it is not.
	RowReason(t store.Token) string
}

// Options configure a Minter; all but Now are required.
type Options struct {
	Store   store.Store
	Audit   *audit.Recorder
	Issuer  *issue.Issuer
	Revoker Revoker
	Login   Login
	// Verifier checks the caller's token of a store-token mint.
	Verifier Verifier
	// Clients authenticates the clients of tenant tokens (seed 002);
	// nil refuses them.
	Clients ClientCheck
	// Directory reads the projects, users, roles and groups of tenant
	// tokens (authn.Directory, the token paths' cache, is one); nil reads
	// them from Store.
	Directory Directory
	// Known reads the tenants and clients whose existence a tenant token
	// request is answered by (authn.Authenticator, whose cache the token
	// endpoint reads them from, is one); nil reads them from Store.
	Known Known
	Now   func() time.Time
}

// Known reads tenants and clients, without authenticating anything.
type Known interface {
	Tenant(ctx context.Context, id string) (store.Tenant, error)
	KnownClient(ctx context.Context, tenant, id string) (store.Client, error)
}

// storeKnown is Known read from the store, uncached.
type storeKnown struct{ st store.Store }

func (k storeKnown) Tenant(ctx context.Context, id string) (store.Tenant, error) {
	return k.st.Tenants().Get(ctx, id)
}

func (k storeKnown) KnownClient(ctx context.Context, tenant, id string) (store.Client, error) {
	return k.st.Clients().Get(ctx, tenant, id)
}

// Directory reads the tenant data a tenant token is made from.
type Directory interface {
	principal.Reader
	Project(ctx context.Context, tenant, id string) (store.Project, error)
	UserByLogin(ctx context.Context, tenant, login string) (store.User, error)
}

// storeDirectory is Directory read from the store, uncached.
type storeDirectory struct {
	principal.Reader
	st store.Store
}

func (d storeDirectory) Project(ctx context.Context, tenant, id string) (store.Project, error) {
	return d.st.Projects().Get(ctx, tenant, id)
}

func (d storeDirectory) UserByLogin(ctx context.Context, tenant, login string) (store.User, error) {
	return d.st.Users().GetByLogin(ctx, tenant, login)
}

// Minter is the mint core.
type Minter struct {
	st       store.Store
	audit    *audit.Recorder
	issuer   *issue.Issuer
	revoker  Revoker
	login    Login
	verifier Verifier
	clients  ClientCheck
	dir      Directory
	known    Known
	now      func() time.Time
	// subjects queues this replica's read-decide-writes per subject (see
	// subjectIssue).
	subjects subjectLocks
}

// New returns a Minter.
func New(o Options) (*Minter, error) {
	if o.Store == nil || o.Audit == nil || o.Issuer == nil || o.Revoker == nil || o.Login == nil || o.Verifier == nil {
		return nil, errors.New("mint: Store, Audit, Issuer, Revoker, Login and Verifier are required")
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Directory == nil {
		o.Directory = storeDirectory{principal.StoreReader(o.Store), o.Store}
	}
	if o.Known == nil {
		o.Known = storeKnown{o.Store}
	}
	return &Minter{st: o.Store, audit: o.Audit, issuer: o.Issuer, revoker: o.Revoker, login: o.Login, verifier: o.Verifier, clients: o.Clients,
		dir: o.Directory, known: o.Known, now: o.Now}, nil
}

// FormatHex asks for seed 004's token form: 32 upper-case hex characters
// (store.FormatHex).
const FormatHex = store.FormatHex

// Actor is who asks for a token, as the audit log names them.
type Actor = principal.Actor

// storeErr maps storage errors to faults, keeping faults as they are.
func storeErr(err error) error { return store.Fault(err) }

// notFound turns ErrNotFound into a fault naming what was missing.
func notFound(err error, what, id string) error {
	if errors.Is(err, store.ErrNotFound) {
		return fault.NotFound("%s %q not found", what, id).WithCause(err)
	}
	return storeErr(err)
}

func invalidf(field, format string, args ...any) error {
	return fault.Invalid(field, "%s: %s", field, fmt.Sprintf(format, args...))
}

func isNotFound(err error) bool { return errors.Is(err, store.ErrNotFound) }

// fields splits a space-separated list, sorted and without duplicates.
func fields(s string) []string {
	return slices.Compact(slices.Sorted(slices.Values(strings.Fields(s))))
}
