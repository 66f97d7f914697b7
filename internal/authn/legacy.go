package authn

import (
	"context"
	"crypto/hmac"
	"crypto/md5"
	"crypto/sha1"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/tokend/tokend/internal/directory"
	"github.com/tokend/tokend/internal/fault"
	"github.com/tokend/tokend/internal/introspect"
	"github.com/tokend/tokend/internal/store"
	"github.com/tokend/tokend/signing"
)

// LegacySigners hold the credentials of seed 004's (apstrata's) signed
// requests; *directory.Service is one.
type LegacySigners interface {
	// LegacySigner returns the account secret of an owner client or the
	// upper-case hex password MD5 of a user or device; not_found when
	// there is none.
	LegacySigner(ctx context.Context, tenant, kind, id string) (directory.Signer, error)
	// LegacySignerOf is Identify and LegacySigner in one: the credential
	// of the device or user an identifier names.
	LegacySignerOf(ctx context.Context, tenant, ident string) (directory.Signer, error)
	// Identify resolves a device id or user login to kind and id.
	Identify(ctx context.Context, tenant, ident string) (kind, id string, err error)
}

// Tokens verify presented tokens; *introspect.Verifier is one.
type Tokens interface {
	Verify(ctx context.Context, raw string) (*introspect.Identity, error)
}

// Seed 004's signature modes (apsws.authMode).
const (
	LegacySimple  = "simple"
	LegacyComplex = "complex"
)

// LegacyRequest is a request signed the way seed 004's legacy product
// (apstrata) signs: simple or complex mode, by the account owner or by a
// user or device.
type LegacyRequest struct {
	Tenant string
	// AccountKey is the account's authentication key, Owner the client
	// that is the account owner.
	AccountKey, Owner string
	// Action is the operation in the path (GenerateToken, ...).
	Action string
	Method string
	// URLs are the request's URL without its query (scheme, host, port
	// and path) as the client may have named it: the complex string to
	// sign contains it, and behind a proxy the public and the local
	// name differ. The first that matches wins.
	URLs []string
	// Params are every parameter of the request, query and body alike.
	Params url.Values
	// Mode is LegacySimple or LegacyComplex.
	Mode string
	// Identifier is the user login or device id (apsws.id); empty for
	// the account owner.
	Identifier string
	// Time is apsws.time, Sig apsws.authSig, as sent.
	Time, Sig string
	// SigParam is the name of the signature parameter, left out of the
	// complex string to sign.
	SigParam string
}

// errLegacySignature is the one answer to an unknown signer, a signer
// without a credential and a wrong signature.
var errLegacySignature = fault.InvalidClient("invalid signature").WithField("apsws.authSig")

// LegacyTime reads apsws.time: unix seconds (the wiki's examples) or
// milliseconds (what the SDKs send, new Date().getTime()); a value above
// 10^11 is milliseconds, which reads as seconds only past the year 5000.
func LegacyTime(v string) (time.Time, bool) {
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n <= 0 {
		return time.Time{}, false
	}
	if n > 1e11 {
		return time.UnixMilli(n), true
	}
	return time.Unix(n, 0), true
}

// LegacySigned verifies a seed 004 signed request: the time within
// signing.Window of now, the signature right for the signer's legacy
// credential, and not used before on any replica. It returns the
// signer: the owner client, or the user or device the identifier names.
//
// Simple mode is the hex MD5 of time + authKey + action + secret for the
// owner, and of time + identifier + action + UPPER(MD5hex(password)) for
// a user or device, its hex compared without regard to case. Complex mode
// is the HMAC-SHA1, keyed with the same secret, of METHOD "\n"
// urlencoded(URL) "\n" the sorted, percent-encoded parameters but the
// signature, in hex or base64.
func (a *Authenticator) LegacySigned(ctx context.Context, r LegacyRequest) (Signer, error) {
	ts, ok := LegacyTime(r.Time)
	if !ok {
		return Signer{}, fault.Invalid("apsws.time", "apsws.time must be the unix time in seconds or milliseconds")
	}
	if d := a.now().Sub(ts); d < -signing.Window || d > signing.Window {
		return Signer{}, fault.InvalidClient("apsws.time is more than 5 minutes away from the server's time").WithField("apsws.time")
	}
	if a.legacy == nil {
		return Signer{}, errLegacySignature
	}
	var (
		signer directory.Signer
		err    error
	)
	switch {
	case r.Identifier != "":
		signer, err = a.legacy.LegacySignerOf(ctx, r.Tenant, r.Identifier)
	case r.Owner != "":
		signer, err = a.legacy.LegacySigner(ctx, r.Tenant, "client", r.Owner)
	default:
		return Signer{}, errLegacySignature
	}
	kind, id := signer.Kind, signer.ID
	if err != nil {
		if fault.CodeOf(err) == fault.CodeNotFound {
			return Signer{}, errLegacySignature
		}
		return Signer{}, err
	}
	var raw []byte
	switch r.Mode {
	case LegacySimple:
		who := r.AccountKey
		if r.Identifier != "" {
			who = r.Identifier
		}
		raw, ok = simpleValid(signer.Secret, r.Time+who+r.Action, r.Sig)
	case LegacyComplex:
		// The wiki's example string escapes '-' as %2D, which its own PHP
		// example (rawurlencode) does not: either verifies.
	urls:
		for _, u := range r.URLs {
			for _, dash := range []bool{false, true} {
				if raw, ok = complexValid(signer.Secret, legacyCanonical(r.Method, u, r.Params, r.SigParam, dash), r.Sig); ok {
					break urls
				}
			}
		}
	default:
		return Signer{}, fault.Invalid("apsws.authMode", "apsws.authMode must be simple, complex or token")
	}
	if !ok {
		return Signer{}, errLegacySignature
	}
	// Each signature once, across replicas, for as long as its time is
	// valid; keyed on its bytes, so that re-cased hex is the same one.
	key := r.Tenant + "|legacy|" + kind + ":" + id + "|" + hex.EncodeToString(raw)
	if err := a.st.Nonces().Use(ctx, key, ts.Add(signing.Window)); err != nil {
		if errors.Is(err, store.ErrConflict) {
			return Signer{}, fault.InvalidClient("signature already used").WithField("apsws.authSig")
		}
		return Signer{}, fault.Unavailable(err)
	}
	return Signer{Kind: kind, ID: id, Owner: signer.Owner}, nil
}

// simpleValid compares sig, hex in any case, with MD5hex(prefix+secret)
// in constant time, and returns the signature's bytes.
func simpleValid(secret []byte, prefix, sig string) ([]byte, bool) {
	got, err := hex.DecodeString(sig)
	if err != nil || len(got) != md5.Size {
		return nil, false
	}
	h := md5.New()
	h.Write([]byte(prefix))
	h.Write(secret)
	return got, subtle.ConstantTimeCompare(got, h.Sum(nil)) == 1
}

// complexValid compares sig, hex in any case or standard base64, with
// HMAC-SHA1(secret, canonical) in constant time.
func complexValid(secret []byte, canonical, sig string) ([]byte, bool) {
	got, err := hex.DecodeString(sig)
	if err != nil || len(got) != sha1.Size {
		if got, err = base64.StdEncoding.DecodeString(sig); err != nil || len(got) != sha1.Size {
			return nil, false
		}
	}
	m := hmac.New(sha1.New, secret)
	m.Write([]byte(canonical))
	return got, hmac.Equal(got, m.Sum(nil))
}

// LegacyCanonical is seed 004's complex string to sign: the upper-case
// method, the percent-encoded URL (without its query) and the parameters
// but sigParam, each name=value percent-encoded and the pairs sorted by
// byte order, joined with "&"; the three parts joined with "\n".
// Percent-encoding keeps only A-Z a-z 0-9 - _ . ~ (RFC 3986 unreserved);
// a space is %20 and * is %2A.
func LegacyCanonical(method, rawURL string, params url.Values, sigParam string) string {
	return legacyCanonical(method, rawURL, params, sigParam, false)
}

// legacyCanonical is LegacyCanonical, with '-' escaped as %2D when dash.
func legacyCanonical(method, rawURL string, params url.Values, sigParam string, dash bool) string {
	esc := func(s string) string {
		e := strings.ReplaceAll(url.QueryEscape(s), "+", "%20")
		if dash {
			e = strings.ReplaceAll(e, "-", "%2D")
		}
		return e
	}
	var pairs []string
	for k, vs := range params {
		if k == sigParam {
			continue
		}
		for _, v := range vs {
			pairs = append(pairs, esc(k)+"="+esc(v))
		}
	}
	sort.Strings(pairs)
	return strings.ToUpper(method) + "\n" + esc(rawURL) + "\n" + strings.Join(pairs, "&")
}

// LegacyToken authenticates seed 004's token mode: raw must be an active
// token of tenant whose subject is the user or device the identifier
// names, and a token bound to referrers must come from one of them
// (origin is the request's Referer origin, "" when it has none). Any
// mismatch is an invalid_token fault.
func (a *Authenticator) LegacyToken(ctx context.Context, tenant, ident, raw, origin string) (*introspect.Identity, error) {
	if a.tokens == nil || a.legacy == nil {
		return nil, fault.InvalidToken("token authentication is not available")
	}
	id, err := a.tokens.Verify(ctx, raw)
	if err != nil {
		return nil, err
	}
	if id.Tenant != tenant {
		return nil, fault.InvalidToken("token of another account")
	}
	if ident == "" {
		return nil, fault.InvalidToken("the token's identifier is missing").WithField("apsws.id")
	}
	kind, sub, err := a.legacy.Identify(ctx, tenant, ident)
	if fault.CodeOf(err) == fault.CodeNotFound {
		return nil, fault.InvalidToken("the token is not the identifier's")
	}
	if err != nil {
		return nil, err
	}
	if id.Claims.SubjectType != kind || id.Claims.Subject != sub {
		return nil, fault.InvalidToken("the token is not the identifier's")
	}
	if len(id.Claims.Origins) > 0 && !slices.Contains(id.Claims.Origins, origin) {
		return nil, fault.InvalidToken("the token is bound to another referrer").WithField("Referer")
	}
	return id, nil
}

// LegacySubject is Signer.Subject for seed 004, whose runAs is a device
// id or user login: the signer itself, or for an owner the principal
// runAs names (a not_found fault on apsdb.runAs when it names none).
func (a *Authenticator) LegacySubject(ctx context.Context, tenant string, s Signer, runAs string) (kind, id string, err error) {
	if runAs == "" || !s.Owner {
		kind, id, err = s.Subject(runAs)
		return kind, id, withField(err, "apsdb.runAs")
	}
	if a.legacy == nil {
		return "", "", fault.InvalidRequest("runAs is not available")
	}
	kind, id, err = a.legacy.Identify(ctx, tenant, runAs)
	if err != nil {
		return "", "", withField(err, "apsdb.runAs")
	}
	kind, id, err = s.Subject(kind + ":" + id)
	return kind, id, withField(err, "apsdb.runAs")
}

func withField(err error, field string) error {
	if fe := fault.As(err); fe != nil {
		return fe.WithField(field)
	}
	return err
}
