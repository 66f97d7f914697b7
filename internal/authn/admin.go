package authn

import (
	"strings"

	"github.com/tokend/tokend/claims"
	"github.com/tokend/tokend/internal/fault"
	"github.com/tokend/tokend/internal/introspect"
)

// Bearer extracts an RFC 6750 §2.1 bearer token from the value of an
// Authorization header.
func Bearer(authorization string) (string, error) {
	if authorization == "" {
		return "", fault.Unauthenticated("a bearer token is required")
	}
	scheme, tok, ok := strings.Cut(authorization, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(tok) == "" {
		return "", fault.InvalidToken("the Authorization header must be \"Bearer <token>\"")
	}
	return strings.TrimSpace(tok), nil
}

// Admin checks that the holder of a verified token may administer: the
// token is an access or admin token (never one of another kind) with the
// tokend:admin scope, and either of the system tenant (system is then
// true) or, unless systemOnly, of tenant (when the request names one).
func Admin(id *introspect.Identity, tenant string, systemOnly bool) (system bool, err error) {
	if k := id.Claims.Kind; k != claims.KindAccess && k != claims.KindAdmin && k != "" {
		// Tokens of other kinds (storefront, device, customer, ...) are for
		// their own uses, never for administration.
		return false, fault.Forbidden("a %s token cannot be used for the admin API", k)
	}
	if !id.Claims.HasScope(claims.ScopeAdmin) {
		return false, fault.InsufficientScope("the token lacks the %s scope", claims.ScopeAdmin)
	}
	if id.Tenant == claims.SystemTenant {
		return true, nil
	}
	if systemOnly {
		return false, fault.Forbidden("only a system admin may do this")
	}
	if tenant != "" && tenant != id.Tenant {
		return false, fault.Forbidden("this token may only manage tenant %q", id.Tenant)
	}
	return false, nil
}
