// Package sealed is the secrets backend of what tokend keeps itself: the
// secrets sealed under its master key (AES-256-GCM, see internal/keys) on
// a device, user or client record — the signing secret of signed token
// requests and seed 004's legacy credential.
//
// A sealed Ref has no mount and no version; its Path is KIND/ID (a
// template such as client/{client} is usual) and its Field is
// signing_secret or legacy_secret.
package sealed

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/tokend/tokend/internal/secrets"
	"github.com/tokend/tokend/internal/store"
)

// Fields of a sealed Ref.
const (
	FieldSigning = "signing_secret"
	FieldLegacy  = "legacy_secret"
)

// Label is the name a sealed secret is bound to (the additional data of
// its seal): the field and the principal, so that sealed material copied
// to another field or principal does not open.
func Label(field, kind, id string) string {
	if field == FieldLegacy {
		return "legacy:" + kind + ":" + id
	}
	return kind + ":" + id
}

// Opener opens what the master key sealed (keys.Manager.OpenSecret).
type Opener interface {
	OpenSecret(tenant, name string, sealed []byte) ([]byte, error)
}

// Resolver reads sealed secrets from the store.
type Resolver struct {
	st   store.Store
	keys Opener
}

var _ secrets.Resolver = (*Resolver)(nil)

// New returns a Resolver over st, opening with keys.
func New(st store.Store, keys Opener) (*Resolver, error) {
	if st == nil || keys == nil {
		return nil, errors.New("sealed: Store and Opener are required")
	}
	return &Resolver{st: st, keys: keys}, nil
}

// Resolve implements secrets.Resolver.
func (r *Resolver) Resolve(ctx context.Context, tenant string, ref secrets.Ref) (secrets.Secret, error) {
	if ref.Backend != secrets.BackendSealed {
		return secrets.Secret{}, fmt.Errorf("sealed: %w: backend %q", secrets.ErrNotFound, ref.Backend)
	}
	path, err := ref.Expanded(tenant)
	if err != nil {
		return secrets.Secret{}, fmt.Errorf("sealed: %w: %v", secrets.ErrNotFound, err)
	}
	if ref.Version != 0 {
		return secrets.Secret{}, fmt.Errorf("sealed: %w: sealed secrets have no versions", secrets.ErrNotFound)
	}
	kind, id, ok := strings.Cut(path, "/")
	if !ok || strings.Contains(id, "/") {
		return secrets.Secret{}, fmt.Errorf("sealed: %w: path %q is not KIND/ID", secrets.ErrNotFound, path)
	}
	if ref.Field != FieldSigning && ref.Field != FieldLegacy {
		return secrets.Secret{}, fmt.Errorf("sealed: %w: field %q is not %s or %s", secrets.ErrNotFound, ref.Field, FieldSigning, FieldLegacy)
	}
	var signing, legacy []byte
	switch kind {
	case "client":
		c, err := r.st.Clients().Get(ctx, tenant, id)
		if err != nil {
			return secrets.Secret{}, wrap(err, path)
		}
		signing, legacy = c.SigningSecret, c.LegacySecret
	case "user":
		u, err := r.st.Users().Get(ctx, tenant, id)
		if err != nil {
			return secrets.Secret{}, wrap(err, path)
		}
		signing, legacy = u.SigningSecret, u.LegacySecret
	case "device":
		d, err := r.st.Devices().Get(ctx, tenant, id)
		if err != nil {
			return secrets.Secret{}, wrap(err, path)
		}
		signing, legacy = d.SigningSecret, d.LegacySecret
	default:
		return secrets.Secret{}, fmt.Errorf("sealed: %w: kind %q is not client, user or device", secrets.ErrNotFound, kind)
	}
	sealed := signing
	if ref.Field == FieldLegacy {
		sealed = legacy
	}
	if len(sealed) == 0 {
		return secrets.Secret{}, fmt.Errorf("sealed: %w: %s has no %s", secrets.ErrNotFound, path, ref.Field)
	}
	plain, err := r.keys.OpenSecret(tenant, Label(ref.Field, kind, id), sealed)
	if err != nil {
		// Sealed under another master key, or corrupt: tokend cannot
		// read it now, which is no fault of the caller's.
		return secrets.Secret{}, fmt.Errorf("sealed: %w: %s %s does not open: %v", secrets.ErrUnavailable, path, ref.Field, err)
	}
	return secrets.NewSecret(plain, 0), nil
}

func wrap(err error, path string) error {
	switch {
	case errors.Is(err, store.ErrNotFound):
		return fmt.Errorf("sealed: %w: no %s", secrets.ErrNotFound, path)
	case errors.Is(err, store.ErrUnavailable), errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		return fmt.Errorf("sealed: %w: reading %s: %w", secrets.ErrUnavailable, path, err)
	}
	return fmt.Errorf("sealed: %w: reading %s: %w", secrets.ErrUnavailable, path, err)
}
