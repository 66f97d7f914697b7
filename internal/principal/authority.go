package principal

import (
	"context"
	"errors"
	"slices"

	"github.com/tokend/tokend/internal/store"
)

// Authority is what a subject may be granted, expanded from its roles and
// groups at issue time: the roles (its own and its groups'), its groups,
// and the union of those roles' scopes and resources. Every list is sorted
// and free of duplicates.
type Authority struct {
	Roles     []string
	Groups    []string
	Scopes    []string
	Resources []string
}

// Reader reads the roles and groups an Authority is expanded from; a
// store.Store behind StoreReader is one, and so is the token paths'
// cache (authn.Directory). Records it returns are not modified.
type Reader interface {
	Role(ctx context.Context, tenant, name string) (store.Role, error)
	Group(ctx context.Context, tenant, name string) (store.Group, error)
}

// StoreReader reads roles and groups from st itself, uncached.
func StoreReader(st store.Store) Reader { return storeReader{st} }

type storeReader struct{ st store.Store }

func (r storeReader) Role(ctx context.Context, tenant, name string) (store.Role, error) {
	return r.st.Roles().Get(ctx, tenant, name)
}

func (r storeReader) Group(ctx context.Context, tenant, name string) (store.Group, error) {
	return r.st.Groups().Get(ctx, tenant, name)
}

// Expand is ExpandFrom with the roles and groups read from st.
func Expand(ctx context.Context, st store.Store, tenant string, roles, groups []string) (Authority, error) {
	return ExpandFrom(ctx, storeReader{st}, tenant, roles, groups)
}

// ExpandFrom is the one expansion of roles and groups into an Authority:
// a group contributes its roles; roles or groups deleted since they were
// assigned are skipped. Storage errors are returned as they are.
func ExpandFrom(ctx context.Context, rd Reader, tenant string, roles, groups []string) (Authority, error) {
	all := slices.Clone(roles)
	for _, g := range groups {
		grp, err := rd.Group(ctx, tenant, g)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return Authority{}, err
		}
		all = append(all, grp.Roles...)
	}
	var a Authority
	for _, name := range sorted(all) {
		r, err := rd.Role(ctx, tenant, name)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return Authority{}, err
		}
		a.Roles = append(a.Roles, r.Name)
		a.Scopes = append(a.Scopes, r.Scopes...)
		a.Resources = append(a.Resources, r.Resources...)
	}
	a.Scopes, a.Resources = sorted(a.Scopes), sorted(a.Resources)
	a.Groups = sorted(groups)
	return a, nil
}

func sorted(l []string) []string {
	out := slices.Clone(l)
	slices.Sort(out)
	return slices.Compact(out)
}
