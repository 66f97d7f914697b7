package authn

import (
	"encoding/base64"
	"net/url"
	"strings"

	"github.com/tokend/tokend/internal/fault"
)

// ParseCredentials reads client credentials (RFC 6749 §2.3) from the
// value of the Authorization header (HTTP Basic, §2.3.1: a form-urlencoded
// id and secret) or from the form: client_id and client_secret, or an RFC
// 7523 §2.2 client assertion. Using more than one method is an error.
func ParseCredentials(authorization string, form url.Values) (Credentials, error) {
	var ca Credentials
	if authorization != "" {
		id, secret, ok := parseBasic(authorization)
		if !ok {
			return ca, fault.InvalidClient("malformed Authorization header")
		}
		uid, err1 := url.QueryUnescape(id)
		usec, err2 := url.QueryUnescape(secret)
		if err1 != nil || err2 != nil {
			return ca, fault.InvalidClient("malformed client credentials")
		}
		if form.Has("client_secret") || form.Has("client_assertion") {
			return ca, fault.InvalidRequest("use one client authentication method, not both")
		}
		if form.Has("client_id") && form.Get("client_id") != uid {
			return ca, fault.InvalidRequest("client_id does not match the authenticated client")
		}
		return Credentials{ID: uid, Secret: usec, Method: "client_secret_basic"}, nil
	}
	if t := form.Get("client_assertion_type"); t != "" || form.Has("client_assertion") {
		// RFC 7523 §2.2: a JWT authenticates the client.
		if t != AssertionType {
			return ca, fault.InvalidClient("client_assertion_type must be %s", AssertionType)
		}
		if form.Has("client_secret") || form.Get("client_assertion") == "" {
			return ca, fault.InvalidRequest("use one client authentication method, not both")
		}
		return Credentials{ID: form.Get("client_id"), Assertion: form.Get("client_assertion"), Method: "private_key_jwt"}, nil
	}
	ca = Credentials{ID: form.Get("client_id"), Secret: form.Get("client_secret"), Method: "client_secret_post"}
	if ca.Secret == "" {
		ca.Method = "none"
	}
	return ca, nil
}

// parseBasic parses an HTTP Basic Authorization value (RFC 7617) exactly
// as net/http's Request.BasicAuth does: the scheme matched without regard
// to ASCII case, standard base64, user and password split at the first
// colon.
func parseBasic(h string) (user, password string, ok bool) {
	const prefix = "Basic "
	if len(h) < len(prefix) || !asciiEqualFold(h[:len(prefix)], prefix) {
		return "", "", false
	}
	c, err := base64.StdEncoding.DecodeString(h[len(prefix):])
	if err != nil {
		return "", "", false
	}
	return strings.Cut(string(c), ":")
}

func asciiEqualFold(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range len(a) {
		x, y := a[i], b[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}
