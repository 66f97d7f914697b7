// Package issue is the one place tokens are made: every surface and grant
// ends in Issuer.Issue, which signs (or generates) the token, appends its
// ledger row and records the audit event.
package issue

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/tokend/tokend/claims"
	"github.com/tokend/tokend/internal/audit"
	"github.com/tokend/tokend/internal/fault"
	"github.com/tokend/tokend/internal/ledger"
	"github.com/tokend/tokend/internal/store"
	"github.com/tokend/tokend/internal/tenant"
	"github.com/tokend/tokend/internal/token"
)

// Signer signs JWT access tokens for a tenant, and compact HS256 tokens
// (store.FormatCompact) with the tenant's legacy HMAC secret.
type Signer interface {
	Sign(ctx context.Context, tenant string, c *claims.Claims) (string, error)
	SignCompact(ctx context.Context, tenant string, payload []byte) (string, error)
	// SignLeague signs under the league profile's header (typ JWT, no
	// kid; see store.ProfileLeague).
	SignLeague(ctx context.Context, tenant string, c *claims.Claims) (string, error)
	// SignNamed signs payload as an HS256 token with header kid name and
	// the tenant's HMAC secret of that name (store.FormatNamed).
	SignNamed(ctx context.Context, tenant, name string, payload []byte) (string, error)
}

// Ledger makes ledger rows and audit events durable; package ledger's
// group committer implements it.
type Ledger interface {
	Write(ctx context.Context, tokens []store.Token, events []store.AuditEvent) error
	// Apply runs fn in a group commit's transaction, under a savepoint,
	// appends the audit events it returns, and returns once all of it is
	// durable; fn may run more than once.
	Apply(ctx context.Context, fn ledger.ApplyFunc) error
}

// Options configure an Issuer. Store, Signer, Audit, Ledger and PublicURL
// are required.
type Options struct {
	Store     store.Store
	Signer    Signer
	Audit     *audit.Recorder
	Ledger    Ledger
	PublicURL string
	Now       func() time.Time
}

// Issuer makes tokens.
type Issuer struct {
	o Options
}

// New returns an Issuer.
func New(o Options) (*Issuer, error) {
	if o.Store == nil || o.Signer == nil || o.Audit == nil || o.Ledger == nil || o.PublicURL == "" {
		return nil, fmt.Errorf("issue: Store, Signer, Audit, Ledger and PublicURL are required")
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return &Issuer{o: o}, nil
}

// Request describes a token to issue. Policy checks happen before: the
// Issuer makes exactly what it is asked for.
type Request struct {
	Tenant      string
	Kind        string
	SubjectType string
	Subject     string
	ClientID    string
	SessionID   string
	FamilyID    string
	Actor       *claims.Actor
	Scope       []string
	Audience    []string
	Roles       []string
	Groups      []string
	Resources   []string
	// TTL is the expiry; zero issues an eternal token.
	TTL         time.Duration
	LifetimeEnd time.Time
	Format      string // store.FormatJWT (default), store.FormatOpaque, store.FormatCompact or store.FormatHex
	Origins     []string
	Channels    []string
	ServerSide  bool
	// Action names the audit event; default "token.issue".
	Action string
	// Surface names the compatible surface the token is minted through
	// (its audit event and metrics say so); empty for the native API.
	Surface string
	// AuditActor names who asked, when not the subject (e.g. an admin).
	AuditActor string
	// CookieRoom, when positive, is the room of the cookie that delivers
	// the token: a longer token is refused before anything is recorded.
	CookieRoom int
	// ID, when set, is the token id to use (a NewTimeID).
	ID string
	// Value, when set, is the opaque value to hand out instead of a fresh
	// random one (a value the caller derived, see token.DeriveOpaque).
	// Only with Format store.FormatOpaque.
	Value string
	// Profile is store.ProfileLeague for tokens shaped as
	// league/oauth2-server makes them: an access JWT with its header and
	// claims (aud the client id, sub SubjectLogin, an 80-hex jti, nbf,
	// scopes), a refresh token from token.NewLeagueRefresh. Empty is
	// tokend's own shape.
	Profile string
	// Untyped signs a JWT under the header {"typ":"JWT","alg":…} without
	// kid, the league profile's header (Signer.SignLeague), with tokend's
	// own claims: the shape BigCommerce gives storefront tokens
	// ({"typ":"JWT","alg":"ES256"}). Verifiers try each published key of
	// the header's algorithm.
	Untyped bool
	// SubjectLogin is the user's login, the sub of a league-profile
	// access token (the ledger row keeps Subject, the user id).
	SubjectLogin string
	// Grant names the token endpoint grant recorded in the ledger row and
	// audit event (token-exchange, jwt-bearer); empty records none.
	Grant string
	// IDP and ExternalSubject are the external issuer and subject of an
	// exchanged identity: in the ledger row, the audit event and (IDP)
	// the idp claim.
	IDP             string
	ExternalSubject string
	// HMACKey names the tenant's HMAC secret (and header kid) of a
	// store.FormatNamed token.
	HMACKey string
	// NamedClaims are the claims of a store.FormatNamed token besides the
	// ones Issue sets: iat, exp (when the token expires), jti, and nbf
	// when NotBefore is set. They must not name those four.
	NamedClaims map[string]any
	NotBefore   bool
	// Defer leaves writing Result.Row and Result.Event to the caller:
	// Commit, with other results, or its own transaction (a refresh
	// rotation), after which it hands the event to audit.Recorder.Observe.
	Defer bool
}

// Result is an issued token. Value is shown once and never stored.
type Result struct {
	Value     string
	ID        string
	IssuedAt  time.Time
	ExpiresAt *time.Time
	Scope     []string
	// Row and Event are what Issue wrote, or, with Request.Defer, what the
	// caller must write.
	Row   store.Token
	Event store.AuditEvent
}

// Apply runs fn in the ledger's next group commit (see Ledger): a
// read-decide-write on ledger rows that costs a share of one commit.
func (i *Issuer) Apply(ctx context.Context, fn ledger.ApplyFunc) error {
	return i.o.Ledger.Apply(ctx, fn)
}

// DefaultAudience is the audience of an access token of tenant id under
// its effective policy pol when neither request nor client names one.
func (i *Issuer) DefaultAudience(id string, pol store.Policy) []string {
	return tenant.DefaultAudience(i.o.PublicURL, id, pol)
}

// ExpiresIn returns the seconds until expiry, 0 for eternal tokens.
func (r Result) ExpiresIn() int64 { return r.Issued().ExpiresIn() }

// Issued is the part of r a surface may see.
func (r Result) Issued() token.Issued {
	return token.Issued{
		Value: r.Value, ID: r.ID, Kind: r.Row.Kind, SubjectType: r.Row.SubjectType, Subject: r.Row.Subject, IssuedAt: r.IssuedAt,
		ExpiresAt: r.ExpiresAt, LifetimeEnd: r.Row.LifetimeEnd, Scope: r.Scope,
	}
}

// Issue makes the token, records it in the ledger and audits it.
func (i *Issuer) Issue(ctx context.Context, r Request) (Result, error) {
	if r.Tenant == "" || r.Subject == "" || r.Kind == "" {
		return Result{}, fault.Internal(fmt.Errorf("issue: tenant, subject and kind are required"))
	}
	if r.TTL < 0 {
		return Result{}, fault.Invalid("expires_in", "must be positive")
	}
	if len(r.Audience) == 0 && hasAudience(r.Kind) {
		// RFC 9068 §2.2: aud is required on every access token of any kind.
		aud, err := i.tenantAudience(ctx, r.Tenant)
		if err != nil {
			return Result{}, err
		}
		r.Audience = aud
	}
	// Issue times keep microseconds (the ledger row and the jti carry
	// them) so that a revocation cutoff is exact within a second; the JWT
	// claims are whole seconds.
	now := i.o.Now().UTC().Truncate(time.Microsecond)
	league := r.Profile == store.ProfileLeague
	if league && hasAudience(r.Kind) && r.ClientID != "" {
		// league's aud is the client the token was issued to.
		r.Audience = []string{r.ClientID}
	}
	id := r.ID
	switch {
	case id == "" && league && r.Kind != claims.KindRefresh:
		id = token.NewLeagueID(now)
	case id == "":
		id = token.NewTimeID(now)
	default:
		if t, ok := token.TimeOfID(id); ok {
			now = t
		}
	}
	res := Result{ID: id, IssuedAt: now, Scope: r.Scope}
	if r.TTL > 0 {
		exp := now.Add(r.TTL)
		res.ExpiresAt = &exp
	}
	row := store.Token{
		Tenant: r.Tenant, ID: res.ID, Kind: r.Kind, Format: r.Format,
		SubjectType: r.SubjectType, Subject: r.Subject, ClientID: r.ClientID,
		SessionID: r.SessionID, FamilyID: r.FamilyID,
		Audience: nonNil(r.Audience), Scope: nonNil(r.Scope), Origins: nonNil(r.Origins), Channels: nonNil(r.Channels), ServerSide: r.ServerSide,
		IssuedAt: now, ExpiresAt: res.ExpiresAt,
		Grant: r.Grant, IDP: r.IDP, ExternalSubject: r.ExternalSubject,
	}
	if r.Actor != nil {
		row.Actor = r.Actor.Subject
	}
	if !r.LifetimeEnd.IsZero() {
		lte := r.LifetimeEnd.UTC().Truncate(time.Second)
		row.LifetimeEnd = &lte
	}
	switch r.Format {
	case store.FormatOpaque:
		switch {
		case r.Value != "":
			res.Value = r.Value
		case r.Kind == claims.KindAdmin:
			res.Value = token.NewOpaque(token.TagAdmin)
		case r.Kind == claims.KindRefresh && league:
			res.Value = token.NewLeagueRefresh()
		case r.Kind == claims.KindRefresh:
			res.Value = token.NewOpaque(token.TagRefresh)
		default:
			res.Value = token.NewOpaque(token.TagAccess)
		}
		row.Hash = token.Hash(res.Value)
	case store.FormatHex:
		if r.Value != "" || r.Kind == claims.KindRefresh || r.Kind == claims.KindAdmin {
			return Result{}, fault.Internal(fmt.Errorf("issue: hex tokens are fresh access tokens"))
		}
		res.Value = token.NewHex()
		row.Hash = token.Hash(res.Value)
	case store.FormatSession:
		if res.ExpiresAt == nil || r.Value != "" || r.Kind != claims.KindCustomer {
			return Result{}, fault.Internal(fmt.Errorf("issue: a session token is a fresh customer token with an expiry"))
		}
		res.Value = token.NewSession(*res.ExpiresAt)
		row.Hash = token.Hash(res.Value)
	case "", store.FormatJWT:
		if r.Value != "" {
			return Result{}, fault.Internal(fmt.Errorf("issue: Value is only for opaque tokens"))
		}
		row.Format = store.FormatJWT
		c := &claims.Claims{
			Issuer: tenant.Issuer(i.o.PublicURL, r.Tenant), Subject: r.Subject,
			Audience: r.Audience, IssuedAt: now.Unix(), ID: res.ID,
			ClientID: clientID(r), Scope: strings.Join(r.Scope, " "),
			Kind: r.Kind, SubjectType: r.SubjectType,
			Roles: r.Roles, Groups: r.Groups, Resources: r.Resources,
			Act: r.Actor, SessionID: r.SessionID, IDP: r.IDP,
			Origins: r.Origins, Channels: r.Channels, ServerSide: r.ServerSide,
		}
		if res.ExpiresAt != nil {
			c.ExpiresAt = res.ExpiresAt.Unix()
		}
		if row.LifetimeEnd != nil {
			c.LifetimeEnd = row.LifetimeEnd.Unix()
		}
		sign := i.o.Signer.Sign
		if league {
			c.NotBefore, c.ScopeList = c.IssuedAt, nonNil(r.Scope)
			if r.SubjectLogin != "" {
				c.Subject, c.SubjectID = r.SubjectLogin, r.Subject
			}
			sign = i.o.Signer.SignLeague
		}
		if r.Untyped {
			sign = i.o.Signer.SignLeague
		}
		v, err := sign(ctx, r.Tenant, c)
		if err != nil {
			return Result{}, err
		}
		res.Value = v
	case store.FormatCompact:
		// The jti is the id's 16 bytes in hex, the shape of Rails'
		// SecureRandom.hex; it is the ledger id too.
		res.ID = token.HexOfID(res.ID)
		if res.ID == "" || r.Value != "" {
			return Result{}, fault.Internal(fmt.Errorf("issue: a compact token needs a NewTimeID id and no Value"))
		}
		row.ID = res.ID
		v, err := i.o.Signer.SignCompact(ctx, r.Tenant, CompactPayload(res.ExpiresAt, r.Subject, r.Audience, res.ID))
		if err != nil {
			return Result{}, err
		}
		res.Value = v
	case store.FormatNamed:
		res.ID = token.HexOfID(res.ID)
		if res.ID == "" || r.Value != "" || r.HMACKey == "" {
			return Result{}, fault.Internal(fmt.Errorf("issue: a named HS256 token needs a NewTimeID id, an HMACKey and no Value"))
		}
		row.ID = res.ID
		p, err := NamedPayload(r.NamedClaims, now, res.ExpiresAt, r.NotBefore, res.ID)
		if err != nil {
			return Result{}, fault.Internal(err)
		}
		v, err := i.o.Signer.SignNamed(ctx, r.Tenant, r.HMACKey, p)
		if err != nil {
			return Result{}, err
		}
		res.Value = v
	default:
		return Result{}, fault.Invalid("format", "must be jwt, opaque or hex")
	}
	if r.CookieRoom > 0 && len(res.Value) > r.CookieRoom {
		// RFC 6265 §6.1: a larger cookie may never reach the user agent.
		return Result{}, fault.Invalid("cookie", "cookie: the token is %d bytes, more than the %d a cookie holds beside its name and attributes (RFC 6265 §6.1: 4096 in all); ask for it in the response body, or with fewer scopes", len(res.Value), r.CookieRoom)
	}
	action := r.Action
	if action == "" {
		action = "token.issue"
	}
	actor := r.SubjectType + ":" + r.Subject
	if r.Actor != nil {
		actor = r.Actor.Subject
	}
	if r.AuditActor != "" {
		actor = r.AuditActor
	}
	ev := i.o.Audit.Prepare(ctx, store.AuditEvent{
		Tenant: r.Tenant, Action: action, Actor: actor, Subject: r.Subject, ClientID: r.ClientID,
		Detail: map[string]string{"jti": res.ID, "kind": r.Kind, "format": row.Format, "scope": strings.Join(r.Scope, " ")},
	})
	if r.Surface != "" {
		ev.Detail["surface"] = r.Surface
	}
	if r.Grant != "" {
		ev.Detail["grant"] = r.Grant
	}
	if r.IDP != "" {
		ev.Detail["idp"], ev.Detail["external_subject"] = r.IDP, r.ExternalSubject
	}
	res.Row, res.Event = row, ev
	if r.Defer {
		return res, nil
	}
	if err := i.Commit(ctx, res); err != nil {
		return Result{}, err
	}
	return res, nil
}

// Commit makes the ledger rows and audit events of results made with
// Request.Defer durable, all in one group commit (shared with concurrent
// requests). A token is handed out only once that returns nil.
func (i *Issuer) Commit(ctx context.Context, results ...Result) error {
	rows := make([]store.Token, 0, len(results))
	events := make([]store.AuditEvent, 0, len(results))
	for _, r := range results {
		rows, events = append(rows, r.Row), append(events, r.Event)
	}
	if err := i.o.Ledger.Write(ctx, rows, events); err != nil {
		return fault.Unavailable(fmt.Errorf("ledger write: %w", err))
	}
	i.o.Audit.Observe(events...)
	return nil
}

// hasAudience reports whether tokens of kind are access tokens in the
// sense of RFC 9068, with aud and client_id: every kind but the refresh
// token and the admin key.
func hasAudience(kind string) bool {
	return kind != claims.KindRefresh && kind != claims.KindAdmin
}

// tenantAudience is the default audience of tenant id: its policy's
// default_audience, else its issuer URL.
func (i *Issuer) tenantAudience(ctx context.Context, id string) ([]string, error) {
	t, err := i.o.Store.Tenants().Get(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, fault.NotFound("tenant %q not found", id)
	}
	if err != nil {
		return nil, fault.Unavailable(fmt.Errorf("tenant %q: %w", id, err))
	}
	return i.DefaultAudience(id, tenant.Effective(t.Policy)), nil
}

// clientID is the client_id claim (RFC 9068 §2.2) of the token r asks
// for: the minting client, else the tenant itself (an admin-minted or a
// customer login token has no client).
func clientID(r Request) string {
	if r.ClientID == "" && hasAudience(r.Kind) {
		return r.Tenant
	}
	return r.ClientID
}

// CompactPayload is the claims object of a compact HS256 token, in the
// order Knock writes it (its exp merged in front of the payload): exp
// (left out for an eternal token), sub, aud, jti. A subject of decimal
// digits is a JSON number, as a Rails integer id encodes; any other is a
// string.
func CompactPayload(exp *time.Time, sub string, aud []string, jti string) []byte {
	b := make([]byte, 0, 128)
	b = append(b, '{')
	if exp != nil {
		b = append(b, `"exp":`...)
		b = strconv.AppendInt(b, exp.Unix(), 10)
		b = append(b, ',')
	}
	b = append(b, `"sub":`...)
	if IsNumericID(sub) {
		b = append(b, sub...)
	} else {
		q, _ := json.Marshal(sub)
		b = append(b, q...)
	}
	a, _ := json.Marshal(nonNil(aud))
	b = append(b, `,"aud":`...)
	b = append(b, a...)
	b = append(b, `,"jti":"`...)
	b = append(b, jti...)
	return append(b, '"', '}')
}

// IsNumericID reports whether id is a positive decimal integer without a
// leading zero that fits a signed 64-bit integer (a Rails bigint id).
func IsNumericID(id string) bool {
	if id == "" || len(id) > 19 || id[0] == '0' {
		return false
	}
	for i := 0; i < len(id); i++ {
		if id[i] < '0' || id[i] > '9' {
			return false
		}
	}
	_, err := strconv.ParseInt(id, 10, 64)
	return err == nil
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// NamedPayload is the payload of a store.FormatNamed token: extra with
// iat, exp (when exp is set), jti and, with nbf, nbf = iat.
func NamedPayload(extra map[string]any, iat time.Time, exp *time.Time, nbf bool, jti string) ([]byte, error) {
	m := make(map[string]any, len(extra)+4)
	for k, v := range extra {
		switch k {
		case "iat", "exp", "nbf", "jti":
			return nil, fmt.Errorf("issue: claim %q is set by the issuer", k)
		}
		m[k] = v
	}
	m["iat"], m["jti"] = iat.Unix(), jti
	if exp != nil {
		m["exp"] = exp.Unix()
	}
	if nbf {
		m["nbf"] = iat.Unix()
	}
	return json.Marshal(m)
}
