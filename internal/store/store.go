package store

import (
	"context"
	"errors"
	"time"
)

// Errors returned (wrapped with %w) by every backend.
var (
	ErrNotFound    = errors.New("store: not found")
	ErrConflict    = errors.New("store: conflict")
	ErrUnavailable = errors.New("store: unavailable")
	// ErrSchemaTooNew means the database was migrated by a newer tokend:
	// this binary refuses to run on a schema it does not know.
	ErrSchemaTooNew = errors.New("store: database schema is newer than this tokend knows")
)

// Store is the storage contract. Implementations are safe for concurrent use.
type Store interface {
	Tenants() Tenants
	Projects() Projects
	Clients() Clients
	Users() Users
	Devices() Devices
	Roles() Roles
	Groups() Groups
	Keys() Keys
	Tokens() Tokens
	Audit() Audit
	Changes() Changes
	Revocations() Revocations
	Throttle() Throttle
	Nonces() Nonces
	Surfaces() Surfaces
	TrustedIssuers() TrustedIssuers

	// Tx runs fn with a Store bound to one transaction; the transaction
	// commits when fn returns nil and rolls back otherwise. Calling Tx on a
	// transaction-bound Store runs fn in a savepoint of that transaction:
	// if fn fails, only its own writes are undone and the transaction may
	// go on.
	Tx(ctx context.Context, fn func(Store) error) error
	// Ping reports whether the database answers.
	Ping(ctx context.Context) error
	// Close releases the database. Only the root Store may be closed.
	Close() error
}

// Page selects one page of a keyset-paginated listing: items whose id sorts
// after After, at most Limit of them (1..1000; 0 means 100).
type Page struct {
	After string
	Limit int
}

// Tenants stores tenants. Deleting a tenant deletes everything it holds.
type Tenants interface {
	Create(ctx context.Context, t Tenant) error
	Get(ctx context.Context, id string) (Tenant, error)
	List(ctx context.Context, p Page) ([]Tenant, error)
	Update(ctx context.Context, t Tenant) error
	Delete(ctx context.Context, id string) error
	Count(ctx context.Context) (int, error)
}

// Projects stores the APIs of a tenant; a project's audience is unique in its
// tenant.
type Projects interface {
	Create(ctx context.Context, p Project) error
	Get(ctx context.Context, tenant, id string) (Project, error)
	GetByAudience(ctx context.Context, tenant, audience string) (Project, error)
	List(ctx context.Context, tenant string, p Page) ([]Project, error)
	Update(ctx context.Context, p Project) error
	Delete(ctx context.Context, tenant, id string) error
}

// Clients stores the applications of a tenant.
type Clients interface {
	Create(ctx context.Context, c Client) error
	Get(ctx context.Context, tenant, id string) (Client, error)
	List(ctx context.Context, tenant string, p Page) ([]Client, error)
	Update(ctx context.Context, c Client) error
	Delete(ctx context.Context, tenant, id string) error
}

// Users stores the people of a tenant; Login is unique in its tenant.
type Users interface {
	Create(ctx context.Context, u User) error
	Get(ctx context.Context, tenant, id string) (User, error)
	GetByLogin(ctx context.Context, tenant, login string) (User, error)
	List(ctx context.Context, tenant string, p Page) ([]User, error)
	Update(ctx context.Context, u User) error
	Delete(ctx context.Context, tenant, id string) error
}

// Devices stores the non-human principals of a tenant.
type Devices interface {
	Create(ctx context.Context, d Device) error
	Get(ctx context.Context, tenant, id string) (Device, error)
	List(ctx context.Context, tenant string, p Page) ([]Device, error)
	Update(ctx context.Context, d Device) error
	Delete(ctx context.Context, tenant, id string) error
}

// Roles stores named bundles of scopes and resources; Page.After is a name.
type Roles interface {
	Create(ctx context.Context, r Role) error
	Get(ctx context.Context, tenant, name string) (Role, error)
	List(ctx context.Context, tenant string, p Page) ([]Role, error)
	Update(ctx context.Context, r Role) error
	Delete(ctx context.Context, tenant, name string) error
}

// Groups stores named sets of roles; Page.After is a name.
type Groups interface {
	Create(ctx context.Context, g Group) error
	Get(ctx context.Context, tenant, name string) (Group, error)
	List(ctx context.Context, tenant string, p Page) ([]Group, error)
	Update(ctx context.Context, g Group) error
	Delete(ctx context.Context, tenant, name string) error
}

// Keys stores a tenant's signing keys.
type Keys interface {
	Create(ctx context.Context, k Key) error
	// List returns every key of the tenant, newest first.
	List(ctx context.Context, tenant string) ([]Key, error)
	// Update replaces State, RetiredAt, PublishUntil and ActivateAt of an
	// existing key.
	Update(ctx context.Context, k Key) error
	// Due returns up to limit KeyNext keys of every tenant whose
	// ActivateAt is not after now, the earliest first.
	Due(ctx context.Context, now time.Time, limit int) ([]Key, error)
	// DeleteExpired removes retired keys whose PublishUntil is before now
	// and returns how many it removed.
	DeleteExpired(ctx context.Context, tenant string, now time.Time) (int, error)
}

// Tokens is the ledger of issued tokens.
type Tokens interface {
	// Insert appends ledger rows, all in one transaction.
	Insert(ctx context.Context, ts ...Token) error
	Get(ctx context.Context, tenant, id string) (Token, error)
	// GetByHash finds an opaque token by the hash of its secret.
	GetByHash(ctx context.Context, hash []byte) (Token, error)
	// List returns ledger rows of a tenant matching f, ordered by id.
	List(ctx context.Context, tenant string, f TokenFilter) ([]Token, error)
	// Revoke sets RevokedAt to at on one token unless it is revoked by at
	// already (a revocation still ahead is brought forward). It reports
	// ErrNotFound for an unknown token.
	Revoke(ctx context.Context, tenant, id string, at time.Time) error
	// LockSubject serialises read-decide-writes on the tokens of one
	// subject (token limits, rotation, renewal) across replicas: inside a
	// transaction it takes the subject's lock row, which a concurrent
	// LockSubject of the same subject waits for until this transaction
	// ends. It returns how many tokens of the subject (of that type and
	// id) are neither revoked nor expired at now. Outside a transaction it
	// only counts.
	LockSubject(ctx context.Context, tenant, subjectType, subject string, now time.Time) (active int, err error)
	// DeleteExpired removes at most limit rows that expired before cutoff
	// and whose lifetime (LifetimeEnd, when set) ended before cutoff too,
	// and returns how many it removed. Eternal tokens are never removed; a
	// spent refresh token goes with the rest of its family's rows.
	DeleteExpired(ctx context.Context, cutoff time.Time, limit int) (int, error)
	// Lock returns one token and, inside a transaction, locks its row until
	// the transaction ends, so a read-decide-write on it is atomic.
	Lock(ctx context.Context, tenant, id string) (Token, error)
	// MarkUsed records the exchange of a refresh token: UsedAt, ReplacedBy
	// and GraceUsed are replaced.
	MarkUsed(ctx context.Context, t Token) error
	// RevokeBefore sets RevokedAt to at on every token of r.Tenant
	// matching r (a Revoke* cutoff scope with its key, and for
	// RevokeSubject its SubjectType) issued before r.Cutoff that is not
	// revoked by at already (a token whose revocation is still ahead, a
	// renewed one in its grace, is revoked at at), and returns how many it
	// changed.
	RevokeBefore(ctx context.Context, r Revocation, at time.Time) (int, error)
}

// TokenFilter narrows a ledger listing. Empty fields do not filter.
type TokenFilter struct {
	SubjectType string
	Subject     string
	ClientID    string
	Kind        string
	// ActiveAt, when set, keeps tokens neither revoked nor expired then.
	ActiveAt *time.Time
	Page     Page
}

// SealFunc completes an audit event once the backend has assigned its Seq
// and PrevHash: it must set Hash.
type SealFunc func(e *AuditEvent)

// Audit is the append-only, per-tenant hash-chained audit log.
type Audit interface {
	// Append assigns each event the next Seq of its tenant and the Hash of
	// the tenant's previous event as PrevHash (nil for the first), calls
	// seal, and stores the events, all in one transaction. Appends to one
	// tenant are serialised, so the chain has no forks.
	Append(ctx context.Context, seal SealFunc, events ...AuditEvent) error
	// List returns events of a tenant matching f, in ascending Seq.
	List(ctx context.Context, tenant string, f AuditFilter) ([]AuditEvent, error)
	// Prune deletes, in one transaction, the oldest events of the tenant's
	// chain up to limit, stopping at the first one at or after before, so
	// that what remains is the chain's tail; it stores sign(the last
	// deleted event) as the tenant's checkpoint and returns how many it
	// deleted.
	Prune(ctx context.Context, tenant string, before time.Time, limit int, sign func(last AuditEvent) AuditCheckpoint) (int, error)
	// Checkpoint returns the tenant's checkpoint; ErrNotFound when nothing
	// was pruned.
	Checkpoint(ctx context.Context, tenant string) (AuditCheckpoint, error)
}

// AuditCheckpoint stands for the pruned head of a tenant's audit chain:
// the last deleted event's Seq, Hash and Time, when it was pruned, and a
// signature over them that only the server can make.
type AuditCheckpoint struct {
	Tenant    string
	Seq       int64
	Hash      []byte
	EventTime time.Time
	PrunedAt  time.Time
	Sig       []byte
}

// AuditFilter narrows an audit listing. Empty fields do not filter.
type AuditFilter struct {
	From, To time.Time // inclusive From, exclusive To; zero is open
	Action   string
	Subject  string
	ClientID string
	Actor    string
	AfterSeq int64
	Limit    int // 1..1000; 0 means 100
}

// Changes is the ordered change log replicas follow to invalidate caches.
type Changes interface {
	// After returns up to limit changes with Seq > after, ascending.
	After(ctx context.Context, after int64, limit int) ([]Change, error)
	// Last returns the highest Seq, 0 when the log is empty.
	Last(ctx context.Context) (int64, error)
	// Append records a change that is not a side effect of another method
	// (for example a revocation cutoff in later versions).
	Append(ctx context.Context, c Change) error
	// DeleteBefore removes at most limit changes older than cutoff and
	// returns how many it removed.
	DeleteBefore(ctx context.Context, cutoff time.Time, limit int) (int, error)
}

// Revocations is the ordered revocation log every replica follows. Seq
// values become visible in commit order, so a follower reading by cursor
// never skips an entry.
type Revocations interface {
	// Append stores r with the next Seq and returns it with Seq and
	// CreatedAt set. It also appends a change (EntityRevocation) so that
	// followers wake.
	Append(ctx context.Context, r Revocation) (Revocation, error)
	// After returns up to limit entries with Seq > after, ascending; with
	// tenant set, only that tenant's.
	After(ctx context.Context, tenant string, after int64, limit int) ([]Revocation, error)
	// DeleteExpired removes at most limit entries whose Until is before
	// now (entries without Until stay) and returns how many it removed.
	// Seq values are never reused, so a follower's cursor stays valid.
	DeleteExpired(ctx context.Context, now time.Time, limit int) (int, error)
}

// Throttle counts failed attempts per key (an account or an address),
// shared by every replica.
type Throttle interface {
	// Get returns the failures counted for key and until when it is
	// blocked; zero values for an unknown key.
	Get(ctx context.Context, key string) (failures int, blockedUntil time.Time, err error)
	// Fail counts one more failure at now and sets blockedUntil to
	// backoff(failures) after now; it returns the new count.
	Fail(ctx context.Context, key string, now time.Time, backoff func(failures int) time.Duration) (int, error)
	// Reset forgets key.
	Reset(ctx context.Context, key string) error
	// DeleteBefore forgets at most limit keys whose last failure and
	// block both ended before cutoff, and returns how many it forgot.
	DeleteBefore(ctx context.Context, cutoff time.Time, limit int) (int, error)
}

// Nonces remembers values that may be used once (signatures of signed
// requests) until they expire.
type Nonces interface {
	// Use records key until expiresAt; a key already recorded and not yet
	// expired is ErrConflict.
	Use(ctx context.Context, key string, expiresAt time.Time) error
	// DeleteExpired forgets at most limit keys that expired before now and
	// returns how many it forgot.
	DeleteExpired(ctx context.Context, now time.Time, limit int) (int, error)
}

// Surfaces stores which compatible surfaces each tenant serves, with their
// settings. A surface's lookup key, when set, names one tenant only.
type Surfaces interface {
	// Put creates or replaces the tenant's record of s.Name; a lookup key
	// another tenant holds for the same surface is ErrConflict, an unknown
	// tenant ErrNotFound.
	Put(ctx context.Context, s Surface) error
	Get(ctx context.Context, tenant, name string) (Surface, error)
	// GetByKey returns the record of surface name whose lookup key is key.
	GetByKey(ctx context.Context, name, key string) (Surface, error)
	List(ctx context.Context, tenant string) ([]Surface, error)
	Delete(ctx context.Context, tenant, name string) error
}

// TrustedIssuers stores the external issuers each tenant trusts, and the
// jti of every jwt-bearer assertion accepted (RFC 7523 §3: once each).
type TrustedIssuers interface {
	// Create stores a new record; an issuer URL the tenant trusts already
	// is ErrConflict, an unknown tenant ErrNotFound.
	Create(ctx context.Context, ti TrustedIssuer) error
	Get(ctx context.Context, tenant, id string) (TrustedIssuer, error)
	// GetByIssuer returns the tenant's record whose Issuer is issuer.
	GetByIssuer(ctx context.Context, tenant, issuer string) (TrustedIssuer, error)
	List(ctx context.Context, tenant string) ([]TrustedIssuer, error)
	// Update replaces every field but the key and CreatedAt.
	Update(ctx context.Context, ti TrustedIssuer) error
	Delete(ctx context.Context, tenant, id string) error
	// UseJTI records jti of issuer in tenant until expiresAt; one recorded
	// and not yet expired is ErrConflict, on every replica.
	UseJTI(ctx context.Context, tenant, issuer, jti string, expiresAt time.Time) error
	// DeleteExpiredJTIs forgets at most limit jtis that expired before
	// now and returns how many it forgot.
	DeleteExpiredJTIs(ctx context.Context, now time.Time, limit int) (int, error)
}
