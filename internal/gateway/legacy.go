package gateway

import (
	"context"
	"encoding/base64"
	"net/http"
	"net/url"
	"strings"

	"github.com/tokend/tokend/internal/authn"
	"github.com/tokend/tokend/internal/fault"
	"github.com/tokend/tokend/internal/introspect"
	"github.com/tokend/tokend/internal/revoke"
)

// Legacy lets the check accept seed 004's (apstrata's) token forms: the
// parameters apsws.authMode=token, apsdb.authToken and apsws.id (in the
// check's query or the forwarded original URI), and the header
// Authorization: Bearer base64(authKey:id:token) (wiki "Bearer Token
// Authentication"). The token must be the identifier's, of the tenant the
// account key names, and come from its bound referrer.
type Legacy struct {
	Authn *authn.Authenticator
	// Account returns the tenant of an account key (a not_found fault
	// for an unknown one).
	Account func(ctx context.Context, key string) (tenant string, err error)
	// PlainHTTP reports whether the checked request came over plain HTTP
	// where that is not allowed (not dev mode): a bearer token seen so
	// is revoked, as apstrata does.
	PlainHTTP func(*http.Request) bool
	Revoke    *revoke.Service
}

// legacyForm is a seed 004 token presented to the check.
type legacyForm struct {
	key, ident, token string
	bearer            bool
}

// parseLegacy finds a seed 004 token form in the request, if any.
func parseLegacy(r *http.Request) (legacyForm, bool) {
	if h := r.Header.Get("Authorization"); len(h) > 7 && strings.EqualFold(h[:7], "Bearer ") {
		v := strings.TrimSpace(h[7:])
		if strings.ContainsAny(v, ".-_") {
			// Not standard base64 (a JWT, an opaque or a session token):
			// decoding it would fail; skip the copy it would make.
			return legacyForm{}, false
		}
		b, err := base64.StdEncoding.DecodeString(v)
		if err != nil {
			return legacyForm{}, false
		}
		parts := strings.Split(string(b), ":")
		if len(parts) != 3 || parts[0] == "" || parts[1] == "" || parts[2] == "" {
			return legacyForm{}, false
		}
		return legacyForm{key: parts[0], ident: parts[1], token: parts[2], bearer: true}, true
	}
	for _, q := range []string{r.URL.RawQuery, forwardedQuery(r.Header.Get("X-Forwarded-Uri")), forwardedQuery(r.Header.Get("X-Original-Uri"))} {
		if !strings.Contains(q, "authMode") && !strings.Contains(q, "%") {
			continue // no apsws.authMode parameter, however encoded: nothing to parse
		}
		p, err := url.ParseQuery(q)
		if err == nil && p.Get("apsws.authMode") == "token" && p.Get("apsdb.authToken") != "" {
			return legacyForm{ident: p.Get("apsws.id"), token: p.Get("apsdb.authToken")}, true
		}
	}
	return legacyForm{}, false
}

func forwardedQuery(uri string) string {
	_, q, _ := strings.Cut(uri, "?")
	return q
}

// identify verifies a seed 004 token form for tenant.
func (l *Legacy) identify(r *http.Request, tenant string, f legacyForm) (*introspect.Identity, error) {
	ctx := r.Context()
	if f.key != "" {
		ten, err := l.Account(ctx, f.key)
		if err != nil {
			if fault.CodeOf(err) == fault.CodeNotFound {
				return nil, fault.InvalidToken("unknown account key")
			}
			return nil, err
		}
		if ten != tenant {
			return nil, fault.InvalidToken("token of another tenant")
		}
	}
	origin := refererOrigin(r.Header.Values("Referer"))
	id, err := l.Authn.LegacyToken(ctx, tenant, f.ident, f.token, origin)
	if err != nil {
		return nil, err
	}
	if f.bearer && l.PlainHTTP(r) {
		// wiki "Bearer Token Authentication": a valid token sent over
		// plain http is invalidated.
		if _, err := l.Revoke.Token(ctx, revoke.Actor{Name: "gateway"}, tenant, id.Claims.ID); err != nil {
			return nil, err
		}
		return nil, fault.InvalidToken("a bearer token sent over plain http is revoked")
	}
	return id, nil
}

// refererOrigin is the origin of the one Referer header, or "".
func refererOrigin(refs []string) string {
	if len(refs) != 1 {
		return ""
	}
	u, err := url.Parse(refs[0])
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return ""
	}
	return strings.ToLower(u.Scheme + "://" + u.Host)
}
