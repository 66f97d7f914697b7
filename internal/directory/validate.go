package directory

import (
	"context"
	"slices"
	"sort"

	"github.com/tokend/tokend/claims"
	"github.com/tokend/tokend/internal/principal"
	"github.com/tokend/tokend/internal/store"
	"github.com/tokend/tokend/internal/tenant"
)

// Kinds are the token kinds a client may be allowed to mint.
var Kinds = []string{
	claims.KindAccess, claims.KindDevice, claims.KindStorefront, claims.KindPrivate,
	claims.KindImpersonation, claims.KindCustomer,
}

// DeviceTypes are the kinds of device.
var DeviceTypes = []string{"store", "kiosk", "device", "service"}

const maxList = 256

func checkID(field, id string) error {
	if err := principal.ValidID(id); err != nil {
		return invalidf(field, "%v", err)
	}
	return nil
}

func checkText(field, s string, max int) error {
	if len(s) > max {
		return invalidf(field, "must be at most %d bytes", max)
	}
	return nil
}

// checkScopes validates scope tokens (RFC 6749 §3.3: %x21 / %x23-5B / %x5D-7E).
func checkScopes(field string, l []string) error {
	if len(l) > maxList {
		return invalidf(field, "at most %d entries", maxList)
	}
	for _, s := range l {
		if s == "" || len(s) > 128 {
			return invalidf(field, "%q must be 1 to 128 characters", s)
		}
		for i := 0; i < len(s); i++ {
			c := s[i]
			if c < 0x21 || c == 0x22 || c == 0x5c || c > 0x7e {
				return invalidf(field, "%q contains a character not allowed in a scope", s)
			}
		}
	}
	return nil
}

func checkOneOf(field string, l, allowed []string) error {
	for _, s := range l {
		if !slices.Contains(allowed, s) {
			return invalidf(field, "unknown value %q", s)
		}
	}
	return nil
}

func checkAudiences(field string, l []string) error {
	if len(l) > maxList {
		return invalidf(field, "at most %d entries", maxList)
	}
	for _, a := range l {
		if err := checkAudience(field, a); err != nil {
			return err
		}
	}
	return nil
}

func checkAudience(field, a string) error {
	if msg := tenant.CheckAudience(a); msg != "" {
		return invalidf(field, "%s", msg)
	}
	return nil
}

// clean sorts and deduplicates a list, never returning nil.
func clean(l []string) []string {
	out := slices.Clone(l)
	sort.Strings(out)
	out = slices.Compact(out)
	if out == nil {
		out = []string{}
	}
	return out
}

// checkRoles reports roles unknown in the tenant.
func checkRoles(ctx context.Context, st store.Store, tenant, field string, roles []string) error {
	if len(roles) > maxList {
		return invalidf(field, "at most %d entries", maxList)
	}
	for _, r := range roles {
		if _, err := st.Roles().Get(ctx, tenant, r); err != nil {
			if isNotFound(err) {
				return invalidf(field, "unknown role %q", r)
			}
			return storeErr(err)
		}
	}
	return nil
}

func checkGroups(ctx context.Context, st store.Store, tenant string, groups []string) error {
	if len(groups) > maxList {
		return invalidf("groups", "at most %d entries", maxList)
	}
	for _, g := range groups {
		if _, err := st.Groups().Get(ctx, tenant, g); err != nil {
			if isNotFound(err) {
				return invalidf("groups", "unknown group %q", g)
			}
			return storeErr(err)
		}
	}
	return nil
}
