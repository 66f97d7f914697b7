package mint

import (
	"context"
	"slices"
	"time"

	"github.com/tokend/tokend/claims"
	"github.com/tokend/tokend/internal/issue"
	"github.com/tokend/tokend/internal/store"
	"github.com/tokend/tokend/internal/tenant"
	"github.com/tokend/tokend/internal/token"
)

// ClientSpec asks for an access token for a client, minted by an admin.
type ClientSpec struct {
	ClientID  string `json:"client_id"`
	Scope     string `json:"scope"`
	Audience  string `json:"audience"`
	ExpiresIn *int64 `json:"expires_in"`
	Format    string `json:"format"`
}

// Client issues an access token whose subject is a client, within
// the client's allowed scopes and audiences and the policy's bounds.
func (s *Minter) Client(ctx context.Context, by Actor, ten string, sp ClientSpec) (token.Issued, error) {
	if sp.ClientID == "" {
		return token.Issued{}, invalidf("client_id", "is required")
	}
	t, err := s.st.Tenants().Get(ctx, ten)
	if err != nil {
		return token.Issued{}, notFound(err, "tenant", ten)
	}
	c, err := s.st.Clients().Get(ctx, ten, sp.ClientID)
	if err != nil {
		if isNotFound(err) {
			return token.Issued{}, invalidf("client_id", "unknown client %q", sp.ClientID)
		}
		return token.Issued{}, storeErr(err)
	}
	if c.Disabled {
		return token.Issued{}, invalidf("client_id", "client %q is disabled", c.ID)
	}
	pol := tenant.Effective(t.Policy, c.Policy)
	scope := c.Scopes
	if sp.Scope != "" {
		scope = fields(sp.Scope)
		for _, sc := range scope {
			if !slices.Contains(c.Scopes, sc) {
				return token.Issued{}, invalidf("scope", "scope %q is not allowed for client %q", sc, c.ID)
			}
		}
	}
	aud := c.Audiences
	if sp.Audience != "" {
		if !slices.Contains(c.Audiences, sp.Audience) {
			if _, err := s.st.Projects().GetByAudience(ctx, ten, sp.Audience); err != nil {
				if isNotFound(err) {
					return token.Issued{}, invalidf("audience", "%q is neither an audience of the client nor of a project", sp.Audience)
				}
				return token.Issued{}, storeErr(err)
			}
		}
		aud = []string{sp.Audience}
	}
	if len(aud) == 0 {
		aud = s.issuer.DefaultAudience(ten, pol) // RFC 9068 §2.2
	}
	ttl := pol.AccessTTL
	if sp.ExpiresIn != nil {
		switch e := *sp.ExpiresIn; {
		case e <= 0:
			return token.Issued{}, invalidf("expires_in", "must be a positive number of seconds")
		case e > pol.MaxAccessTTL:
			return token.Issued{}, invalidf("expires_in", "must be at most %d seconds (max_access_ttl)", pol.MaxAccessTTL)
		default:
			ttl = e
		}
	}
	format := pol.Format
	if sp.Format != "" {
		if sp.Format != store.FormatJWT && sp.Format != store.FormatOpaque {
			return token.Issued{}, invalidf("format", "must be jwt or opaque")
		}
		format = sp.Format
	}
	return issued(s.issuer.Issue(ctx, issue.Request{
		Tenant: ten, Kind: claims.KindAccess, SubjectType: "client", Subject: c.ID, ClientID: c.ID,
		Scope: scope, Audience: aud, TTL: time.Duration(ttl) * time.Second, Format: format,
		Action: "token.mint", AuditActor: by.String(),
	}))
}
