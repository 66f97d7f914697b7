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
	"github.com/tokend/tokend/internal/issue"
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
}

// MayMint reports whether a caller holding scopes may mint kind.
func MayMint(scopes []string, kind string) bool {
	return slices.Contains(scopes, claims.ScopeAdmin) || slices.Contains(scopes, MintScopePrefix+kind)
}

// Kind issues a token of sp.Kind whose subject is the client, if the
// caller's scopes (held) carry the right to mint the kind (MayMint); else
// it fails with insufficient_scope.
func (s *Minter) Kind(ctx context.Context, by Actor, held []string, ten, clientID string, sp KindSpec) (token.Issued, error) {
	if !slices.Contains(MintableKinds, sp.Kind) {
		return token.Issued{}, invalidf("kind", "must be one of storefront, private, impersonation")
	}
	if !MayMint(held, sp.Kind) {
		return token.Issued{}, fault.InsufficientScope("minting %q tokens needs scope %s%s", sp.Kind, MintScopePrefix, sp.Kind)
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
		channels = append(channels, strconv.FormatInt(ch, 10))
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
		if !strings.HasPrefix(sc, "tokend:") {
			scope = append(scope, sc)
		}
	}
	req := issue.Request{
		Tenant: ten, Kind: sp.Kind, SubjectType: "client", Subject: c.ID, ClientID: c.ID,
		Scope: scope, Audience: c.Audiences, TTL: exp.Sub(now), Format: format,
		Origins: origins, Channels: channels, Action: "token.mint", AuditActor: by.String(),
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
