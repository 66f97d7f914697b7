// Package revocation is the wire shape of tokend's revocation feed and the
// in-memory deny-list built from it. tokend replicas and resource servers
// (through package verify) keep the same list in step with the feed, so
// checking whether a token is revoked costs a few map lookups and no I/O.
// It imports nothing from tokend's internals.
package revocation

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/binary"
	"encoding/hex"
	"math"
	"strings"
	"sync"
	"time"
)

// Presented is what the deny-list needs to know of a presented token.
type Presented struct {
	Tenant   string
	ID       string
	IssuedAt time.Time // microsecond precision
	// SubjectType and Subject name the token's subject (claims sub_type
	// and sub): subject entries match both. A token without SubjectType
	// matches a subject entry of any type.
	SubjectType string
	Subject     string
	SessionID   string
	ClientID    string
	FamilyID    string
}

// Scopes of revocation entries. A Token entry names one token id; the
// others are cutoffs: every token of that subject, session, client, refresh
// family or whole tenant issued before Cutoff is revoked, none after it.
const (
	Token   = "token"
	Subject = "subject"
	Session = "session"
	Client  = "client"
	Family  = "family"
	Tenant  = "tenant"
)

// Entry is one entry of the ordered revocation log, as the feed
// /t/{tenant}/revocations serves it.
type Entry struct {
	Seq    int64  `json:"seq"`
	Tenant string `json:"tenant"`
	Scope  string `json:"scope"`
	// SubjectType is the type of the subject a Subject entry names (user,
	// client, device, customer): subjects of different types may share an
	// id, and an entry revokes only the one of its type. A Subject entry
	// without it (logged before subject types were recorded, or read by an
	// older consumer that ignores the field) revokes every subject with
	// the id: it errs on the side of revoking.
	SubjectType string    `json:"subject_type,omitempty"`
	Key         string    `json:"key,omitempty"`
	Cutoff      time.Time `json:"cutoff"` // microsecond precision
	// Until is when the entry stops mattering (every token it can match
	// has expired); nil keeps it.
	Until *time.Time `json:"until,omitempty"`
}

// IDAlphabet is the sorted base32 alphabet of tokend ids, so that ids
// made by time sort by time.
const IDAlphabet = "0123456789abcdefghijklmnopqrstuv"

var idEncoding = base32.NewEncoding(IDAlphabet).WithPadding(base32.NoPadding)

// TimeOfID returns the issue time, to the microsecond, carried in the first
// 8 bytes of a tokend token id (jti): 26 base32 characters, or 80
// lowercase hex digits in the ids of tokens shaped as league/oauth2-server
// makes them. Cutoffs compare against it, which is what makes them exact
// within a second.
//
// A compact HS256 token (a Knock store token) carries the same 16 bytes as
// 32 lowercase hex characters; its time is read the same way. A jti that a
// legacy application generated has that shape too but no time in it:
// tokend revokes such a token by id, never by a cutoff alone.
func TimeOfID(id string) (time.Time, bool) {
	var b []byte
	var err error
	switch len(id) {
	case 26:
		b, err = idEncoding.DecodeString(id)
	case 32, 80:
		if strings.ToLower(id) != id {
			return time.Time{}, false
		}
		b, err = hex.DecodeString(id)
	default:
		return time.Time{}, false
	}
	if err != nil || len(b) < 16 {
		return time.Time{}, false
	}
	return time.UnixMicro(int64(binary.BigEndian.Uint64(b[:8]))).UTC(), true
}

// DenyList is the in-memory image of the revocation log. Safe for
// concurrent use; readers never wait for I/O.
//
// Token entries, which are nearly all of a large list, are held without
// pointers (a 16-byte key and two int64 times in one map, and a slice
// ordered by prune time), so a garbage collection does not scan them and
// each costs tens of bytes rather than hundreds.
type DenyList struct {
	mu      sync.RWMutex
	tenants map[string]*tenantDeny
	last    int64
}

type tenantDeny struct {
	tokens map[tokenKey]tokenRev
	// expiring is a min-heap of the tokens with a prune time, by that time.
	// A token's prune time only rises; an element whose time is below the
	// token's is pushed again with it when it reaches the top.
	expiring []tokenExp
	cutoffs  map[string]map[string]time.Time // scope (not Token, Subject) → key → cutoff
	// subjects holds the Subject cutoffs: id → subject type → cutoff, ""
	// for an entry of every type.
	subjects map[string]map[string]time.Time
	all      time.Time
	until    map[string]time.Time // untilKey of an entry not of scope Token → prune time
}

// tokenKey names a token id in a tenant: the 16 bytes of an id tokend
// makes (26 characters of IDAlphabet, canonically encoded), and for any
// other id the first 16 bytes of SHA-256 over a random key of the process
// and the id. Two ids get the same key with a probability near 2⁻¹²⁸ for
// each pair; such a collision can only make a token whose key matches a
// revoked one's look revoked (a valid token refused), never a revoked
// token accepted, and the process key keeps anyone from choosing ids that
// collide.
type tokenKey [16]byte

// tokenRev is a token entry: when its revocation takes effect and when it
// may be pruned (noUntil: never), in Unix nanoseconds.
type tokenRev struct{ at, until int64 }

type tokenExp struct {
	until int64
	key   tokenKey
}

const noUntil = math.MinInt64

var (
	hashKey [32]byte
	idValue [256]byte // character of IDAlphabet → its value + 1; 0 for others
)

func init() {
	if _, err := rand.Read(hashKey[:]); err != nil {
		panic(err)
	}
	for i := range len(IDAlphabet) {
		idValue[IDAlphabet[i]] = byte(i + 1)
	}
}

// keyOf returns the tokenKey of a token id.
func keyOf(id string) tokenKey {
	var k tokenKey
	if len(id) == 26 {
		var acc uint64
		bits, n := 0, 0
		ok := true
		for i := 0; i < len(id) && ok; i++ {
			v := idValue[id[i]]
			if v == 0 {
				ok = false
				break
			}
			acc = acc<<5 | uint64(v-1)
			if bits += 5; bits >= 8 {
				bits -= 8
				k[n] = byte(acc >> bits)
				n++
			}
		}
		// 26 characters carry 130 bits: the last 2 must be zero in the
		// canonical encoding, so that one id has one key.
		if ok && acc&3 == 0 {
			return k
		}
	}
	var buf [96]byte
	sum := sha256.Sum256(append(append(buf[:0], hashKey[:]...), id...))
	copy(k[:], sum[:16])
	return k
}

// unixNano is t in Unix nanoseconds, clamped to the int64 range (the zero
// time and anything before 1678 to the lowest value above noUntil).
func unixNano(t time.Time) int64 {
	switch {
	case t.Before(minNano):
		return noUntil + 1
	case t.After(maxNano):
		return math.MaxInt64
	}
	return t.UnixNano()
}

var (
	minNano = time.Unix(0, math.MinInt64+1)
	maxNano = time.Unix(0, math.MaxInt64)
)

// push adds e to the heap of expiring tokens.
func (t *tenantDeny) push(e tokenExp) {
	h := append(t.expiring, e)
	for i := len(h) - 1; i > 0; {
		p := (i - 1) / 2
		if h[p].until <= h[i].until {
			break
		}
		h[p], h[i] = h[i], h[p]
		i = p
	}
	t.expiring = h
}

// pop removes the top of the heap of expiring tokens.
func (t *tenantDeny) pop() {
	h := t.expiring
	last := len(h) - 1
	h[0] = h[last]
	h = h[:last]
	for i := 0; ; {
		c := 2*i + 1
		if c >= len(h) {
			break
		}
		if c+1 < len(h) && h[c+1].until < h[c].until {
			c++
		}
		if h[i].until <= h[c].until {
			break
		}
		h[i], h[c] = h[c], h[i]
		i = c
	}
	t.expiring = h
}

// untilKey names an entry for pruning: "scope\x00key", and for a Subject
// entry "subject\x00type\x00id".
func untilKey(r Entry) string {
	if r.Scope == Subject {
		return Subject + "\x00" + r.SubjectType + "\x00" + r.Key
	}
	return r.Scope + "\x00" + r.Key
}

// later records cut for key in m unless m holds a later cutoff already.
func later(m map[string]time.Time, key string, cut time.Time) {
	if cut.After(m[key]) {
		m[key] = cut
	}
}

// NewDenyList returns an empty deny-list.
func NewDenyList() *DenyList { return &DenyList{tenants: map[string]*tenantDeny{}} }

// Apply adds revocations in log order; entries at or below the last
// applied Seq are ignored, so replays are harmless. Entries with Seq 0
// (applied locally before the log has them) are always added.
func (d *DenyList) Apply(rs ...Entry) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, r := range rs {
		if r.Seq != 0 {
			if r.Seq <= d.last {
				continue
			}
			d.last = r.Seq
		}
		t := d.tenants[r.Tenant]
		if t == nil {
			t = &tenantDeny{tokens: map[tokenKey]tokenRev{}, cutoffs: map[string]map[string]time.Time{},
				subjects: map[string]map[string]time.Time{}, until: map[string]time.Time{}}
			d.tenants[r.Tenant] = t
		}
		switch r.Scope {
		case Token:
			// A token entry takes effect at its Cutoff: now for a revocation,
			// a few seconds ahead for a token replaced by renewal. A token
			// revoked during that grace has two entries; the earlier wins,
			// whichever order they arrive in.
			// The latest Until wins (noUntil: keep it), as for other entries.
			k, at := keyOf(r.Key), unixNano(r.Cutoff)
			old, ok := t.tokens[k]
			if !ok {
				old = tokenRev{at: at, until: noUntil}
			}
			old.at = min(old.at, at)
			if r.Until != nil && !r.Until.IsZero() {
				if u := unixNano(*r.Until); u > old.until {
					if old.until == noUntil {
						t.push(tokenExp{until: u, key: k})
					}
					old.until = u
				}
			}
			t.tokens[k] = old
			continue
		case Tenant:
			if r.Cutoff.After(t.all) {
				t.all = r.Cutoff
			}
		case Subject:
			m := t.subjects[r.Key]
			if m == nil {
				m = map[string]time.Time{}
				t.subjects[r.Key] = m
			}
			later(m, r.SubjectType, r.Cutoff)
		default:
			m := t.cutoffs[r.Scope]
			if m == nil {
				m = map[string]time.Time{}
				t.cutoffs[r.Scope] = m
			}
			later(m, r.Key, r.Cutoff)
		}
		if r.Until != nil {
			later(t.until, untilKey(r), *r.Until)
		}
	}
}

// Rewind makes the next Apply take entries above seq again, keeping every
// entry held: for a log that went back (a database failed over to a copy
// that misses its last entries and hands their Seqs out again), so that
// the new entries under reused Seqs are not skipped. It never raises Last.
func (d *DenyList) Rewind(seq int64) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.last = min(d.last, seq)
}

// Last returns the highest Seq applied.
func (d *DenyList) Last() int64 {
	d.mu.RLock()
	defer d.mu.RUnlock()
	return d.last
}

// Reason returns why tok is revoked, or "" if it is not.
func (d *DenyList) Reason(tok Presented) string {
	d.mu.RLock()
	defer d.mu.RUnlock()
	t := d.tenants[tok.Tenant]
	if t == nil {
		return ""
	}
	if len(t.tokens) > 0 {
		if r, ok := t.tokens[keyOf(tok.ID)]; ok && time.Now().UnixNano() >= r.at {
			return "token revoked"
		}
	}
	if tok.IssuedAt.Before(t.all) {
		return "every token of the tenant was revoked"
	}
	if t.subjectRevoked(tok) {
		return "every token of the subject was revoked"
	}
	for _, c := range []struct{ scope, key, reason string }{
		{Session, tok.SessionID, "the session was revoked"},
		{Client, tok.ClientID, "every token of the client was revoked"},
		{Family, tok.FamilyID, "the refresh token family was revoked"},
	} {
		if c.key == "" {
			continue
		}
		if cut, ok := t.cutoffs[c.scope][c.key]; ok && tok.IssuedAt.Before(cut) {
			return c.reason
		}
	}
	return ""
}

// subjectRevoked reports whether a Subject entry for tok's subject (of its
// type, or of every type) has a cutoff after tok's issue time.
func (t *tenantDeny) subjectRevoked(tok Presented) bool {
	if tok.Subject == "" {
		return false
	}
	m := t.subjects[tok.Subject]
	if tok.SubjectType == "" {
		for _, cut := range m {
			if tok.IssuedAt.Before(cut) {
				return true
			}
		}
		return false
	}
	for _, typ := range []string{tok.SubjectType, ""} {
		if cut, ok := m[typ]; ok && tok.IssuedAt.Before(cut) {
			return true
		}
	}
	return false
}

// Prune forgets entries whose Until is before now and returns how many.
func (d *DenyList) Prune(now time.Time) int {
	d.mu.Lock()
	defer d.mu.Unlock()
	n := 0
	cut := unixNano(now)
	for _, t := range d.tenants {
		for len(t.expiring) > 0 && t.expiring[0].until < cut {
			e := t.expiring[0]
			t.pop()
			r, ok := t.tokens[e.key]
			switch {
			case !ok || r.until == noUntil:
			case r.until > e.until: // raised since it was pushed
				t.push(tokenExp{until: r.until, key: e.key})
			default:
				delete(t.tokens, e.key)
				n++
			}
		}
		for k, until := range t.until {
			if !until.Before(now) {
				continue
			}
			scope, key := splitKey(k)
			switch scope {
			case Tenant:
				t.all = time.Time{}
			case Subject:
				typ, id := splitKey(key)
				delete(t.subjects[id], typ)
				if len(t.subjects[id]) == 0 {
					delete(t.subjects, id)
				}
			default:
				delete(t.cutoffs[scope], key)
			}
			delete(t.until, k)
			n++
		}
	}
	return n
}

// Size returns the number of entries held.
func (d *DenyList) Size() int {
	d.mu.RLock()
	defer d.mu.RUnlock()
	n := 0
	for _, t := range d.tenants {
		n += len(t.tokens)
		for _, m := range t.cutoffs {
			n += len(m)
		}
		for _, m := range t.subjects {
			n += len(m)
		}
		if !t.all.IsZero() {
			n++
		}
	}
	return n
}

func splitKey(k string) (string, string) {
	for i := 0; i < len(k); i++ {
		if k[i] == 0 {
			return k[:i], k[i+1:]
		}
	}
	return k, ""
}
