package revoke

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/tokend/tokend/claims"
	"github.com/tokend/tokend/internal/audit"
	"github.com/tokend/tokend/internal/fault"
	"github.com/tokend/tokend/internal/store"
	"github.com/tokend/tokend/internal/tenant"
	"github.com/tokend/tokend/revocation"
)

// entry converts a log row to the deny-list's entry.
func entry(r store.Revocation) revocation.Entry {
	return revocation.Entry{Seq: r.Seq, Tenant: r.Tenant, Scope: r.Scope, SubjectType: r.SubjectType, Key: r.Key, Cutoff: r.Cutoff, Until: r.Until}
}

// Options configure a Service; Store and Audit are required.
type Options struct {
	Store store.Store
	Audit *audit.Recorder
	Log   *slog.Logger
	Now   func() time.Time
}

// Service revokes tokens and answers "is this token revoked?" from memory.
// Every revocation is first made durable (ledger row and revocation log in
// one transaction; failure is an unavailable fault, never a silent
// success), then applied to this replica's deny-list at once; other
// replicas apply it when they follow the log (Sync).
type Service struct {
	st   store.Store
	aud  *audit.Recorder
	log  *slog.Logger
	now  func() time.Time
	deny *revocation.DenyList
	sync sync.Mutex
	// changed is closed, and replaced, whenever entries are applied.
	chMu    sync.Mutex
	changed chan struct{}
}

// New returns a Service with an empty deny-list; call Sync to load it.
func New(o Options) (*Service, error) {
	if o.Store == nil || o.Audit == nil {
		return nil, errors.New("revoke: Store and Audit are required")
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	return &Service{st: o.Store, aud: o.Audit, log: o.Log, now: o.Now, deny: revocation.NewDenyList(), changed: make(chan struct{})}, nil
}

// Changed returns a channel closed the next time revocations are applied
// on this replica (made here or read from the log).
func (s *Service) Changed() <-chan struct{} {
	s.chMu.Lock()
	defer s.chMu.Unlock()
	return s.changed
}

func (s *Service) notify() {
	s.chMu.Lock()
	close(s.changed)
	s.changed = make(chan struct{})
	s.chMu.Unlock()
}

// DenyList returns the in-memory deny-list.
func (s *Service) DenyList() *revocation.DenyList { return s.deny }

// Sync applies every revocation logged since the last one applied. Calls
// are serialised; a call while another runs waits and then reads again.
func (s *Service) Sync(ctx context.Context) error {
	s.sync.Lock()
	defer s.sync.Unlock()
	for {
		l, err := s.st.Revocations().After(ctx, "", s.deny.Last(), 10000)
		if err != nil {
			return err
		}
		for _, r := range l {
			s.deny.Apply(entry(r))
		}
		if len(l) > 0 {
			s.notify()
		}
		if len(l) < 10000 {
			return nil
		}
	}
}

// Resync reads the whole revocation log again and merges it into the
// deny-list, keeping what the list holds: for a log that went back at a
// failover (see changes.Follower.Poll), whose new revocations may reuse
// the Seqs of lost ones.
func (s *Service) Resync(ctx context.Context) error {
	s.sync.Lock()
	s.deny.Rewind(0)
	s.sync.Unlock()
	return s.Sync(ctx)
}

// Reason returns why the token with claims c of tenant is revoked, or ""
// when it is not. It does no I/O.
func (s *Service) Reason(tenantID string, c *claims.Claims) string {
	issued, ok := revocation.TimeOfID(c.ID)
	if !ok {
		issued = time.Unix(c.IssuedAt, 0)
	}
	return s.deny.Reason(revocation.Presented{Tenant: tenantID, ID: c.ID, IssuedAt: issued, SubjectType: c.SubjectType,
		Subject: c.SubjectKey(), SessionID: c.SessionID, ClientID: c.ClientID})
}

// RowReason is Reason for a ledger row.
func (s *Service) RowReason(t store.Token) string {
	return s.deny.Reason(revocation.Presented{Tenant: t.Tenant, ID: t.ID, IssuedAt: t.IssuedAt, SubjectType: t.SubjectType,
		Subject: t.Subject, SessionID: t.SessionID, ClientID: t.ClientID, FamilyID: t.FamilyID})
}

// Actor is who revokes, for the audit log.
type Actor struct {
	Name     string // "system", "tenant/subject", "client:ID"
	ClientID string
}

// Token revokes one token by id. Revoking a revoked token succeeds and
// changes nothing; an unknown id is a not_found fault.
func (s *Service) Token(ctx context.Context, by Actor, tenantID, id string) (store.Token, error) {
	return s.TokenIn(ctx, s.st, by, tenantID, id)
}

// TokenIn is Token inside the caller's transaction st; the deny-list is
// updated at once, so the caller must not roll back after success.
func (s *Service) TokenIn(ctx context.Context, st store.Store, by Actor, tenantID, id string) (store.Token, error) {
	return s.tokenAt(ctx, st, by, tenantID, id, s.stamp(), "token.revoke")
}

// Replaced revokes a token that renewal has replaced, effective after
// grace: the old token keeps working that long, so requests already in
// flight with it do not fail. A revocation of it in the meantime (Token,
// or a cutoff) still takes effect at once.
func (s *Service) Replaced(ctx context.Context, st store.Store, by Actor, tenantID, id string, grace time.Duration) error {
	_, err := s.tokenAt(ctx, st, by, tenantID, id, s.stamp().Add(grace), "token.replace")
	return err
}

func (s *Service) tokenAt(ctx context.Context, st store.Store, by Actor, tenantID, id string, at time.Time, action string) (store.Token, error) {
	var out store.Token
	var rev store.Revocation
	err := st.Tx(ctx, func(tx store.Store) error {
		t, err := tx.Tokens().Get(ctx, tenantID, id)
		if errors.Is(err, store.ErrNotFound) {
			return fault.NotFound("token %q not found", id)
		}
		if err != nil {
			return err
		}
		if t.RevokedAt != nil && !t.RevokedAt.After(at) {
			out = t // revoked by then already
			return nil
		}
		// Not revoked, or revoked only ahead (a renewed token in its
		// grace): revoked at at.
		if err := tx.Tokens().Revoke(ctx, tenantID, id, at); err != nil {
			return err
		}
		t.RevokedAt = &at
		out = t
		if rev, err = tx.Revocations().Append(ctx, store.Revocation{Tenant: tenantID, Scope: store.RevokeToken, Key: id, Cutoff: at, Until: t.ExpiresAt}); err != nil {
			return err
		}
		return s.aud.Record(ctx, tx, store.AuditEvent{Tenant: tenantID, Action: action, Actor: by.Name,
			Subject: t.Subject, ClientID: by.ClientID, Detail: map[string]string{"jti": id, "kind": t.Kind}})
	})
	if err != nil {
		return store.Token{}, unavailable(err)
	}
	if rev.Key != "" {
		rev.Seq = 0 // applied ahead of the log; the follower applies it again in order
		s.deny.Apply(entry(rev))
		s.notify()
	}
	return out, nil
}

// Scopes that Before accepts.
var cutoffScopes = []string{store.RevokeSubject, store.RevokeSession, store.RevokeClient, store.RevokeFamily, store.RevokeTenant}

// SubjectTypes are the types of subject a token can have. Ids are unique
// only within a type: device "kiosk-1" and client "kiosk-1" are two
// subjects, and a subject cutoff names one of them.
var SubjectTypes = []string{"user", "client", "device", "customer"}

// Target is what a cutoff revocation matches: every token of Scope and Key
// (one of cutoffScopes; no Key for the tenant), and for RevokeSubject the
// subject's type.
type Target struct {
	Scope       string
	SubjectType string
	Key         string
}

// Subject is the Target of every token of one subject.
func Subject(subjectType, id string) Target {
	return Target{Scope: store.RevokeSubject, SubjectType: subjectType, Key: id}
}

// Before revokes every token of the tenant matching target issued before
// now — and none issued after, even within the same second (issue times
// have microsecond precision). The ledger rows are marked revoked in the
// same transaction.
func (s *Service) Before(ctx context.Context, by Actor, tenantID string, target Target) (store.Revocation, error) {
	return s.TargetIn(ctx, s.st, by, tenantID, target, "")
}

// BeforeIn is Before inside the caller's transaction st, for the scopes
// other than RevokeSubject (see TargetIn), with an audit action other than
// the default when action is set.
func (s *Service) BeforeIn(ctx context.Context, st store.Store, by Actor, tenantID, scope, key, action string) (store.Revocation, error) {
	return s.TargetIn(ctx, st, by, tenantID, Target{Scope: scope, Key: key}, action)
}

// TargetIn is Before inside the caller's transaction st, with an audit
// action other than the default when action is set. The revocation is
// applied to this replica's deny-list at once, so the caller must not roll
// back after success.
func (s *Service) TargetIn(ctx context.Context, st store.Store, by Actor, tenantID string, target Target, action string) (store.Revocation, error) {
	scope, key := target.Scope, target.Key
	if !contains(cutoffScopes, scope) {
		return store.Revocation{}, fault.Invalid("scope", "scope: must be one of %s", strings.Join(cutoffScopes, ", "))
	}
	if scope == store.RevokeTenant {
		key = ""
	} else if key == "" {
		return store.Revocation{}, fault.Invalid("key", "key: is required for scope %s", scope)
	}
	var subjectType string
	if scope == store.RevokeSubject {
		if subjectType = target.SubjectType; !contains(SubjectTypes, subjectType) {
			return store.Revocation{}, fault.Invalid("subject_type", "subject_type: is required for scope subject and must be one of %s",
				strings.Join(SubjectTypes, ", "))
		}
	}
	if action == "" {
		action = "token.revoke_" + scope
	}
	var rev store.Revocation
	err := st.Tx(ctx, func(tx store.Store) error {
		t, err := tx.Tenants().Get(ctx, tenantID)
		if errors.Is(err, store.ErrNotFound) {
			return fault.NotFound("tenant %q not found", tenantID)
		}
		if err != nil {
			return err
		}
		cut := s.stamp()
		r := store.Revocation{Tenant: tenantID, Scope: scope, SubjectType: subjectType, Key: key, Cutoff: cut}
		if pol := tenant.Effective(t.Policy); !pol.AllowEternal {
			// Every token this entry can match has expired by then.
			life := max(pol.MaxAccessTTL, pol.RefreshTTL, pol.MaxLifetime)
			until := cut.Add(time.Duration(life)*time.Second + time.Minute)
			r.Until = &until
		}
		// Rows first, then the log entry: the log's ordering lock is always
		// taken last, so a transaction holding a token row lock (a refresh)
		// and one marking rows revoked never wait for each other in a cycle.
		n, err := tx.Tokens().RevokeBefore(ctx, r, cut)
		if err != nil {
			return err
		}
		if rev, err = tx.Revocations().Append(ctx, r); err != nil {
			return err
		}
		detail := map[string]string{"scope": scope, "cutoff": cut.Format(time.RFC3339Nano), "ledger_rows": fmt.Sprint(n)}
		if subjectType != "" {
			detail["subject_type"] = subjectType
		}
		return s.aud.Record(ctx, tx, store.AuditEvent{Tenant: tenantID, Action: action, Actor: by.Name,
			Subject: key, ClientID: by.ClientID, Detail: detail})
	})
	if err != nil {
		return store.Revocation{}, unavailable(err)
	}
	applied := rev
	applied.Seq = 0
	s.deny.Apply(entry(applied))
	s.notify()
	return rev, nil
}

// PruneMargin is how long past its Until a revocation is still kept: a
// verifier's clock-skew leeway (30 s by default) may accept a token a
// little after its expiry, and a revoked one must stay refused that long.
const PruneMargin = 5 * time.Minute

// Prune forgets the deny-list entries that no longer matter — an entry's
// Until is when every token it can match has expired (a token's expiry; a
// cutoff's time plus the tenant's longest lifetime; none when the tenant
// allows eternal tokens) — and deletes at most limit of their log rows,
// returning how many. Call it until it returns less than limit. Log rows
// keep their Seq, so feed cursors stay valid: a follower behind them just
// never sees entries that could no longer match a valid token.
func (s *Service) Prune(ctx context.Context, limit int) (int, error) {
	before := s.now().Add(-PruneMargin)
	s.deny.Prune(before)
	return s.st.Revocations().DeleteExpired(ctx, before, limit)
}

func (s *Service) stamp() time.Time { return s.now().UTC().Truncate(time.Microsecond) }

// unavailable keeps faults and turns storage errors into 503s: a
// revocation that was not stored is never reported as done.
func unavailable(err error) error {
	if fault.As(err) != nil {
		return err
	}
	return fault.Unavailable(err)
}

func contains(l []string, s string) bool {
	for _, x := range l {
		if x == s {
			return true
		}
	}
	return false
}

// Feed returns up to limit entries of the tenant's revocation log after
// cursor, waiting up to wait for one when there is none yet (long poll).
func (s *Service) Feed(ctx context.Context, tenantID string, after int64, limit int, wait time.Duration) ([]revocation.Entry, error) {
	deadline := time.NewTimer(wait)
	defer deadline.Stop()
	for {
		changed := s.Changed()
		l, err := s.st.Revocations().After(ctx, tenantID, after, limit)
		if err != nil {
			return nil, fault.Unavailable(err)
		}
		if len(l) > 0 || wait <= 0 {
			out := make([]revocation.Entry, len(l))
			for i, r := range l {
				out[i] = entry(r)
			}
			return out, nil
		}
		select {
		case <-changed:
		case <-deadline.C:
			wait = 0
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}
