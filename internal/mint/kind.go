package mint

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tokend/tokend/claims"
	"github.com/tokend/tokend/internal/fault"
	"github.com/tokend/tokend/internal/introspect"
	"github.com/tokend/tokend/internal/issue"
	"github.com/tokend/tokend/internal/revoke"
	"github.com/tokend/tokend/internal/store"
	"github.com/tokend/tokend/internal/tenant"
	"github.com/tokend/tokend/internal/token"
)

// MintScopePrefix prefixes the creation scope of each token kind: a
// caller needs "tokend:mint:storefront" to mint storefront tokens (or
// tokend:admin, which includes every creation scope).
const MintScopePrefix = "tokend:mint:"

// MintableKinds are the kinds minted through KindSpec.
var MintableKinds = []string{claims.KindStorefront, claims.KindPrivate, claims.KindImpersonation}

// KindSpec asks for a storefront, private or impersonation token (seed
// 001) for a client.
type KindSpec struct {
	Kind string `json:"kind"`
	// ChannelIDs are the channels the token may be used on.
	ChannelIDs []int64 `json:"channel_ids"`
	// ExpiresAt is when the token expires, in unix seconds.
	ExpiresAt *int64 `json:"expires_at"`
	// AllowedCORSOrigins are the browser origins a storefront token may be
	// used from (scheme://host[:port]).
	AllowedCORSOrigins []string `json:"allowed_cors_origins"`
	Format             string   `json:"format"`
	// Scopes, for a private token, are the token's scopes instead of the
	// client's (seed 001's private-token scopes, such as Customer).
	Scopes []string `json:"scopes"`
	// AllowedChannels, when not nil, are the only channel ids the token
	// may name (the tenant's channels, from its surface settings); nil
	// accepts any positive id.
	AllowedChannels []int64 `json:"-"`
	// Untyped signs a JWT under the header {"typ":"JWT","alg":…} without
	// kid (issue.Request.Untyped), as BigCommerce's storefront tokens are.
	Untyped bool `json:"-"`
	// Surface names the compatible surface minting (audit, metrics).
	Surface string `json:"-"`
}

// CreationScopes are seed 001's token-creation scopes (BigCommerce API
// account scopes) and the mint rights each stands for:
// store_storefront_api mints storefront and private tokens,
// store_storefront_api_customer_impersonation impersonation tokens
// (storefront_tokens.v3.yml, securitySchemes X-Auth-Token).
var CreationScopes = map[string][]string{
	"store_storefront_api":                        {claims.KindStorefront, claims.KindPrivate},
	"store_storefront_api_customer_impersonation": {claims.KindImpersonation},
}

// MayMint reports whether a caller holding scopes may mint kind.
func MayMint(scopes []string, kind string) bool {
	if slices.Contains(scopes, claims.ScopeAdmin) || slices.Contains(scopes, MintScopePrefix+kind) {
		return true
	}
	for _, sc := range scopes {
		if slices.Contains(CreationScopes[sc], kind) {
			return true
		}
	}
	return false
}

// mintRight reports whether sc is a right to mint rather than a scope a
// minted token may carry: tokend's own scopes and CreationScopes.
func mintRight(sc string) bool {
	_, ok := CreationScopes[sc]
	return ok || strings.HasPrefix(sc, "tokend:")
}

// Kind issues a token of sp.Kind whose subject is the client, if the
// caller's scopes (held) carry the right to mint the kind (MayMint); else
// it fails with insufficient_scope.
func (s *Minter) Kind(ctx context.Context, by Actor, held []string, ten, clientID string, sp KindSpec) (token.Issued, error) {
	if !slices.Contains(MintableKinds, sp.Kind) {
		return token.Issued{}, invalidf("kind", "must be one of storefront, private, impersonation")
	}
	if !MayMint(held, sp.Kind) {
		return token.Issued{}, fault.InsufficientScope("minting %q tokens needs scope %s%s%s", sp.Kind, MintScopePrefix, sp.Kind, creationScopeOf(sp.Kind))
	}
	t, err := s.st.Tenants().Get(ctx, ten)
	if err != nil {
		return token.Issued{}, notFound(err, "tenant", ten)
	}
	c, err := s.st.Clients().Get(ctx, ten, clientID)
	if err != nil {
		return token.Issued{}, notFound(err, "client", clientID)
	}
	if c.Disabled {
		return token.Issued{}, fault.Forbidden("client %q is disabled", c.ID)
	}
	pol := tenant.Effective(t.Policy, c.Policy)
	now := s.now()
	if sp.ExpiresAt == nil {
		return token.Issued{}, invalidf("expires_at", "is required (unix seconds)")
	}
	exp := time.Unix(*sp.ExpiresAt, 0)
	maxLife := time.Duration(max(pol.MaxAccessTTL, pol.MaxLifetime)) * time.Second
	switch {
	case !exp.After(now):
		return token.Issued{}, invalidf("expires_at", "%d is in the past", *sp.ExpiresAt)
	case exp.Sub(now) > maxLife:
		return token.Issued{}, invalidf("expires_at", "must be at most %d seconds from now (max_lifetime)", int64(maxLife/time.Second))
	}
	var origins []string
	for i, o := range sp.AllowedCORSOrigins {
		n, ok := claims.NormalizeOrigin(o)
		if !ok {
			return token.Issued{}, invalidf(fmt.Sprintf("allowed_cors_origins[%d]", i), "%q is not an origin (scheme://host[:port])", o)
		}
		if !slices.Contains(origins, n) {
			origins = append(origins, n)
		}
	}
	if len(origins) > 0 && sp.Kind != claims.KindStorefront {
		return token.Issued{}, invalidf("allowed_cors_origins", "only storefront tokens are used from browsers")
	}
	var channels []string
	for i, ch := range sp.ChannelIDs {
		if ch <= 0 {
			return token.Issued{}, invalidf(fmt.Sprintf("channel_ids[%d]", i), "must be a positive integer, got %d", ch)
		}
		if sp.AllowedChannels != nil && !slices.Contains(sp.AllowedChannels, ch) {
			return token.Issued{}, invalidf(fmt.Sprintf("channel_ids[%d]", i), "%d is not a channel of this tenant", ch)
		}
		if s := strconv.FormatInt(ch, 10); !slices.Contains(channels, s) {
			channels = append(channels, s)
		}
	}
	format := pol.Format
	if sp.Format != "" {
		if sp.Format != store.FormatJWT && sp.Format != store.FormatOpaque {
			return token.Issued{}, invalidf("format", "must be jwt or opaque")
		}
		format = sp.Format
	}
	// A kind token carries the client's scopes but none of tokend's own
	// (tokend:admin, tokend:mint:*): a storefront token lives in browsers.
	var scope []string
	for _, sc := range c.Scopes {
		if !mintRight(sc) {
			scope = append(scope, sc)
		}
	}
	if sp.Scopes != nil {
		if sp.Kind != claims.KindPrivate {
			return token.Issued{}, invalidf("scopes", "only private tokens are minted with their own scopes")
		}
		scope = nil
		for i, sc := range sp.Scopes {
			if sc == "" || len(sc) > 128 || strings.ContainsAny(sc, " \t\r\n") || mintRight(sc) {
				return token.Issued{}, invalidf(fmt.Sprintf("scopes[%d]", i), "%q is not a scope a token may carry", sc)
			}
			if !slices.Contains(scope, sc) {
				scope = append(scope, sc)
			}
		}
		if len(scope) == 0 {
			return token.Issued{}, invalidf("scopes", "must name at least one scope")
		}
	}
	req := issue.Request{
		Tenant: ten, Kind: sp.Kind, SubjectType: "client", Subject: c.ID, ClientID: c.ID,
		Scope: scope, Audience: c.Audiences, TTL: exp.Sub(now), Format: format,
		Origins: origins, Channels: channels, Action: "token.mint", AuditActor: by.String(),
		Untyped: sp.Untyped, Surface: sp.Surface,
		ServerSide: sp.Kind == claims.KindStorefront && pol.StorefrontServerSide,
	}
	if sp.Kind == claims.KindImpersonation {
		// The acting client is recorded; the customer comes with each request.
		req.Actor = &claims.Actor{Subject: "client:" + c.ID, ClientID: c.ID}
	}
	if pol.TokenLimit == 0 {
		return issued(s.issuer.Issue(ctx, req))
	}
	req.Defer = true
	return issued(s.subjectIssue(ctx, ten, "client", c.ID, func(_ store.Store, active int) (issue.Result, error) {
		if active >= pol.TokenLimit {
			return issue.Result{}, fault.Conflict("token limit reached: client %q has %d active tokens (token_limit %d)", c.ID, active, pol.TokenLimit)
		}
		return s.issuer.Issue(ctx, req)
	}))
}

// creationScopeOf names, for a refusal, the seed 001 creation scope that
// would carry the right to mint kind.
func creationScopeOf(kind string) string {
	for sc, kinds := range CreationScopes {
		if slices.Contains(kinds, kind) {
			return " (or " + sc + ")"
		}
	}
	return ""
}

// RevokeKind revokes the storefront or private token id of tenant ten
// (seed 001's DELETE /storefront/api-token), for a caller whose scopes
// (held) carry the right to mint that kind. Any other token is an
// invalid_token fault; a missing right insufficient_scope.
func (s *Minter) RevokeKind(ctx context.Context, by Actor, held []string, ten string, id *introspect.Identity) error {
	k := id.Claims.Kind
	if id.Tenant != ten || (k != claims.KindStorefront && k != claims.KindPrivate) {
		return fault.InvalidToken("not a storefront or private token of this tenant")
	}
	if !MayMint(held, k) {
		return fault.InsufficientScope("revoking %q tokens needs scope %s%s%s", k, MintScopePrefix, k, creationScopeOf(k))
	}
	_, err := s.revoker.TokenIn(ctx, s.st, revoke.Actor{Name: by.String(), ClientID: by.ClientID}, ten, id.Claims.ID)
	return err
}

// StorefrontOrigins are the origins the tenant's active storefront tokens
// allow (their allowed_cors_origins), normalised: what a CORS preflight,
// which carries no token, may be answered for.
func (s *Minter) StorefrontOrigins(ctx context.Context, ten string) ([]string, error) {
	now := s.now()
	var out []string
	p := store.Page{Limit: 1000}
	for range 20 {
		l, err := s.st.Tokens().List(ctx, ten, store.TokenFilter{Kind: claims.KindStorefront, ActiveAt: &now, Page: p})
		if err != nil {
			return nil, storeErr(err)
		}
		for _, t := range l {
			for _, o := range t.Origins {
				if !slices.Contains(out, o) {
					out = append(out, o)
				}
			}
		}
		if len(l) < p.Limit {
			break
		}
		p.After = l[len(l)-1].ID
	}
	return out, nil
}
