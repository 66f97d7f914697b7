package binding

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/tokend/tokend/internal/store"
)

// StoreTokenName is the surface name of seed 000's store tokens
// (internal/compat/storetoken).
const StoreTokenName = "storetoken"

func init() { Register(StoreTokenName, func() Settings { return &StoreToken{} }) }

// Knock's token_lifetime in the legacy initializer is 100.years; Rails
// counts a year as 365.2425 days.
const (
	railsYear = 31556952 * time.Second
	// DefaultStoreTokenLifetime is the legacy application's lifetime.
	DefaultStoreTokenLifetime = 100 * railsYear
)

// StoreToken configures the Rails/Knock store-token surface for a tenant.
// The HMAC secret tokens are signed with is not here: it is the tenant's
// legacy key, imported (tokend keys import-legacy) or generated, sealed
// by the keys manager.
type StoreToken struct {
	// TokenLifetime is a store token's expiry in seconds (Knock's
	// token_lifetime). Default: 100 years, as the legacy initializer sets
	// it; a shorter one (for example 90 days, 7776000) is recommended
	// wherever kiosks can be re-provisioned. 0 uses the default.
	TokenLifetime int64 `json:"token_lifetime,omitempty"`
	// AdminRole is the role that makes a user an admin (User#admin?).
	// Default "admin".
	AdminRole string `json:"admin_role,omitempty"`
	// UserAudience is the aud of the sign-in tokens of POST /user_token.
	// Default ["backend"], as the legacy application's user tokens.
	UserAudience []string `json:"user_audience,omitempty"`
	// Host, when set, is the request host whose requests are this
	// tenant's (the legacy API's own host name, moved to tokend).
	Host string `json:"host,omitempty"`
}

// Validate implements Settings.
func (s *StoreToken) Validate() map[string]string {
	p := map[string]string{}
	if s.TokenLifetime < 0 || time.Duration(s.TokenLifetime) > DefaultStoreTokenLifetime/time.Second {
		p["token_lifetime"] = fmt.Sprintf("must be 1 to %d seconds (100 years), or 0 for the default", int64(DefaultStoreTokenLifetime/time.Second))
	}
	if len(s.AdminRole) > 64 {
		p["admin_role"] = "must be at most 64 characters"
	}
	if len(s.UserAudience) > 10 {
		p["user_audience"] = "must list at most 10 audiences"
	}
	for _, a := range s.UserAudience {
		if a == "" || len(a) > 256 {
			p["user_audience"] = "each audience must be 1 to 256 characters"
		}
	}
	if len(s.Host) > 253 || strings.ToLower(s.Host) != s.Host || strings.ContainsAny(s.Host, ":/ ") {
		p["host"] = "must be a host name in lower case, without a port"
	}
	if len(p) == 0 {
		return nil
	}
	return p
}

// LookupKey implements Settings: the host, if any.
func (s *StoreToken) LookupKey() string { return s.Host }

// Lifetime is the effective store-token lifetime.
func (s *StoreToken) Lifetime() time.Duration {
	if s.TokenLifetime == 0 {
		return DefaultStoreTokenLifetime
	}
	return time.Duration(s.TokenLifetime) * time.Second
}

// Admin is the effective admin role.
func (s *StoreToken) Admin() string {
	if s.AdminRole == "" {
		return "admin"
	}
	return s.AdminRole
}

// Audience is the effective audience of sign-in tokens.
func (s *StoreToken) Audience() []string {
	if len(s.UserAudience) == 0 {
		return []string{"backend"}
	}
	return s.UserAudience
}

// NotFound reports whether err, from ByKey, means no tenant has the key
// (for surfaces, which do not import the storage contract).
func NotFound(err error) bool { return errors.Is(err, store.ErrNotFound) }
