package store

import (
	"encoding/json"
	"time"
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
	Disabled     bool
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

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
	// token it signed has expired. Nil while active.
	PublishUntil *time.Time
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
	// FormatHex is an opaque token of 32 upper-case hex characters (128
	// random bits, seed 004's form), stored as its hash like FormatOpaque.
	FormatHex = "hex"
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
