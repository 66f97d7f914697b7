package grant

import (
	"context"
	"errors"
	"slices"
	"sort"

	"github.com/tokend/tokend/internal/store"
)

// Authority is what a subject may be granted: computed from its roles and
// groups at issue time.
type Authority struct {
	Roles     []string
	Groups    []string
	Scopes    []string
	Resources []string
}

// userAuthority expands a user's roles and groups (a group contributes its
// roles). Roles or groups deleted since they were assigned are skipped.
func userAuthority(ctx context.Context, st store.Store, tenant string, u store.User) (Authority, error) {
	roles := slices.Clone(u.Roles)
	for _, g := range u.Groups {
		grp, err := st.Groups().Get(ctx, tenant, g)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return Authority{}, err
		}
		roles = append(roles, grp.Roles...)
	}
	a, err := roleAuthority(ctx, st, tenant, roles)
	a.Groups = sorted(u.Groups)
	return a, err
}

func roleAuthority(ctx context.Context, st store.Store, tenant string, roles []string) (Authority, error) {
	var a Authority
	for _, name := range sorted(roles) {
		r, err := st.Roles().Get(ctx, tenant, name)
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
	return a, nil
}

func sorted(l []string) []string {
	out := slices.Clone(l)
	sort.Strings(out)
	return slices.Compact(out)
}

func intersect(a, b []string) []string {
	var out []string
	for _, x := range a {
		if slices.Contains(b, x) {
			out = append(out, x)
		}
	}
	return sorted(out)
}
