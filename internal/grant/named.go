package grant

import (
	"fmt"
	"maps"
	"strings"

	"github.com/tokend/tokend/internal/fault"
	"github.com/tokend/tokend/internal/issue"
	"github.com/tokend/tokend/internal/store"
)

// namedRequest turns req into a store.FormatNamed token shaped by n: the
// subject token must be external and carry n.Require; the token's claims
// are n.Claims with the exchanged identity's provider (the external
// token's provider claim, else its issuer), provider_id (its
// provider_id, else its sub), user_id (its user_id, else the tenant
// user's id) and email_id (its email, else the user's login).
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
	if len(missing) > 0 {
		return fault.Invalid("oidc_token", "missing required OIDC fields: [%s]", strings.Join(missing, " "))
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
	if n.Key == "" || n.TTL <= 0 {
		return fault.Internal(fmt.Errorf("grant: a named token needs a key and a lifetime"))
	}
	req.Format, req.HMACKey, req.NamedClaims, req.TTL, req.Profile, req.Untyped = store.FormatNamed, n.Key, c, n.TTL, "", false
	return nil
}
