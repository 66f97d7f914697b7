package keys

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/golang-jwt/jwt/v5"
	"go.opentelemetry.io/otel/trace"

	"github.com/tokend/tokend/claims"
	"github.com/tokend/tokend/internal/fault"
	"github.com/tokend/tokend/internal/store"
	"github.com/tokend/tokend/internal/token"
	"github.com/tokend/tokend/internal/tracing"
)

// Options configure a Manager. Store, Master and Issuer are required.
type Options struct {
	Store  store.Store
	Master []byte
	// Issuer returns the issuer URL of a tenant; verification requires it.
	Issuer func(tenant string) string
	Now    func() time.Time
	// Leeway tolerates clock skew on exp, nbf and iat (default 30s).
	Leeway time.Duration
	// CacheSize bounds how many tenants' keys are kept parsed (default
	// 10000); the least useful are dropped first.
	CacheSize int
	// TTL is how long a tenant's loaded keys are trusted without a change
	// notice (default 5 minutes).
	TTL time.Duration
	// ReloadEvery limits reloads on an unknown kid per tenant (default 1s).
	ReloadEvery time.Duration
	// StaleFor is how long past TTL a tenant's last loaded keys are used
	// while the database is unavailable (default 0: not at all).
	StaleFor time.Duration
}

// While the database is unavailable, the reload of keys kept for stale use
// is bounded by staleProbe; after one fails, they are used for staleRetry
// without asking again.
const (
	staleProbe = time.Second
	staleRetry = time.Second
)

// Manager owns the signing keys of every tenant: it creates and rotates
// them, loads them lazily per tenant into a bounded cache, signs and
// verifies tokend JWTs, and serves each tenant's JWKS.
type Manager struct {
	o  Options
	mu sync.Mutex
	// cache holds each tenant's loaded key set; sets are immutable once
	// built, so readers use them without locking.
	cache map[string]*keySet
	// loads deduplicates concurrent loads of one tenant.
	loads map[string]*load
}

type load struct {
	done chan struct{}
	set  *keySet
	err  error
}

// keySet is one tenant's usable keys at one moment.
type keySet struct {
	active *parsed // signs; nil when the tenant has no key
	// next, of a staged rotation, signs instead of active from nextAt on.
	next   *parsed
	nextAt time.Time
	byKID  map[string]*parsed // verifies: active and still-published keys
	jwks   []byte             // public JWK Set (HS256 keys never appear)
	// legacy is the tenant's imported HMAC secret for compact HS256
	// tokens (store.KeyLegacy); nil when it has none.
	legacy []byte
	// named are the tenant's imported HMAC secrets of kid-named HS256
	// tokens (store.KeyLegacy with alg "HS256/<name>"), by name.
	named    map[string][]byte
	loadedAt time.Time
	// retryAt, on a set kept past TTL because a reload failed, is when
	// to try again.
	retryAt time.Time
}

// New returns a Manager.
func New(o Options) (*Manager, error) {
	if o.Store == nil || o.Issuer == nil {
		return nil, errors.New("keys: Store and Issuer are required")
	}
	if len(o.Master) != MasterSize {
		return nil, fmt.Errorf("keys: master key must be %d bytes", MasterSize)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Leeway == 0 {
		o.Leeway = 30 * time.Second
	}
	if o.CacheSize <= 0 {
		o.CacheSize = 10000
	}
	if o.TTL <= 0 {
		o.TTL = 5 * time.Minute
	}
	if o.ReloadEvery <= 0 {
		o.ReloadEvery = time.Second
	}
	return &Manager{o: o, cache: map[string]*keySet{}, loads: map[string]*load{}}, nil
}

// Ensure gives tenant an active key of alg if it has no active key.
func (m *Manager) Ensure(ctx context.Context, tenant, alg string) error {
	err := m.o.Store.Tx(ctx, func(st store.Store) error {
		l, err := st.Keys().List(ctx, tenant)
		if err != nil {
			return err
		}
		for _, k := range l {
			if k.State == store.KeyActive {
				return nil
			}
		}
		_, err = m.create(ctx, st, tenant, alg, store.KeyActive, nil)
		return err
	})
	m.Invalidate(tenant)
	return err
}

// Rotate gives the tenant a new signing key of alg.
//
// With stage > 0 the rotation is staged, so that no verifier ever meets
// a token signed by a key it has not fetched yet: the new key (KeyNext)
// is published in the JWKS at once and signs only from now+stage on,
// when the active key retires; stage must exceed the JWKS cache lifetime
// plus the time every replica takes to load the new key. A tenant has at
// most one pending rotation: another staged one is refused (a conflict
// fault).
//
// With stage 0 (an emergency rotation, when a key may be compromised) the
// new key signs at once and the active key, and any pending one, retire
// now; verifiers holding a cached JWKS refuse the new tokens until they
// fetch it again.
//
// Retired keys stay published for publishFor after they stopped signing
// (0: until deleted by hand, for tenants with eternal tokens), so tokens
// they signed still verify.
func (m *Manager) Rotate(ctx context.Context, tenant, alg string, publishFor, stage time.Duration) (store.Key, error) {
	var out store.Key
	err := m.o.Store.Tx(ctx, func(st store.Store) error {
		l, err := st.Keys().List(ctx, tenant)
		if err != nil {
			return err
		}
		now := m.now()
		if l, err = promote(ctx, st, l, now); err != nil {
			return err
		}
		retire := func(k store.Key, at time.Time) error {
			k.RetiredAt = &at
			k.PublishUntil = nil
			if publishFor > 0 {
				until := at.Add(publishFor)
				k.PublishUntil = &until
			}
			return st.Keys().Update(ctx, k)
		}
		if stage <= 0 {
			for _, k := range l {
				switch k.State {
				case store.KeyActive:
					k.State = store.KeyRetired
					if err := retire(k, now); err != nil {
						return err
					}
				case store.KeyNext: // never signed: leaves the JWKS now
					k.State, k.RetiredAt, k.PublishUntil, k.ActivateAt = store.KeyRetired, &now, &now, nil
					if err := st.Keys().Update(ctx, k); err != nil {
						return err
					}
				}
			}
			if _, err := st.Keys().DeleteExpired(ctx, tenant, now); err != nil {
				return err
			}
			out, err = m.create(ctx, st, tenant, alg, store.KeyActive, nil)
			return err
		}
		at := now.Add(stage)
		for _, k := range l {
			switch k.State {
			case store.KeyNext:
				return fault.Conflict("a staged rotation is pending: key %s signs from %s; wait until then, or rotate now",
					k.ID, k.ActivateAt.UTC().Format(time.RFC3339))
			case store.KeyActive: // signs until the new key does
				if err := retire(k, at); err != nil {
					return err
				}
			}
		}
		if _, err := st.Keys().DeleteExpired(ctx, tenant, now); err != nil {
			return err
		}
		out, err = m.create(ctx, st, tenant, alg, store.KeyNext, &at)
		if errors.Is(err, store.ErrConflict) {
			return fault.Conflict("another rotation was staged meanwhile; wait until its key signs, or rotate now")
		}
		return err
	})
	m.Invalidate(tenant)
	out.Private = nil
	return out, err
}

// promote completes the staged rotations of l, a tenant's keys, that are
// due at now: the next key becomes active and the keys it replaced are
// retired (their RetiredAt and PublishUntil were set when the rotation
// was staged). It returns the keys as they are afterwards.
func promote(ctx context.Context, st store.Store, l []store.Key, now time.Time) ([]store.Key, error) {
	var due *store.Key
	for i := range l {
		if k := &l[i]; k.State == store.KeyNext && k.ActivateAt != nil && !now.Before(*k.ActivateAt) {
			due = k
		}
	}
	if due == nil {
		return l, nil
	}
	for i := range l {
		k := &l[i]
		switch {
		case k == due:
			k.State = store.KeyActive
		case k.State == store.KeyActive && k.RetiredAt != nil && !now.Before(*k.RetiredAt):
			k.State = store.KeyRetired
		default:
			continue
		}
		if err := st.Keys().Update(ctx, *k); err != nil {
			return nil, err
		}
	}
	return l, nil
}

// Promote completes the tenant's staged rotation if it is due. Signing
// switches to the new key at its activation time whether or not this has
// run; it records the switch, so that the retired key can leave the JWKS
// in time.
func (m *Manager) Promote(ctx context.Context, tenant string) error {
	err := m.o.Store.Tx(ctx, func(st store.Store) error {
		l, err := st.Keys().List(ctx, tenant)
		if err != nil {
			return err
		}
		_, err = promote(ctx, st, l, m.now())
		return err
	})
	m.Invalidate(tenant)
	return err
}

// PromoteDue completes up to limit due staged rotations of every tenant
// and returns how many it completed.
func (m *Manager) PromoteDue(ctx context.Context, limit int) (int, error) {
	due, err := m.o.Store.Keys().Due(ctx, m.now(), limit)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, k := range due {
		if err := m.Promote(ctx, k.Tenant); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

func (m *Manager) create(ctx context.Context, st store.Store, tenant, alg, state string, activateAt *time.Time) (store.Key, error) {
	priv, pub, err := generate(alg)
	if err != nil {
		return store.Key{}, err
	}
	now := m.now()
	kid := token.NewTimeID(now)
	sealed, err := seal(m.o.Master, tenant, kid, priv)
	if err != nil {
		return store.Key{}, err
	}
	k := store.Key{Tenant: tenant, ID: kid, Alg: alg, State: state, Private: sealed, Public: pub, CreatedAt: now, ActivateAt: activateAt}
	return k, st.Keys().Create(ctx, k)
}

// Keys lists a tenant's keys without their private material.
func (m *Manager) Keys(ctx context.Context, tenant string) ([]store.Key, error) {
	l, err := m.o.Store.Keys().List(ctx, tenant)
	for i := range l {
		l[i].Private = nil
	}
	return l, err
}

// Invalidate drops a tenant's cached keys; the next use reloads them.
func (m *Manager) Invalidate(tenant string) {
	m.mu.Lock()
	delete(m.cache, tenant)
	m.mu.Unlock()
}

// Cached reports how many tenants have their keys loaded.
func (m *Manager) Cached() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.cache)
}

func (m *Manager) now() time.Time { return m.o.Now().UTC().Truncate(time.Microsecond) }

// set returns the tenant's key set, loading it when absent or past TTL.
// While the database is unavailable, a set at most StaleFor past TTL is
// used instead.
func (m *Manager) set(ctx context.Context, tenant string) (*keySet, error) {
	m.mu.Lock()
	now := m.o.Now()
	s, ok := m.cache[tenant]
	if !ok {
		return m.loadLocked(ctx, tenant)
	}
	switch age := now.Sub(s.loadedAt); {
	case age < m.o.TTL:
		m.mu.Unlock()
		return s, nil
	case age >= m.o.TTL+m.o.StaleFor:
		return m.loadLocked(ctx, tenant)
	case now.Before(s.retryAt):
		m.mu.Unlock()
		return s, nil
	}
	pctx, cancel := context.WithTimeout(ctx, staleProbe)
	defer cancel()
	fresh, err := m.loadLocked(pctx, tenant)
	if err == nil || !errors.Is(err, store.ErrUnavailable) || ctx.Err() != nil {
		return fresh, err
	}
	kept := *s
	kept.retryAt = m.o.Now().Add(staleRetry)
	m.mu.Lock()
	if m.cache[tenant] == s {
		m.cache[tenant] = &kept
	}
	m.mu.Unlock()
	return &kept, nil
}

// reload loads the tenant's keys again unless they were loaded within
// ReloadEvery; it serves verification of a kid the cache does not know.
func (m *Manager) reload(ctx context.Context, tenant string, seen *keySet) (*keySet, error) {
	m.mu.Lock()
	if s, ok := m.cache[tenant]; ok && (s != seen || m.o.Now().Sub(s.loadedAt) < m.o.ReloadEvery) {
		m.mu.Unlock()
		return s, nil
	}
	return m.loadLocked(ctx, tenant)
}

// loadLocked loads a tenant's keys; m.mu is held on entry and released.
// Concurrent callers for one tenant share one load.
func (m *Manager) loadLocked(ctx context.Context, tenant string) (*keySet, error) {
	if l, ok := m.loads[tenant]; ok {
		m.mu.Unlock()
		select {
		case <-l.done:
			return l.set, l.err
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	l := &load{done: make(chan struct{})}
	m.loads[tenant] = l
	m.mu.Unlock()

	l.set, l.err = m.build(ctx, tenant)

	m.mu.Lock()
	delete(m.loads, tenant)
	// Tenants without keys are not cached: unknown issuers must not be able
	// to push real tenants out of the cache.
	if l.err == nil && (len(l.set.byKID) > 0 || l.set.legacy != nil || len(l.set.named) > 0) {
		if len(m.cache) >= m.o.CacheSize {
			for k := range m.cache { // evict an arbitrary entry: O(1), no hot-spot bias
				delete(m.cache, k)
				break
			}
		}
		m.cache[tenant] = l.set
	}
	m.mu.Unlock()
	close(l.done)
	return l.set, l.err
}

func (m *Manager) build(ctx context.Context, tenant string) (*keySet, error) {
	rows, err := m.o.Store.Keys().List(ctx, tenant)
	if err != nil {
		return nil, err
	}
	now := m.o.Now()
	s := &keySet{byKID: map[string]*parsed{}, loadedAt: now}
	var pub jose.JSONWebKeySet
	for _, k := range rows { // newest first
		if k.State == store.KeyRetired && k.PublishUntil != nil && !now.Before(*k.PublishUntil) {
			continue
		}
		if k.State == store.KeyLegacyRetired {
			continue
		}
		plain, err := open(m.o.Master, tenant, k.ID, k.Private)
		if err != nil {
			return nil, fmt.Errorf("tenant %s key %s: %w", tenant, k.ID, err)
		}
		if k.State == store.KeyLegacy {
			// Never a kid of tokend's JWTs: whoever holds this secret
			// (the legacy application) must not be able to sign them.
			if name, ok := strings.CutPrefix(k.Alg, namedAlgPrefix); ok {
				if s.named == nil {
					s.named = map[string][]byte{}
				}
				if _, seen := s.named[name]; !seen {
					s.named[name] = plain
				}
				continue
			}
			if s.legacy == nil {
				s.legacy = plain
			}
			continue
		}
		p, err := parse(k.Alg, plain)
		if err != nil {
			return nil, fmt.Errorf("tenant %s key %s: %w", tenant, k.ID, err)
		}
		p.kid = k.ID
		p.header = encodeHeader(p.alg, p.kid)
		p.untyped = encodeUntyped(p.alg)
		s.byKID[k.ID] = p
		if k.State == store.KeyActive && s.active == nil {
			s.active = p
		}
		if k.State == store.KeyNext && k.ActivateAt != nil && s.next == nil {
			s.next, s.nextAt = p, *k.ActivateAt
		}
		if p.public != nil {
			pub.Keys = append(pub.Keys, jose.JSONWebKey{Key: p.public, KeyID: k.ID, Algorithm: k.Alg, Use: "sig"})
		}
	}
	if pub.Keys == nil {
		pub.Keys = []jose.JSONWebKey{}
	}
	if s.jwks, err = json.Marshal(pub); err != nil {
		return nil, err
	}
	return s, nil
}

// signer is the key that signs at now: the next key of a staged rotation
// from its activation time on, else the active key. Every replica
// switches at that time, whenever it loaded the set.
func (s *keySet) signer(now time.Time) *parsed {
	if s.next != nil && !now.Before(s.nextAt) {
		return s.next
	}
	if s.active == nil {
		return s.next
	}
	return s.active
}

func encodeHeader(alg, kid string) string {
	h, _ := json.Marshal(struct {
		Alg string `json:"alg"`
		Typ string `json:"typ"`
		Kid string `json:"kid"`
	}{alg, claims.JWTType, kid})
	return base64.RawURLEncoding.EncodeToString(h)
}

// LeagueType is the "typ" header of league-profile tokens
// (store.ProfileLeague), as lcobucci/jwt writes it for league/oauth2-server.
const LeagueType = "JWT"

// encodeUntyped is the league-profile header: {"typ":"JWT","alg":...} in
// that order, without kid, byte for byte what league's clients see.
func encodeUntyped(alg string) string {
	h, _ := json.Marshal(struct {
		Typ string `json:"typ"`
		Alg string `json:"alg"`
	}{LeagueType, alg})
	return base64.RawURLEncoding.EncodeToString(h)
}

// JWKS returns the tenant's public JWK Set (RFC 7517 §5) and whether the
// tenant has any key at all.
func (m *Manager) JWKS(ctx context.Context, tenant string) ([]byte, bool, error) {
	s, err := m.set(ctx, tenant)
	if err != nil {
		return nil, false, err
	}
	return s.jwks, len(s.byKID) > 0, nil
}

// Sign signs c with the tenant's active key as an RFC 9068 access token
// (header typ "at+jwt" and the key's kid).
func (m *Manager) Sign(ctx context.Context, tenant string, c *claims.Claims) (string, error) {
	return m.sign(ctx, tenant, c, false)
}

// SignLeague signs c with the tenant's active key under the league
// profile's header (see encodeUntyped): verifiers find the key by trying
// each published key of the header's algorithm.
func (m *Manager) SignLeague(ctx context.Context, tenant string, c *claims.Claims) (string, error) {
	return m.sign(ctx, tenant, c, true)
}

func (m *Manager) sign(ctx context.Context, tenant string, c *claims.Claims, league bool) (string, error) {
	if tracing.Enabled() {
		var span trace.Span
		ctx, span = tracing.Child(ctx, "keys.sign")
		defer span.End()
	}
	s, err := m.set(ctx, tenant)
	if err != nil {
		return "", err
	}
	k := s.signer(m.o.Now())
	if k == nil {
		return "", fmt.Errorf("keys: tenant %s has no active signing key", tenant)
	}
	payload, err := json.Marshal(c)
	if err != nil {
		return "", err
	}
	header := k.header
	if league {
		header = k.untyped
	}
	var b strings.Builder
	b.Grow(len(header) + base64.RawURLEncoding.EncodedLen(len(payload)) + 400)
	b.WriteString(header)
	b.WriteByte('.')
	b.WriteString(base64.RawURLEncoding.EncodeToString(payload))
	signing := b.String()
	sig, err := k.method.Sign(signing, k.sign)
	if err != nil {
		return "", err
	}
	return signing + "." + base64.RawURLEncoding.EncodeToString(sig), nil
}

// Verify checks a JWT issued by tenant: typ at+jwt, a kid of one of the
// tenant's published keys with that key's algorithm (an allow-list, never
// "none"), or, for a league-profile token (typ JWT and no kid), one of
// the published keys of the header's algorithm; the signature, the tenant's issuer, and exp/nbf/iat with the
// configured leeway. Failures are invalid_token faults; a store that
// cannot be read is an unavailable fault.
func (m *Manager) Verify(ctx context.Context, tenant, raw string) (*claims.Claims, error) {
	s, err := m.set(ctx, tenant)
	if err != nil {
		return nil, fault.Unavailable(err)
	}
	var c jwtClaims
	var unknownKID bool
	parse := func(s *keySet) error {
		if len(s.byKID) == 0 {
			return fault.InvalidToken("unknown issuer")
		}
		// The allow-list is every algorithm tokend signs with; the key
		// named by kid then pins the one algorithm it accepts.
		// Strict decoding: a segment whose unused trailing bits are set is
		// not the token that was signed (RFC 4648 §3.5).
		p := jwt.NewParser(jwt.WithValidMethods(supported), jwt.WithIssuer(m.o.Issuer(tenant)),
			jwt.WithLeeway(m.o.Leeway), jwt.WithIssuedAt(), jwt.WithTimeFunc(m.o.Now), jwt.WithStrictDecoding())
		c = jwtClaims{}
		_, err := p.ParseWithClaims(raw, &c, func(t *jwt.Token) (any, error) {
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
				// Only the tenant's own keys of the header's algorithm,
				// each pinned to its algorithm as a kid would pin it.
				var set jwt.VerificationKeySet
				for _, k := range s.byKID {
					if k.alg == t.Method.Alg() {
						set.Keys = append(set.Keys, k.verify)
					}
				}
				if len(set.Keys) == 0 {
					return nil, errors.New("no key of the token's algorithm")
				}
				return set, nil
			}
			k, ok := s.byKID[kid]
			if !ok {
				unknownKID = true
				return nil, errors.New("unknown kid")
			}
			if t.Method.Alg() != k.alg {
				return nil, errors.New("algorithm does not match the key")
			}
			return k.verify, nil
		})
		return err
	}
	err = parse(s)
	if err != nil && unknownKID {
		// A key made by another replica since we loaded: reload, rate-limited.
		if s2, lerr := m.reload(ctx, tenant, s); lerr == nil && s2 != s {
			unknownKID = false
			err = parse(s2)
		}
	}
	if err != nil {
		if fault.As(err) != nil {
			return nil, err
		}
		return nil, fault.InvalidToken("%s", describe(err)).WithCause(err).WithReason(reasonOf(err))
	}
	out := claims.Claims(c)
	return &out, nil
}

// describe turns a jwt error into a short, safe description.
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

// reasonOf refines a verification failure for surfaces that tell them
// apart (seed 001's GraphQL messages): expired, bad signature, or
// malformed; "" for any other.
func reasonOf(err error) fault.Reason {
	switch {
	case errors.Is(err, jwt.ErrTokenExpired):
		return fault.ReasonExpired
	case errors.Is(err, jwt.ErrTokenSignatureInvalid):
		return fault.ReasonSignature
	case errors.Is(err, jwt.ErrTokenMalformed):
		return fault.ReasonMalformed
	}
	return ""
}

// PeekIssuer returns the unverified "iss" of a JWT, to pick the tenant
// whose keys verify it. Nothing else of the token is trusted.
func PeekIssuer(raw string) (string, error) {
	first := strings.IndexByte(raw, '.')
	if first < 0 {
		return "", errors.New("keys: not a JWT")
	}
	rest := raw[first+1:]
	second := strings.IndexByte(rest, '.')
	if second < 0 || strings.IndexByte(rest[second+1:], '.') >= 0 || len(rest) > 16<<10 {
		return "", errors.New("keys: not a JWT")
	}
	payload, err := base64.RawURLEncoding.DecodeString(rest[:second])
	if err != nil {
		return "", errors.New("keys: not a JWT")
	}
	var v struct {
		Iss string `json:"iss"`
	}
	if err := json.Unmarshal(payload, &v); err != nil || v.Iss == "" {
		return "", errors.New("keys: no issuer")
	}
	return v.Iss, nil
}

// jwtClaims adapts claims.Claims to jwt.Claims for validation.
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

// SealSecret seals a secret tokend must read back later (a signing secret
// of signed requests), bound to the tenant and to name: sealed material
// moved to another tenant or name does not open.
func (m *Manager) SealSecret(tenant, name string, plain []byte) ([]byte, error) {
	return seal(m.o.Master, tenant, "secret:"+name, plain)
}

// OpenSecret opens what SealSecret sealed.
func (m *Manager) OpenSecret(tenant, name string, sealed []byte) ([]byte, error) {
	return open(m.o.Master, tenant, "secret:"+name, sealed)
}
