// Package tenant holds the rules of a tenant that do not depend on storage:
// its issuer URL and its effective token policy.
package tenant

import (
	"fmt"
	"strings"

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

// Effective returns p with every zero field replaced by its default, and
// with the overrides of client applied on top (zero fields of override do not
// override).
func Effective(p store.Policy, overrides ...store.Policy) store.Policy {
	for _, o := range overrides {
		if o.SigningAlg != "" {
			p.SigningAlg = o.SigningAlg
		}
		if o.AccessTTL != 0 {
			p.AccessTTL = o.AccessTTL
		}
		if o.MaxAccessTTL != 0 && (p.MaxAccessTTL == 0 || o.MaxAccessTTL < p.MaxAccessTTL) {
			p.MaxAccessTTL = o.MaxAccessTTL // a client may only tighten a maximum
		}
		if o.RefreshTTL != 0 {
			p.RefreshTTL = o.RefreshTTL
		}
		if o.Lifetime != 0 {
			p.Lifetime = o.Lifetime
		}
		if o.MaxLifetime != 0 && (p.MaxLifetime == 0 || o.MaxLifetime < p.MaxLifetime) {
			p.MaxLifetime = o.MaxLifetime
		}
		if o.TokenLimit != 0 && (p.TokenLimit == 0 || o.TokenLimit < p.TokenLimit) {
			p.TokenLimit = o.TokenLimit
		}
		if o.Format != "" {
			p.Format = o.Format
		}
		// AllowEternal and PasswordGrant need the tenant AND the client.
		p.AllowEternal = p.AllowEternal && o.AllowEternal
		p.PasswordGrant = p.PasswordGrant && o.PasswordGrant
		p.StorefrontServerSide = p.StorefrontServerSide && o.StorefrontServerSide
	}
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
	e := Effective(p)
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
	if p.DefaultAudience != "" {
		if msg := CheckAudience(p.DefaultAudience); msg != "" {
			bad["default_audience"] = msg
		}
	}
	return bad
}

func contains(l []string, s string) bool {
	for _, x := range l {
		if x == s {
			return true
		}
	}
	return false
}
