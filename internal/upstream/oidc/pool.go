package oidc

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/go-jose/go-jose/v4"
)

// Pool holds what is known of every provider asked: discovery, keys and
// introspection answers. It is safe for concurrent use.
type Pool struct {
	o      Options
	g      *guard
	client *http.Client

	mu      sync.Mutex
	issuers map[string]*issuer

	imu      sync.Mutex
	answers  map[[32]byte]answer
	maxCache int
}

// New returns a Pool.
func New(o Options) *Pool {
	o.defaults()
	p := &Pool{o: o, issuers: map[string]*issuer{}, answers: map[[32]byte]answer{}, maxCache: 10000}
	p.g = &guard{o: &p.o, ages: map[string]time.Duration{}}
	p.client = &http.Client{Transport: p.g, Timeout: o.Timeout, CheckRedirect: func(r *http.Request, via []*http.Request) error {
		if len(via) >= 3 {
			return fmt.Errorf("%w: more than 3 redirects", ErrUnavailable)
		}
		return p.o.CheckURL(r.URL)
	}}
	return p
}

// issuer is one provider's discovery and key set.
type issuer struct {
	url string

	mu         sync.Mutex
	jwksURI    string
	discovered time.Time
	discTTL    time.Duration
	keys       []jose.JSONWebKey
	keysAt     time.Time
	keysTTL    time.Duration
	lastFetch  time.Time
}

func (p *Pool) issuer(u string) *issuer {
	p.mu.Lock()
	defer p.mu.Unlock()
	is, ok := p.issuers[u]
	if !ok {
		if len(p.issuers) > 10000 {
			clear(p.issuers)
		}
		is = &issuer{url: u}
		p.issuers[u] = is
	}
	return is
}

// Verify checks raw, a JWT of issuerURL, with the issuer's published keys
// through go-oidc (issuer compared exactly, alg on algs, signature) and
// returns its payload. Expiry and audience are the caller's to check.
func (p *Pool) Verify(ctx context.Context, issuerURL string, algs []string, raw string) ([]byte, error) {
	if len(algs) == 0 {
		return nil, errors.New("upstream: an algorithm list is required")
	}
	u, err := url.Parse(issuerURL)
	if err != nil {
		return nil, fmt.Errorf("%w: issuer URL: %v", ErrUnavailable, err)
	}
	if err := p.o.CheckURL(u); err != nil {
		return nil, err
	}
	is := p.issuer(issuerURL)
	if err := p.ensureKeys(ctx, is); err != nil {
		return nil, err
	}
	var fetchErr error
	ks := &keySet{p: p, is: is, fetchErr: &fetchErr}
	v := oidc.NewVerifier(issuerURL, ks, &oidc.Config{SkipClientIDCheck: true, SkipExpiryCheck: true, SupportedSigningAlgs: algs,
		Now: p.o.Now})
	tok, err := v.Verify(ctx, raw)
	if fetchErr != nil {
		return nil, fetchErr
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrRejected, err)
	}
	var payload json.RawMessage
	if err := tok.Claims(&payload); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrRejected, err)
	}
	return payload, nil
}

// ensureKeys discovers the issuer (go-oidc: the document's issuer must be
// the one asked) and loads its key set when either has expired.
func (p *Pool) ensureKeys(ctx context.Context, is *issuer) error {
	is.mu.Lock()
	defer is.mu.Unlock()
	now := p.o.Now()
	if is.jwksURI == "" || now.Sub(is.discovered) > is.discTTL {
		prov, err := oidc.NewProvider(oidc.ClientContext(ctx, p.client), is.url)
		if err != nil {
			return fmt.Errorf("%w: discovery of %s: %v", ErrUnavailable, is.url, err)
		}
		var meta struct {
			JWKSURI string `json:"jwks_uri"`
		}
		if err := prov.Claims(&meta); err != nil || meta.JWKSURI == "" {
			return fmt.Errorf("%w: discovery of %s names no jwks_uri", ErrUnavailable, is.url)
		}
		ju, err := url.Parse(meta.JWKSURI)
		if err != nil {
			return fmt.Errorf("%w: jwks_uri: %v", ErrUnavailable, err)
		}
		if err := p.o.CheckURL(ju); err != nil {
			return err
		}
		if meta.JWKSURI != is.jwksURI {
			is.keys = nil
		}
		is.jwksURI, is.discovered = meta.JWKSURI, now
		is.discTTL = p.g.ttl(strings.TrimSuffix(is.url, "/") + "/.well-known/openid-configuration")
	}
	if is.keys == nil || now.Sub(is.keysAt) > is.keysTTL {
		return p.fetchKeys(ctx, is, now)
	}
	return nil
}

// fetchKeys loads the key set; is.mu is held.
func (p *Pool) fetchKeys(ctx context.Context, is *issuer, now time.Time) error {
	is.lastFetch = now
	b, err := p.get(ctx, is.jwksURI)
	if err != nil {
		return err
	}
	var set struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(b, &set); err != nil {
		return fmt.Errorf("%w: the JWKS of %s is not a key set: %v", ErrUnavailable, is.url, err)
	}
	if len(set.Keys) > p.o.MaxKeys {
		return fmt.Errorf("%w: the JWKS of %s holds %d keys, more than the %d accepted", ErrUnavailable, is.url, len(set.Keys), p.o.MaxKeys)
	}
	keys := make([]jose.JSONWebKey, 0, len(set.Keys))
	for _, raw := range set.Keys {
		var k jose.JSONWebKey
		if err := k.UnmarshalJSON(raw); err != nil {
			continue // a key of a type go-jose does not know is skipped (RFC 7517 §5)
		}
		if !k.IsPublic() || k.Use == "enc" {
			continue
		}
		keys = append(keys, k)
	}
	is.keys, is.keysAt, is.keysTTL = keys, now, p.g.ttl(is.jwksURI)
	return nil
}

// keySet is the go-oidc KeySet of one verification: it verifies with the
// cached keys, refetching them on an unknown kid at most once per
// RefreshInterval, and reports a failed fetch through fetchErr.
type keySet struct {
	p        *Pool
	is       *issuer
	fetchErr *error
}

func (k *keySet) VerifySignature(ctx context.Context, raw string) ([]byte, error) {
	jws, err := splitCompact(raw)
	if err != nil {
		return nil, err
	}
	k.is.mu.Lock()
	keys := k.is.keys
	k.is.mu.Unlock()
	if b, ok := verifyWith(jws, keys); ok {
		return b, nil
	}
	// An unknown kid may be a key the provider rotated in since.
	k.is.mu.Lock()
	now := k.p.o.Now()
	if now.Sub(k.is.lastFetch) >= k.p.o.RefreshInterval && hasNoKid(keys, jws.kid) {
		if err := k.p.fetchKeys(ctx, k.is, now); err != nil {
			*k.fetchErr = err
			k.is.mu.Unlock()
			return nil, err
		}
	}
	keys = k.is.keys
	k.is.mu.Unlock()
	if b, ok := verifyWith(jws, keys); ok {
		return b, nil
	}
	return nil, errors.New("no published key of the issuer verifies the signature")
}

func hasNoKid(keys []jose.JSONWebKey, kid string) bool {
	return kid == "" || !slices.ContainsFunc(keys, func(k jose.JSONWebKey) bool { return k.KeyID == kid })
}

func verifyWith(jws *compact, keys []jose.JSONWebKey) ([]byte, bool) {
	for _, key := range keys {
		if jws.kid != "" && key.KeyID != jws.kid || key.Algorithm != "" && key.Algorithm != jws.alg {
			continue
		}
		if b, ok := jws.verify(key); ok {
			return b, true
		}
	}
	return nil, false
}

// answer is a cached introspection answer.
type answer struct {
	claims map[string]any
	until  time.Time
}

// Introspect asks endpoint about raw (RFC 7662 §2.1) with HTTP Basic
// client authentication and returns the answer's claims when active is
// true; an inactive answer is ErrRejected. Active answers are cached until
// the earlier of the token's exp and IntrospectionTTL.
func (p *Pool) Introspect(ctx context.Context, endpoint, clientID string, secret []byte, raw string) (map[string]any, error) {
	u, err := url.Parse(endpoint)
	if err != nil {
		return nil, fmt.Errorf("%w: introspection URL: %v", ErrUnavailable, err)
	}
	if err := p.o.CheckURL(u); err != nil {
		return nil, err
	}
	key := sha256.Sum256([]byte(endpoint + "\x00" + clientID + "\x00" + raw))
	now := p.o.Now()
	p.imu.Lock()
	if a, ok := p.answers[key]; ok && now.Before(a.until) {
		p.imu.Unlock()
		return clone(a.claims), nil
	}
	p.imu.Unlock()
	form := url.Values{"token": {raw}, "token_type_hint": {"access_token"}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	// RFC 6749 §2.3.1: both parts form-encoded before Basic.
	req.SetBasicAuth(url.QueryEscape(clientID), url.QueryEscape(string(secret)))
	resp, err := p.client.Do(req)
	if err != nil {
		return nil, unavailable(err)
	}
	defer resp.Body.Close()
	dec := json.NewDecoder(resp.Body)
	dec.UseNumber()
	var m map[string]any
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%w: introspection at %s answered %s", ErrUnavailable, u.Redacted(), resp.Status)
	}
	if err := dec.Decode(&m); err != nil || m == nil {
		return nil, fmt.Errorf("%w: introspection at %s: not a JSON object: %v", ErrUnavailable, u.Redacted(), err)
	}
	active, ok := m["active"].(bool)
	if !ok {
		return nil, fmt.Errorf("%w: introspection at %s answered without a boolean active", ErrUnavailable, u.Redacted())
	}
	if !active {
		return nil, fmt.Errorf("%w: not active", ErrRejected)
	}
	until := now.Add(p.o.IntrospectionTTL)
	if n, ok := m["exp"].(json.Number); ok {
		if e, err := n.Int64(); err == nil && time.Unix(e, 0).Before(until) {
			until = time.Unix(e, 0)
		}
	}
	p.imu.Lock()
	if len(p.answers) >= p.maxCache {
		for k, a := range p.answers {
			if !now.Before(a.until) {
				delete(p.answers, k)
			}
		}
		if len(p.answers) >= p.maxCache {
			clear(p.answers)
		}
	}
	p.answers[key] = answer{claims: m, until: until}
	p.imu.Unlock()
	return clone(m), nil
}

// clone copies the top level of m, so a caller's changes stay its own.
func clone(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		if sub, ok := v.(map[string]any); ok {
			v = clone(sub)
		}
		out[k] = v
	}
	return out
}
