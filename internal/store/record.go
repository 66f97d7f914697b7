package store

import (
	"encoding/json"
	"time"

	"github.com/tokend/tokend/internal/secrets"
)

// Tenant is the isolation unit: its issuer is {public_url}/t/{ID}.
type Tenant struct {
	ID          string // slug, also the issuer path segment
	DisplayName string
	Policy      Policy
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// Policy is a tenant's token policy. Zero values mean "use tokend's
// default", so an empty policy is valid. Durations are in seconds.
type Policy struct {
	// SigningAlg is the algorithm of new signing keys: ES256 (default),
	// EdDSA, RS256 or HS256.
	SigningAlg string `json:"signing_alg,omitempty"`
	// AccessTTL is the default access-token expiry; MaxAccessTTL its bound.
	AccessTTL    int64 `json:"access_ttl,omitempty"`
	MaxAccessTTL int64 `json:"max_access_ttl,omitempty"`
	// RefreshTTL is the lifetime of a refresh-token family.
	RefreshTTL int64 `json:"refresh_ttl,omitempty"`
	// Lifetime bounds renewal (seed 004 "lifetime").
	Lifetime    int64 `json:"lifetime,omitempty"`
	MaxLifetime int64 `json:"max_lifetime,omitempty"`
	// AllowEternal permits tokens without expiry where a kind allows it.
	AllowEternal bool `json:"allow_eternal,omitempty"`
	// PasswordGrant enables the resource-owner password grant.
	PasswordGrant bool `json:"password_grant,omitempty"`
	// StorefrontServerSide lets storefront tokens minted under it be used
	// without an Origin header, by servers (seed 001).
	StorefrontServerSide bool `json:"storefront_server_side,omitempty"`
	// TokenLimit caps active tokens per subject; 0 is unlimited.
	TokenLimit int `json:"token_limit,omitempty"`
	// Format is "jwt" (default) or "opaque" for access tokens.
	Format string `json:"format,omitempty"`
	// DefaultAudience is the audience of access tokens whose request and
	// client name none; empty means the tenant's issuer URL. A tenant
	// setting only: a client's default is its Audiences.
	DefaultAudience string `json:"default_audience,omitempty"`
	// Profile is the shape of the access and refresh tokens of the
	// password and refresh grants: "" for tokend's own (RFC 9068 JWTs,
	// tkd_ refresh tokens) or ProfileLeague.
	Profile string `json:"profile,omitempty"`
	// LoginGroup, when set, is the group whose users the password grant
	// may log in (a client set aside for one kind of account); a user
	// outside it fails as a wrong password would.
	LoginGroup string `json:"login_group,omitempty"`
	// CORSOrigins are the origins whose pages may call the tenant's
	// token, revocation, renewal and customer login endpoints from a
	// browser (httpx.CORS). A tenant setting only.
	CORSOrigins []string `json:"cors_origins,omitempty"`
	// KeyRotationPeriod, when set, is how long (seconds) a signing key
	// signs before a staged rotation replaces it. A tenant setting only.
	KeyRotationPeriod int64 `json:"key_rotation_period,omitempty"`
	// AuditRetention, when set, is how long (seconds) the tenant's audit
	// events are kept; older ones are pruned, leaving a signed checkpoint
	// from which the rest of the chain verifies. A tenant setting only.
	AuditRetention int64 `json:"audit_retention,omitempty"`
}

// ProfileLeague makes tokens shaped as league/oauth2-server 8 makes them,
// for clients and verifiers written against it: a JWT with header
// {"typ":"JWT","alg":...} and no kid, aud the client id, sub the user's
// login, jti 80 hex digits, nbf and a "scopes" array beside tokend's
// claims; refresh tokens that start with "def50200".
const ProfileLeague = "league"

// Project is an API of a tenant; its Audience is the token audience.
type Project struct {
	Tenant      string
	ID          string
	DisplayName string
	Audience    string
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// Secret hash algorithms.
const (
	// SecretSHA256 is for high-entropy secrets tokend generated.
	SecretSHA256 = "sha256"
	// SecretArgon2id is for secrets a person chose (PHC string).
	SecretArgon2id = "argon2id"
	// SecretBcrypt is for a bcrypt hash imported from another system
	// (modular crypt format, e.g. PHP's password_hash).
	SecretBcrypt = "bcrypt"
)

// Client is an application registered in a tenant.
type Client struct {
	Tenant      string
	ID          string
	DisplayName string
	// SecretHash is the stored form of the secret (never the secret); empty
	// for public clients. SecretAlg says how it was hashed.
	SecretHash []byte
	SecretAlg  string
	GrantTypes []string
	Scopes     []string
	Audiences  []string
	Kinds      []string // token kinds this client may mint
	Policy     Policy   // per-client overrides of the tenant policy
	// JWKS is the JSON Web Key Set of public keys the client signs RFC 7523
	// assertions with; empty when it has none.
	JWKS string
	// SigningSecret is the sealed secret of signed token requests.
	SigningSecret []byte
	// LegacySecret is the sealed credential of seed 004's signed requests
	// (an apstrata account secret, or the MD5 of an apstrata password),
	// imported from the legacy system; nil when there is none.
	LegacySecret []byte
	// SecretRef, when set, names where the client's secret lives instead
	// of SecretHash (a Vault KV v2 secret, say): the secret is read
	// through a secrets.Resolver at each authentication and never stored.
	// A client has a SecretHash or a SecretRef, never both.
	SecretRef secrets.Ref
	Disabled  bool
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Confidential reports whether the client authenticates with a secret
// (stored as a hash, or named by SecretRef); a public client has neither.
func (c Client) Confidential() bool { return len(c.SecretHash) > 0 || !c.SecretRef.IsZero() }

// User is a person of a tenant.
type User struct {
	Tenant       string
	ID           string
	Login        string // normalised, unique in the tenant
	DisplayName  string
	PasswordHash string // argon2id PHC string; empty means no password
	Roles        []string
	Groups       []string
	// SigningSecret is the sealed secret of signed token requests.
	SigningSecret []byte
	// LegacySecret is the sealed credential of seed 004's signed requests
	// (an apstrata account secret, or the MD5 of an apstrata password),
	// imported from the legacy system; nil when there is none.
	LegacySecret []byte
	Disabled     bool
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

// Device is a non-human principal: a store, kiosk, device or service.
type Device struct {
	Tenant      string
	ID          string
	DisplayName string
	Type        string // store, kiosk, device or service
	SecretHash  []byte
	SecretAlg   string
	Roles       []string
	Metadata    map[string]string
	// SigningSecret is the sealed secret of signed token requests.
	SigningSecret []byte
	// JTI is the id of the device's current compact HS256 token (see
	// FormatCompact): such a token of the device is valid only while its
	// jti is this one. Empty: none is.
	JTI string
	// LegacySecret is the sealed credential of seed 004's signed requests
	// (an apstrata account secret, or the MD5 of an apstrata password),
	// imported from the legacy system; nil when there is none.
	LegacySecret []byte
	Disabled     bool
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

// Role maps a name to scopes and resources.
type Role struct {
	Tenant      string
	Name        string
	Description string
	Scopes      []string
	Resources   []string
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// Group is a named set of roles that users belong to.
type Group struct {
	Tenant      string
	Name        string
	Description string
	Roles       []string
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// Key states.
const (
	KeyActive  = "active"
	KeyRetired = "retired"
	// KeyNext is the key of a staged rotation: published in the JWKS at
	// once, signing from ActivateAt on, when the active key retires. A
	// tenant has at most one.
	KeyNext = "next"
	// KeyLegacy is a tenant's imported HMAC secret for compact HS256
	// tokens (FormatCompact): never a JWKS key, never used for tokend's
	// own JWTs. A replaced one becomes KeyLegacyRetired and verifies
	// nothing.
	KeyLegacy        = "legacy"
	KeyLegacyRetired = "legacy-retired"
)

// Key is a tenant signing key. Private is always encrypted.
type Key struct {
	Tenant string
	ID     string // kid
	Alg    string
	State  string
	// Private is the AES-GCM sealed private key (or HMAC secret).
	Private []byte
	// Public is the PKIX DER public key; empty for HS256.
	Public    []byte
	CreatedAt time.Time
	RetiredAt *time.Time
	// PublishUntil is when a retired key may leave the JWKS: after every
	// token it signed has expired. Nil while active, unless a staged
	// rotation has set when it retires (RetiredAt, in the future).
	PublishUntil *time.Time
	// ActivateAt is when a KeyNext key starts signing.
	ActivateAt *time.Time
}

// Token formats.
const (
	FormatJWT    = "jwt"
	FormatOpaque = "opaque"
	// FormatCompact is a JWT as Knock and ruby-jwt make it: header exactly
	// {"alg":"HS256"}, claims exp, sub, aud and jti only, signed with the
	// tenant's legacy HMAC secret (KeyLegacy). Its jti is 32 lowercase hex
	// characters and is the ledger id.
	FormatCompact = "compact"
	// FormatNamed is an HS256 JWT whose header kid names one of the
	// tenant's named HMAC secrets (seed 002's per-token-type secrets),
	// with a legacy product's own claims and a jti that is the ledger id
	// (32 lowercase hex characters).
	FormatNamed = "hmac"
	// FormatHex is an opaque token of 32 upper-case hex characters (128
	// random bits, seed 004's form), stored as its hash like FormatOpaque.
	FormatHex = "hex"
	// FormatSession is a customer access token as BigCommerce makes them
	// (seed 001): 64 lower-case hex characters (256 random bits), "_" and
	// the expiry in unix seconds; stored as its hash like FormatOpaque.
	FormatSession = "session"
)

// Token is one ledger row: an issued token, never its value.
type Token struct {
	Tenant      string
	ID          string // jti
	Kind        string
	Format      string
	Hash        []byte // SHA-256 of an opaque token's value; nil for JWTs
	SubjectType string // user, client, device, customer, tenant
	Subject     string
	ClientID    string
	SessionID   string
	FamilyID    string
	Actor       string
	Audience    []string
	Scope       []string
	IssuedAt    time.Time
	ExpiresAt   *time.Time // nil: eternal
	LifetimeEnd *time.Time
	RevokedAt   *time.Time
	// UsedAt is when a refresh token was exchanged; ReplacedBy names the
	// refresh token that succeeded it; GraceUsed records that the token
	// was handed out more than once (again to a retry of its
	// predecessor), so that once exchanged it allows no retry of its own.
	UsedAt     *time.Time
	ReplacedBy string
	GraceUsed  bool
	// Origins and Channels bind the token's use (storefront origins,
	// channel ids).
	Origins  []string
	Channels []string
	// ServerSide allows a storefront token's use without Origin.
	ServerSide bool
	// Grant is the token endpoint grant that made the token, when it was
	// one of those that record it (token-exchange, jwt-bearer).
	Grant string
	// IDP and ExternalSubject are the external issuer and subject of an
	// exchanged identity; empty otherwise.
	IDP             string
	ExternalSubject string
}

// AuditEvent is one entry of a tenant's audit log.
type AuditEvent struct {
	Tenant     string
	Seq        int64
	Time       time.Time
	Action     string // e.g. client.create, token.issue, auth.fail
	Outcome    string // success, failure, denied
	Actor      string // who acted: "client:ID", "user:ID", "system"
	Subject    string // what was acted on
	ClientID   string
	RemoteAddr string
	UserAgent  string
	RequestID  string
	Detail     map[string]string
	PrevHash   []byte
	Hash       []byte
}

// Change entities.
const (
	EntityTenant  = "tenant"
	EntityProject = "project"
	EntityClient  = "client"
	EntityUser    = "user"
	EntityDevice  = "device"
	EntityRole    = "role"
	EntityGroup   = "group"
	EntityKey     = "key"
	EntityToken   = "token"
	// EntityRevocation marks a new revocation-log entry.
	EntityRevocation = "revocation"
	// EntitySurface is a tenant's compatible-surface record; its key is
	// the surface name.
	EntitySurface = "surface"
)

// Change is one entry of the change log.
type Change struct {
	Seq    int64
	Tenant string
	Entity string
	Key    string
	Time   time.Time
}

// Surface is a compatible surface a tenant serves: its name (a package of
// internal/compat), the key a legacy request names the tenant by (empty
// when requests name it otherwise), and the surface's settings as JSON.
type Surface struct {
	Tenant    string
	Name      string
	Key       string
	Settings  json.RawMessage
	CreatedAt time.Time
	UpdatedAt time.Time
}

// EntityTrustedIssuer is a tenant's trusted external issuer; its key is
// the record's id.
const EntityTrustedIssuer = "trusted_issuer"

// TrustedIssuer is an external OpenID Connect or OAuth 2.0 issuer whose
// tokens a tenant accepts for RFC 8693 token exchange and RFC 7523
// jwt-bearer grants. Issuer is compared exactly with a token's iss and is
// unique in its tenant.
type TrustedIssuer struct {
	Tenant   string
	ID       string
	Issuer   string
	Settings IssuerSettings
	// IntrospectionSecret is the sealed client secret tokend presents to
	// the issuer's RFC 7662 introspection endpoint; nil when none.
	IntrospectionSecret []byte
	Disabled            bool
	CreatedAt           time.Time
	UpdatedAt           time.Time
}

// IssuerSettings is how a trusted issuer's tokens are checked and mapped
// to a tenant user.
type IssuerSettings struct {
	// Audiences are the accepted aud values, compared exactly; a token
	// must name at least one. Never empty.
	Audiences []string `json:"audiences"`
	// Algorithms are the accepted JWS algorithms; never none nor HS*.
	Algorithms []string `json:"algorithms"`
	// UserClaim is the claim naming the tenant user (its login): "sub"
	// (default), "email" or another claim.
	UserClaim string `json:"user_claim,omitempty"`
	// RequireEmailVerified refuses a token whose email_verified is not
	// true.
	RequireEmailVerified bool `json:"require_email_verified,omitempty"`
	// CreateUsers creates an unknown user on first exchange (off by
	// default) with DefaultRoles and DefaultGroups.
	CreateUsers   bool     `json:"create_users,omitempty"`
	DefaultRoles  []string `json:"default_roles,omitempty"`
	DefaultGroups []string `json:"default_groups,omitempty"`
	// GroupsClaim and RolesClaim name the external claims (default
	// "groups" and "roles") mapped through GroupMap and RoleMap to tenant
	// groups and roles; an external value without a mapping maps to
	// nothing.
	GroupsClaim string              `json:"groups_claim,omitempty"`
	GroupMap    map[string][]string `json:"group_map,omitempty"`
	RolesClaim  string              `json:"roles_claim,omitempty"`
	RoleMap     map[string][]string `json:"role_map,omitempty"`
	// MaxAge, in seconds, bounds how long ago the token was issued (iat)
	// and the user authenticated (auth_time, when present); 0: no bound
	// beyond exp.
	MaxAge int64 `json:"max_age,omitempty"`
	// IntrospectionURL, when set, checks opaque tokens of this issuer by
	// RFC 7662 introspection, authenticated as IntrospectionClientID.
	IntrospectionURL      string `json:"introspection_url,omitempty"`
	IntrospectionClientID string `json:"introspection_client_id,omitempty"`
}
