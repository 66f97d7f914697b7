// Package verify checks tokend access tokens inside a resource server:
// signatures against the tenant's JWKS (found through discovery, cached,
// refreshed at most once per RefreshEvery on an unknown kid), issuer,
// audience, expiry and an explicit algorithm allow-list, the same kind
// rules as tokend's gateway check, and revocations followed from the
// tenant's revocation feed, so that a revoked token is refused without a
// call per request. Opaque tokens (API keys) and compact HS256 store
// tokens (whose secret a resource server never holds) are checked by
// introspection.
// Middleware wraps a net/http handler and answers 401/403 per RFC 6750.
//
// It imports nothing from tokend's internals.
package verify

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/golang-jwt/jwt/v5"

	"github.com/tokend/tokend/claims"
	"github.com/tokend/tokend/revocation"
)

// Options configure a Verifier. Issuer, Audience and Algorithms are
// required: there is no "any audience" or "any algorithm".
type Options struct {
	// Issuer is the tenant's issuer URL, {public_url}/t/{tenant}.
	Issuer string
	// Audience is the audience this resource server accepts.
	Audience string
	// Algorithms is the allow-list of signing algorithms (e.g. ES256).
	Algorithms []string
	// ClientID and ClientSecret, when set, are a confidential client of the
	// tenant: used to follow the revocation feed and to introspect opaque
	// tokens. Without them revocations are not seen and opaque tokens are
	// refused.
	ClientID, ClientSecret string
	HTTPClient             *http.Client
	// Leeway tolerates clock skew (default 30s).
	Leeway time.Duration
	// RefreshEvery limits JWKS refreshes on an unknown kid (default 5s).
	RefreshEvery time.Duration
}

// Verifier checks tokens of one tenant. Safe for concurrent use.
type Verifier struct {
	o      Options
	tenant string
	meta   metadata
	parser *jwt.Parser

	mu        sync.RWMutex
	keys      map[string]jose.JSONWebKey
	refreshed time.Time

	deny *revocation.DenyList
	// seen caches tokens whose signature, issuer and audience checked out,
	// by the SHA-256 of the token; expiry and revocation are checked on
	// every use.
	seenMu sync.Mutex
	seen   map[[32]byte]*claims.Claims
	cursor int64
	synced chan struct{} // closed after the first feed page was applied
	stop   context.CancelFunc
	done   chan struct{}
}

type metadata struct {
	Issuer        string `json:"issuer"`
	JWKSURI       string `json:"jwks_uri"`
	Introspection string `json:"introspection_endpoint"`
}

// New fetches the issuer's discovery document and JWKS and, with client
// credentials, starts following the revocation feed. Close stops it.
func New(ctx context.Context, o Options) (*Verifier, error) {
	if o.Issuer == "" || o.Audience == "" || len(o.Algorithms) == 0 {
		return nil, errors.New("verify: Issuer, Audience and Algorithms are required")
	}
	for _, a := range o.Algorithms {
		if a == "" || strings.EqualFold(a, "none") || strings.HasPrefix(a, "HS") {
			return nil, fmt.Errorf("verify: algorithm %q cannot be verified with a public JWKS", a)
		}
	}
	if o.HTTPClient == nil {
		o.HTTPClient = &http.Client{Timeout: 30 * time.Second}
	}
	if o.Leeway == 0 {
		o.Leeway = 30 * time.Second
	}
	if o.RefreshEvery <= 0 {
		o.RefreshEvery = 5 * time.Second
	}
	o.Issuer = strings.TrimSuffix(o.Issuer, "/")
	i := strings.LastIndex(o.Issuer, "/t/")
	if i < 0 {
		return nil, fmt.Errorf("verify: %q is not a tokend issuer ({public_url}/t/{tenant})", o.Issuer)
	}
	v := &Verifier{o: o, tenant: o.Issuer[i+3:], deny: revocation.NewDenyList(), synced: make(chan struct{}), done: make(chan struct{}),
		seen: map[[32]byte]*claims.Claims{}}
	v.parser = jwt.NewParser(jwt.WithValidMethods(o.Algorithms), jwt.WithIssuer(o.Issuer), jwt.WithAudience(o.Audience),
		jwt.WithLeeway(o.Leeway), jwt.WithIssuedAt(), jwt.WithStrictDecoding())
	if err := v.getJSON(ctx, o.Issuer+"/.well-known/openid-configuration", false, &v.meta); err != nil {
		return nil, fmt.Errorf("verify: discovery: %w", err)
	}
	if v.meta.Issuer != o.Issuer || v.meta.JWKSURI == "" {
		return nil, fmt.Errorf("verify: discovery names issuer %q, want %q", v.meta.Issuer, o.Issuer)
	}
	if err := v.refresh(ctx); err != nil {
		return nil, err
	}
	fctx, cancel := context.WithCancel(context.Background())
	v.stop = cancel
	if o.ClientID != "" {
		go v.follow(fctx)
	} else {
		close(v.synced)
		close(v.done)
	}
	return v, nil
}

// Close stops following the revocation feed.
func (v *Verifier) Close() {
	v.stop()
	<-v.done
}

// Synced is closed once the revocations known at start have been loaded.
func (v *Verifier) Synced() <-chan struct{} { return v.synced }

// getJSON fetches u into out, authenticated as the client when auth is set.
func (v *Verifier) getJSON(ctx context.Context, u string, auth bool, out any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	if auth {
		req.SetBasicAuth(url.QueryEscape(v.o.ClientID), url.QueryEscape(v.o.ClientSecret))
	}
	resp, err := v.o.HTTPClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return fmt.Errorf("GET %s: %s %s", u, resp.Status, b)
	}
	return json.NewDecoder(io.LimitReader(resp.Body, 8<<20)).Decode(out)
}

// refresh reloads the JWKS.
func (v *Verifier) refresh(ctx context.Context) error {
	var set jose.JSONWebKeySet
	if err := v.getJSON(ctx, v.meta.JWKSURI, false, &set); err != nil {
		return fmt.Errorf("verify: jwks: %w", err)
	}
	keys := make(map[string]jose.JSONWebKey, len(set.Keys))
	for _, k := range set.Keys {
		if k.IsPublic() && k.KeyID != "" {
			keys[k.KeyID] = k
		}
	}
	v.mu.Lock()
	v.keys, v.refreshed = keys, time.Now()
	v.mu.Unlock()
	return nil
}

// key returns the public key of kid, refreshing the JWKS (at most once
// per RefreshEvery) when kid is unknown.
func (v *Verifier) key(ctx context.Context, kid string) (jose.JSONWebKey, bool) {
	v.mu.RLock()
	k, ok := v.keys[kid]
	recent := time.Since(v.refreshed) < v.o.RefreshEvery
	v.mu.RUnlock()
	if ok || recent {
		return k, ok
	}
	if err := v.refresh(ctx); err != nil {
		return k, false
	}
	v.mu.RLock()
	defer v.mu.RUnlock()
	k, ok = v.keys[kid]
	return k, ok
}

// LeagueType is the "typ" header of tokend's league-profile tokens, which
// carry no kid (the shape league/oauth2-server gives its access tokens).
const LeagueType = "JWT"

// keysOf returns the published keys whose algorithm is alg, for a token
// without kid, refreshing the JWKS (rate-limited) when there is none.
func (v *Verifier) keysOf(ctx context.Context, alg string) (any, error) {
	pick := func() jwt.VerificationKeySet {
		v.mu.RLock()
		defer v.mu.RUnlock()
		var set jwt.VerificationKeySet
		for _, k := range v.keys {
			if k.Algorithm == alg {
				set.Keys = append(set.Keys, k.Key)
			}
		}
		return set
	}
	set := pick()
	if len(set.Keys) == 0 {
		v.mu.RLock()
		recent := time.Since(v.refreshed) < v.o.RefreshEvery
		v.mu.RUnlock()
		if !recent && v.refresh(ctx) == nil {
			set = pick()
		}
	}
	if len(set.Keys) == 0 {
		return nil, errors.New("no key of the token's algorithm")
	}
	return set, nil
}

// Verify checks a token and returns its claims, or an *Error. A tokend
// access token has header typ at+jwt and a kid; one of the league profile
// (typ JWT, no kid) is checked against each published key of its
// algorithm.
func (v *Verifier) Verify(ctx context.Context, raw string) (*claims.Claims, error) {
	if raw == "" {
		return nil, invalid("no token")
	}
	if strings.HasPrefix(raw, "tkd_") || strings.HasPrefix(raw, "def50200") || claims.IsCompactHS256(raw) {
		return v.introspect(ctx, raw)
	}
	key := sha256.Sum256([]byte(raw))
	v.seenMu.Lock()
	hit := v.seen[key]
	v.seenMu.Unlock()
	if hit != nil {
		if hit.ExpiresAt != 0 && time.Now().Add(-v.o.Leeway).Unix() >= hit.ExpiresAt {
			return nil, invalid("token expired")
		}
		if why := v.revoked(hit); why != "" {
			return nil, invalid("%s", why)
		}
		out := *hit
		return &out, nil
	}
	var c jwtClaims
	_, err := v.parser.ParseWithClaims(raw, &c, func(t *jwt.Token) (any, error) {
		typ, _ := t.Header["typ"].(string)
		kid, hasKID := t.Header["kid"].(string)
		league := typ == LeagueType && !hasKID
		if !strings.EqualFold(typ, claims.JWTType) && !league {
			return nil, errors.New("typ is not at+jwt")
		}
		if err := claims.CheckHeader(t.Header); err != nil {
			return nil, err
		}
		if league {
			return v.keysOf(ctx, t.Method.Alg())
		}
		k, ok := v.key(ctx, kid)
		if !ok {
			return nil, errors.New("unknown kid")
		}
		if k.Algorithm != "" && k.Algorithm != t.Method.Alg() {
			return nil, errors.New("algorithm does not match the key")
		}
		return k.Key, nil
	})
	if errors.Is(err, jwt.ErrTokenInvalidAudience) {
		return nil, audienceMismatch(v.o.Audience)
	}
	if err != nil {
		return nil, invalid("%s", describe(err))
	}
	out := claims.Claims(c)
	v.remember(key, &out)
	if why := v.revoked(&out); why != "" {
		return nil, invalid("%s", why)
	}
	return &out, nil
}

// remember caches a verified token, bounded to 65536 entries.
func (v *Verifier) remember(key [32]byte, c *claims.Claims) {
	cp := *c
	v.seenMu.Lock()
	defer v.seenMu.Unlock()
	if len(v.seen) >= 65536 {
		for k := range v.seen {
			delete(v.seen, k)
			break
		}
	}
	v.seen[key] = &cp
}

func (v *Verifier) revoked(c *claims.Claims) string {
	issued, ok := revocation.TimeOfID(c.ID)
	if !ok {
		issued = time.Unix(c.IssuedAt, 0)
	}
	return v.deny.Reason(revocation.Presented{Tenant: v.tenant, ID: c.ID, IssuedAt: issued,
		SubjectType: c.SubjectType, Subject: c.SubjectKey(), SessionID: c.SessionID, ClientID: c.ClientID})
}

// introspect asks tokend about an opaque token (RFC 7662).
func (v *Verifier) introspect(ctx context.Context, raw string) (*claims.Claims, error) {
	if v.o.ClientID == "" || v.meta.Introspection == "" {
		return nil, invalid("opaque tokens need introspection (configure ClientID and ClientSecret)")
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, v.meta.Introspection, strings.NewReader(url.Values{"token": {raw}}.Encode()))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(url.QueryEscape(v.o.ClientID), url.QueryEscape(v.o.ClientSecret))
	resp, err := v.o.HTTPClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("verify: introspection: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("verify: introspection: %s", resp.Status)
	}
	var r struct {
		Active bool `json:"active"`
		claims.Claims
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&r); err != nil {
		return nil, fmt.Errorf("verify: introspection: %w", err)
	}
	if !r.Active {
		return nil, invalid("token is not active")
	}
	if r.Issuer != v.o.Issuer {
		return nil, invalid("wrong issuer")
	}
	if err := CheckAudience(&r.Claims, v.o.Audience); err != nil {
		return nil, err
	}
	return &r.Claims, nil
}

// follow long-polls the revocation feed until Close.
func (v *Verifier) follow(ctx context.Context) {
	defer close(v.done)
	first := true
	for ctx.Err() == nil {
		var page struct {
			Items []revocation.Entry `json:"items"`
		}
		wait := 10
		if first {
			wait = 0
		}
		u := fmt.Sprintf("%s/revocations?after=%d&wait=%d", v.o.Issuer, v.cursor, wait)
		if err := v.getJSON(ctx, u, true, &page); err != nil {
			select {
			case <-ctx.Done():
			case <-time.After(time.Second):
			}
			continue
		}
		v.deny.Apply(page.Items...)
		if n := len(page.Items); n > 0 {
			v.cursor = page.Items[n-1].Seq
			v.deny.Prune(time.Now())
		}
		if first && len(page.Items) < 1000 {
			first = false
			close(v.synced)
		}
	}
	if first {
		close(v.synced)
	}
}

func describe(err error) string {
	switch {
	case errors.Is(err, jwt.ErrTokenExpired):
		return "token expired"
	case errors.Is(err, jwt.ErrTokenNotValidYet), errors.Is(err, jwt.ErrTokenUsedBeforeIssued):
		return "token not valid yet"
	case errors.Is(err, jwt.ErrTokenInvalidIssuer):
		return "wrong issuer"
	case errors.Is(err, jwt.ErrTokenSignatureInvalid):
		return "bad signature"
	case errors.Is(err, jwt.ErrTokenMalformed):
		return "malformed token"
	case errors.Is(err, claims.ErrCritical):
		return "unsupported critical header"
	}
	return "invalid token"
}

// jwtClaims adapts claims.Claims to jwt.Claims.
type jwtClaims claims.Claims

func numeric(v int64) (*jwt.NumericDate, error) {
	if v == 0 {
		return nil, nil
	}
	return jwt.NewNumericDate(time.Unix(v, 0)), nil
}

func (c *jwtClaims) GetExpirationTime() (*jwt.NumericDate, error) { return numeric(c.ExpiresAt) }
func (c *jwtClaims) GetIssuedAt() (*jwt.NumericDate, error)       { return numeric(c.IssuedAt) }
func (c *jwtClaims) GetNotBefore() (*jwt.NumericDate, error)      { return numeric(c.NotBefore) }
func (c *jwtClaims) GetIssuer() (string, error)                   { return c.Issuer, nil }
func (c *jwtClaims) GetSubject() (string, error)                  { return c.Subject, nil }
func (c *jwtClaims) GetAudience() (jwt.ClaimStrings, error) {
	return jwt.ClaimStrings(c.Audience), nil
}
