// Package tenant holds the rules of a tenant that do not depend on storage:
// its issuer URL and its effective token policy.
package tenant

import (
	"fmt"
	"strings"

	"github.com/tokend/tokend/claims"
	"github.com/tokend/tokend/internal/principal"
	"github.com/tokend/tokend/internal/store"
)

// Defaults of a tenant policy (seed 004's expiry and lifetime bounds).
const (
	DefaultSigningAlg   = "ES256"
	DefaultAccessTTL    = 1800
	DefaultMaxAccessTTL = 86400
	DefaultLifetime     = 7200
	DefaultMaxLifetime  = 604800
	DefaultRefreshTTL   = 30 * 86400
)

// Algs are the signing algorithms a tenant may choose.
var Algs = []string{"ES256", "EdDSA", "RS256", "HS256"}

// Issuer returns the issuer URL of tenant id under publicURL.
func Issuer(publicURL, id string) string {
	return strings.TrimRight(publicURL, "/") + "/t/" + id
}

// Effective returns the policy in force: p with every zero field replaced
// by its default, tightened by overrides (a client's policy): an override
// may shorten a maximum or the refresh-token lifetime, lower the token
// limit, turn a permission off, or pick defaults within the maxima, but
// never loosen the tenant's policy. Zero fields of an override do not
// override. The defaults it yields (access_ttl, lifetime) never exceed
// their maxima, whatever the override asked for.
func Effective(p store.Policy, overrides ...store.Policy) store.Policy {
	p = withDefaults(p)
	tighten := func(v *int64, o int64) {
		if o != 0 && o < *v {
			*v = o
		}
	}
	for _, o := range overrides {
		if o.SigningAlg != "" {
			p.SigningAlg = o.SigningAlg
		}
		if o.AccessTTL != 0 {
			p.AccessTTL = o.AccessTTL
		}
		if o.Lifetime != 0 {
			p.Lifetime = o.Lifetime
		}
		tighten(&p.MaxAccessTTL, o.MaxAccessTTL)
		tighten(&p.MaxLifetime, o.MaxLifetime)
		tighten(&p.RefreshTTL, o.RefreshTTL)
		if o.TokenLimit != 0 && (p.TokenLimit == 0 || o.TokenLimit < p.TokenLimit) {
			p.TokenLimit = o.TokenLimit
		}
		if o.Format != "" {
			p.Format = o.Format
		}
		if o.Profile != "" {
			p.Profile = o.Profile
		}
		if o.LoginGroup != "" {
			p.LoginGroup = o.LoginGroup
		}
		// AllowEternal and PasswordGrant need the tenant AND the client.
		p.AllowEternal = p.AllowEternal && o.AllowEternal
		p.PasswordGrant = p.PasswordGrant && o.PasswordGrant
		p.StorefrontServerSide = p.StorefrontServerSide && o.StorefrontServerSide
	}
	p.AccessTTL = min(p.AccessTTL, p.MaxAccessTTL)
	p.Lifetime = min(p.Lifetime, p.MaxLifetime)
	return p
}

// withDefaults returns p with every zero field replaced by its default.
func withDefaults(p store.Policy) store.Policy {
	def := func(v *int64, d int64) {
		if *v == 0 {
			*v = d
		}
	}
	if p.SigningAlg == "" {
		p.SigningAlg = DefaultSigningAlg
	}
	def(&p.AccessTTL, DefaultAccessTTL)
	def(&p.MaxAccessTTL, DefaultMaxAccessTTL)
	def(&p.Lifetime, DefaultLifetime)
	def(&p.MaxLifetime, DefaultMaxLifetime)
	def(&p.RefreshTTL, DefaultRefreshTTL)
	if p.Format == "" {
		p.Format = store.FormatJWT
	}
	return p
}

// Within reports, as field → message, what of a client's policy o would
// loosen the tenant's policy p: a duration or limit beyond the tenant's
// maximum. Effective ignores such values (it clamps them); the admin API
// refuses them, so that what a client's policy says is what it gets.
func Within(p, o store.Policy) map[string]string {
	e := withDefaults(p)
	bad := map[string]string{}
	over := func(field string, v int64, maxName string, maxV int64) {
		if v > maxV {
			bad[field] = fmt.Sprintf("must not exceed the tenant's %s (%d)", maxName, maxV)
		}
	}
	over("access_ttl", o.AccessTTL, "max_access_ttl", e.MaxAccessTTL)
	over("max_access_ttl", o.MaxAccessTTL, "max_access_ttl", e.MaxAccessTTL)
	over("lifetime", o.Lifetime, "max_lifetime", e.MaxLifetime)
	over("max_lifetime", o.MaxLifetime, "max_lifetime", e.MaxLifetime)
	over("refresh_ttl", o.RefreshTTL, "refresh_ttl", e.RefreshTTL)
	if p.TokenLimit > 0 {
		over("token_limit", int64(o.TokenLimit), "token_limit", int64(p.TokenLimit))
	}
	return bad
}

// Validate reports every problem of a policy as it was given (before
// defaults), as field → message.
func Validate(p store.Policy) map[string]string {
	bad := map[string]string{}
	if p.SigningAlg != "" && !contains(Algs, p.SigningAlg) {
		bad["signing_alg"] = fmt.Sprintf("must be one of %s", strings.Join(Algs, ", "))
	}
	for name, v := range map[string]int64{"access_ttl": p.AccessTTL, "max_access_ttl": p.MaxAccessTTL, "refresh_ttl": p.RefreshTTL, "lifetime": p.Lifetime, "max_lifetime": p.MaxLifetime} {
		if v < 0 {
			bad[name] = "must not be negative"
		}
	}
	e := withDefaults(p)
	if _, ok := bad["access_ttl"]; !ok && e.AccessTTL > e.MaxAccessTTL {
		bad["access_ttl"] = fmt.Sprintf("must not exceed max_access_ttl (%d)", e.MaxAccessTTL)
	}
	if _, ok := bad["lifetime"]; !ok && e.Lifetime > e.MaxLifetime {
		bad["lifetime"] = fmt.Sprintf("must not exceed max_lifetime (%d)", e.MaxLifetime)
	}
	if p.TokenLimit < 0 {
		bad["token_limit"] = "must not be negative"
	}
	if p.Format != "" && p.Format != store.FormatJWT && p.Format != store.FormatOpaque {
		bad["format"] = "must be jwt or opaque"
	}
	if p.Profile != "" && p.Profile != store.ProfileLeague {
		bad["profile"] = "must be empty or " + store.ProfileLeague
	}
	if p.LoginGroup != "" && principal.ValidID(p.LoginGroup) != nil {
		bad["login_group"] = "must be a group id"
	}
	if p.DefaultAudience != "" {
		if msg := CheckAudience(p.DefaultAudience); msg != "" {
			bad["default_audience"] = msg
		}
	}
	if msg := checkOrigins(p.CORSOrigins); msg != "" {
		bad["cors_origins"] = msg
	}
	if p.KeyRotationPeriod != 0 && p.KeyRotationPeriod < MinKeyRotationPeriod {
		bad["key_rotation_period"] = fmt.Sprintf("must be 0 (rotate by hand only) or at least %d seconds", MinKeyRotationPeriod)
	}
	if p.AuditRetention != 0 && p.AuditRetention < MinAuditRetention {
		bad["audit_retention"] = fmt.Sprintf("must be 0 (keep every event) or at least %d seconds", MinAuditRetention)
	}
	return bad
}

// MinKeyRotationPeriod is the shortest key_rotation_period (one hour): a
// rotation stage is ten minutes by default.
const MinKeyRotationPeriod = 3600

// MinAuditRetention is the shortest audit_retention: one day.
const MinAuditRetention = 86400

// MaxCORSOrigins bounds a tenant's cors_origins.
const MaxCORSOrigins = 50

func checkOrigins(l []string) string {
	if len(l) > MaxCORSOrigins {
		return fmt.Sprintf("must hold at most %d origins", MaxCORSOrigins)
	}
	seen := map[string]bool{}
	for _, o := range l {
		n, ok := claims.NormalizeOrigin(o)
		if !ok || strings.TrimSpace(o) != o {
			return fmt.Sprintf("%q is not an origin: want scheme://host[:port], http or https, no path (a wildcard is not allowed)", o)
		}
		if seen[n] {
			return fmt.Sprintf("%q is listed twice", o)
		}
		seen[n] = true
	}
	return ""
}

func contains(l []string, s string) bool {
	for _, x := range l {
		if x == s {
			return true
		}
	}
	return false
}
