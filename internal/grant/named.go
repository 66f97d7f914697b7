package grant

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/tokend/tokend/internal/fault"
	"github.com/tokend/tokend/internal/issue"
	"github.com/tokend/tokend/internal/store"
)

// IdentityFields are the fields of the exchanged identity every named
// token must have a value for, by the names seed 002's original requires
// them under (authsec-ai/authsec controllers/authmgr_controller.go,
// OIDCToken: provider, provider_id, user_id, tenant_id and email among
// Hydra's introspection ext, else 400 "missing required OIDC fields"),
// with the claim of the issued token that carries each. The original's
// Hydra sets them at login; tokend knows them once the token is mapped to
// a tenant user: the token's claim of that name when it has one, else the
// trusted issuer, the token's sub, the tenant user's id, the tenant (the
// caller's claims) and the token's email or else the user's login.
var IdentityFields = []struct{ Name, Claim string }{
	{"provider", "provider"}, {"provider_id", "provider_id"}, {"user_id", "user_id"},
	{"tenant_id", "tenant_id"}, {"email", "email_id"},
}

// namedRequest turns req into a store.FormatNamed token shaped by n: the
// subject token must be external and carry n.Require; the token's claims
// are n.Claims with the exchanged identity's provider (the external
// token's provider claim, else its issuer), provider_id (its
// provider_id, else its sub), user_id (its user_id, else the tenant
// user's id) and email_id (its email, else the user's login), and must
// have a value for every one of IdentityFields.
func namedRequest(req *issue.Request, n *Named, s *Subject) error {
	if s.Claims == nil || s.Type != "user" {
		return fault.InvalidGrant("subject_token is not a user's token of a trusted issuer")
	}
	var missing []string
	for _, k := range n.Require {
		if v, ok := s.Claims[k]; !ok || v == nil || v == "" {
			missing = append(missing, k)
		}
	}
	c := maps.Clone(n.Claims)
	if c == nil {
		c = map[string]any{}
	}
	str := func(k, def string) string {
		if v, ok := s.Claims[k].(string); ok && v != "" {
			return v
		}
		return def
	}
	c["provider"], c["provider_id"] = str("provider", s.IDP), str("provider_id", s.ExternalSubject)
	c["user_id"], c["email_id"] = str("user_id", s.ID), str("email", s.Login)
	for _, f := range IdentityFields {
		if v, _ := c[f.Claim].(string); v == "" && !slices.Contains(missing, f.Name) {
			missing = append(missing, f.Name)
		}
	}
	if len(missing) > 0 {
		return fault.Invalid("oidc_token", "missing required OIDC fields: [%s]", strings.Join(missing, " "))
	}
	if n.Key == "" || n.TTL <= 0 {
		return fault.Internal(fmt.Errorf("grant: a named token needs a key and a lifetime"))
	}
	req.Format, req.HMACKey, req.NamedClaims, req.TTL, req.Profile, req.Untyped = store.FormatNamed, n.Key, c, n.TTL, "", false
	return nil
}
