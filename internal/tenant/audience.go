package tenant

import (
	"fmt"
	"net/url"

	"github.com/tokend/tokend/internal/store"
)

// DefaultAudience is the audience of an access token for which neither
// the request nor the client names one (RFC 9068 §2.2 requires aud): the
// tenant policy's default_audience, else the tenant's issuer URL.
func DefaultAudience(publicURL, id string, p store.Policy) []string {
	if p.DefaultAudience != "" {
		return []string{p.DefaultAudience}
	}
	return []string{Issuer(publicURL, id)}
}

// CheckAudience reports what is wrong with an audience value (a
// project's, a client's, a policy's default), or "" when nothing is.
func CheckAudience(a string) string {
	if a == "" || len(a) > 512 {
		return "an audience must be 1 to 512 characters"
	}
	if _, err := url.Parse(a); err != nil {
		return fmt.Sprintf("%q is neither a name nor a URI", a)
	}
	for i := 0; i < len(a); i++ {
		if a[i] <= 0x20 || a[i] == 0x7f {
			return fmt.Sprintf("%q must not contain spaces or control characters", a)
		}
	}
	return ""
}
