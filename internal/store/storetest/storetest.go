// Package storetest is the storage conformance suite: every backend runs
// Run and so behaves the same. Sub-tests use their own tenants, so they
// share one database and run in parallel where the contract allows.
package storetest

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/tokend/tokend/internal/secrets"
	"github.com/tokend/tokend/internal/store"
)

// Run runs the conformance suite against st, a migrated empty store.
func Run(t *testing.T, st store.Store) {
	s := &suite{st: st}
	t.Run("Tenants", s.tenants)
	t.Run("Directory", s.directory)
	t.Run("Isolation", s.isolation)
	t.Run("Transactions", s.transactions)
	t.Run("Keys", s.keys)
	t.Run("Tokens", s.tokens)
	t.Run("TimePrecision", s.timePrecision)
	t.Run("Pruning", s.pruning)
	t.Run("AuditChain", s.auditChain)
	t.Run("AuditPrune", s.auditPrune)
	t.Run("LargeBatches", s.largeBatches)
	t.Run("AuditInTransaction", s.auditInTransaction)
	t.Run("ConcurrentAudit", s.concurrentAudit)
	t.Run("ChangeLog", s.changeLog)
	t.Run("ConcurrentChanges", s.concurrentChanges)
	t.Run("RefreshState", s.refreshState)
	t.Run("RevokeBefore", s.revokeBefore)
	t.Run("SubjectLocks", s.subjectLocks)
	t.Run("Revocations", s.revocations)
	t.Run("Throttle", s.throttle)
	t.Run("Nonces", s.nonces)
	t.Run("Surfaces", s.surfaces)
	t.Run("TrustedIssuers", s.trustedIssuers)
}

type suite struct{ st store.Store }

var ctx = context.Background()

// now is a microsecond-precise UTC time, as the contract stores them.
func now() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }

func uniq(prefix string) string {
	b := make([]byte, 5)
	_, _ = rand.Read(b)
	return prefix + "-" + hex.EncodeToString(b)
}

func (s *suite) newTenant(t *testing.T) string {
	t.Helper()
	id := uniq("t")
	n := now()
	if err := s.st.Tenants().Create(ctx, store.Tenant{ID: id, DisplayName: "Test", CreatedAt: n, UpdatedAt: n}); err != nil {
		t.Fatalf("create tenant: %v", err)
	}
	return id
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func wantErr(t *testing.T, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("error = %v, want %v", err, want)
	}
}

func (s *suite) tenants(t *testing.T) {
	t.Parallel()
	n := now()
	id := uniq("t")
	pol := store.Policy{SigningAlg: "EdDSA", AccessTTL: 600, TokenLimit: 3, PasswordGrant: true, CORSOrigins: []string{"https://app.example.com"}}
	must(t, s.st.Tenants().Create(ctx, store.Tenant{ID: id, DisplayName: "Acme", Policy: pol, CreatedAt: n, UpdatedAt: n}))
	wantErr(t, s.st.Tenants().Create(ctx, store.Tenant{ID: id, CreatedAt: n, UpdatedAt: n}), store.ErrConflict)

	got, err := s.st.Tenants().Get(ctx, id)
	must(t, err)
	if got.DisplayName != "Acme" || !reflect.DeepEqual(got.Policy, pol) || !got.CreatedAt.Equal(n) {
		t.Fatalf("Get = %+v", got)
	}
	got.DisplayName = "Acme Inc"
	got.Policy.AccessTTL = 900
	got.CreatedAt = n.Add(time.Hour) // must not change
	got.UpdatedAt = n.Add(time.Second)
	must(t, s.st.Tenants().Update(ctx, got))
	again, err := s.st.Tenants().Get(ctx, id)
	must(t, err)
	if again.DisplayName != "Acme Inc" || again.Policy.AccessTTL != 900 || !again.CreatedAt.Equal(n) || !again.UpdatedAt.Equal(n.Add(time.Second)) {
		t.Fatalf("after Update = %+v", again)
	}
	wantErr(t, s.st.Tenants().Update(ctx, store.Tenant{ID: uniq("missing")}), store.ErrNotFound)

	count, err := s.st.Tenants().Count(ctx)
	must(t, err)
	if count < 1 {
		t.Fatalf("Count = %d", count)
	}

	// Keyset pagination returns every tenant once, in id order.
	var seen []string
	p := store.Page{Limit: 2}
	for i := 0; i < 10000; i++ {
		l, err := s.st.Tenants().List(ctx, p)
		must(t, err)
		for _, x := range l {
			seen = append(seen, x.ID)
		}
		if len(l) < p.Limit {
			break
		}
		p.After = l[len(l)-1].ID
	}
	found := false
	for i, x := range seen {
		if i > 0 && seen[i-1] >= x {
			t.Fatalf("List not in id order: %q then %q", seen[i-1], x)
		}
		found = found || x == id
	}
	if !found {
		t.Fatalf("List never returned %q", id)
	}

	must(t, s.st.Tenants().Delete(ctx, id))
	_, err = s.st.Tenants().Get(ctx, id)
	wantErr(t, err, store.ErrNotFound)
	wantErr(t, s.st.Tenants().Delete(ctx, id), store.ErrNotFound)
}

func (s *suite) directory(t *testing.T) {
	t.Parallel()
	ten := s.newTenant(t)
	n := now()

	t.Run("Clients", func(t *testing.T) {
		c := store.Client{Tenant: ten, ID: "web", DisplayName: "Web", SecretHash: []byte{1, 2, 3}, SecretAlg: store.SecretSHA256,
			GrantTypes: []string{"client_credentials"}, Scopes: []string{"read", "write"}, Policy: store.Policy{AccessTTL: 60},
			CreatedAt: n, UpdatedAt: n}
		must(t, s.st.Clients().Create(ctx, c))
		wantErr(t, s.st.Clients().Create(ctx, c), store.ErrConflict)
		got, err := s.st.Clients().Get(ctx, ten, "web")
		must(t, err)
		if !bytes.Equal(got.SecretHash, c.SecretHash) || got.Scopes[1] != "write" || got.Audiences == nil || got.Kinds == nil || got.Policy.AccessTTL != 60 {
			t.Fatalf("Get = %+v", got)
		}
		got.Disabled = true
		got.Scopes = nil
		must(t, s.st.Clients().Update(ctx, got))
		got, err = s.st.Clients().Get(ctx, ten, "web")
		must(t, err)
		if !got.Disabled || got.Scopes == nil || len(got.Scopes) != 0 {
			t.Fatalf("after Update = %+v", got)
		}
		must(t, s.st.Clients().Delete(ctx, ten, "web"))
		_, err = s.st.Clients().Get(ctx, ten, "web")
		wantErr(t, err, store.ErrNotFound)
	})

	t.Run("ClientSecretRef", func(t *testing.T) {
		ref := secrets.Ref{Backend: secrets.BackendVault, Mount: "kv", Path: "secret/{tenant}/{project}/{client}",
			Field: "secret_id", Version: 3, Project: "api", Client: "not stored"}
		c := store.Client{Tenant: ten, ID: "vaulted", SecretRef: ref, CreatedAt: n, UpdatedAt: n}
		must(t, s.st.Clients().Create(ctx, c))
		got, err := s.st.Clients().Get(ctx, ten, "vaulted")
		must(t, err)
		want := ref
		want.Client = ""
		if got.SecretRef != want || len(got.SecretHash) != 0 || !got.Confidential() {
			t.Fatalf("Get = %+v, want the reference %+v and no hash", got.SecretRef, want)
		}
		got.SecretRef = secrets.Ref{}
		got.SecretHash, got.SecretAlg = []byte{9}, store.SecretSHA256
		must(t, s.st.Clients().Update(ctx, got))
		got, err = s.st.Clients().Get(ctx, ten, "vaulted")
		must(t, err)
		if !got.SecretRef.IsZero() || !bytes.Equal(got.SecretHash, []byte{9}) {
			t.Fatalf("after Update = %+v", got)
		}
		plain := store.Client{Tenant: ten, ID: "plain", CreatedAt: n, UpdatedAt: n}
		must(t, s.st.Clients().Create(ctx, plain))
		if got, err := s.st.Clients().Get(ctx, ten, "plain"); err != nil || !got.SecretRef.IsZero() || got.Confidential() {
			t.Fatalf("a client without a reference = %+v, %v", got, err)
		}
		must(t, s.st.Clients().Delete(ctx, ten, "plain"))
		must(t, s.st.Clients().Delete(ctx, ten, "vaulted"))
	})

	t.Run("Users", func(t *testing.T) {
		u := store.User{Tenant: ten, ID: "u1", Login: "alice@example.com", PasswordHash: "$argon2id$x", Roles: []string{"admin"}, CreatedAt: n, UpdatedAt: n}
		must(t, s.st.Users().Create(ctx, u))
		u2 := u
		u2.ID = "u2"
		wantErr(t, s.st.Users().Create(ctx, u2), store.ErrConflict) // same login
		got, err := s.st.Users().GetByLogin(ctx, ten, "alice@example.com")
		must(t, err)
		if got.ID != "u1" || got.Roles[0] != "admin" || got.Groups == nil {
			t.Fatalf("GetByLogin = %+v", got)
		}
		_, err = s.st.Users().GetByLogin(ctx, ten, "bob@example.com")
		wantErr(t, err, store.ErrNotFound)
		got.Login = "alice2@example.com"
		must(t, s.st.Users().Update(ctx, got))
		u2.Login = "alice@example.com" // freed by the rename
		must(t, s.st.Users().Create(ctx, u2))
		l, err := s.st.Users().List(ctx, ten, store.Page{})
		must(t, err)
		if len(l) != 2 || l[0].ID != "u1" || l[1].ID != "u2" {
			t.Fatalf("List = %+v", l)
		}
		l, err = s.st.Users().List(ctx, ten, store.Page{After: "u1", Limit: 5})
		must(t, err)
		if len(l) != 1 || l[0].ID != "u2" {
			t.Fatalf("List after u1 = %+v", l)
		}
	})

	t.Run("Devices", func(t *testing.T) {
		d := store.Device{Tenant: ten, ID: "kiosk-1", Type: "kiosk", Metadata: map[string]string{"store": "42"}, CreatedAt: n, UpdatedAt: n}
		must(t, s.st.Devices().Create(ctx, d))
		got, err := s.st.Devices().Get(ctx, ten, "kiosk-1")
		must(t, err)
		if got.Metadata["store"] != "42" || got.Roles == nil || got.Type != "kiosk" {
			t.Fatalf("Get = %+v", got)
		}
		d2 := store.Device{Tenant: ten, ID: "d2", Type: "device", CreatedAt: n, UpdatedAt: n}
		must(t, s.st.Devices().Create(ctx, d2))
		got, err = s.st.Devices().Get(ctx, ten, "d2")
		must(t, err)
		if got.Metadata == nil || got.JTI != "" {
			t.Fatalf("Get = %+v", got)
		}
		// A store's current jti round-trips through Update.
		got.JTI = "0123456789abcdef0123456789abcdef"
		must(t, s.st.Devices().Update(ctx, got))
		got, err = s.st.Devices().Get(ctx, ten, "d2")
		must(t, err)
		if got.JTI != "0123456789abcdef0123456789abcdef" {
			t.Fatalf("JTI after Update = %q", got.JTI)
		}
	})

	t.Run("Projects", func(t *testing.T) {
		p := store.Project{Tenant: ten, ID: "orders", Audience: "https://orders.example.com", CreatedAt: n, UpdatedAt: n}
		must(t, s.st.Projects().Create(ctx, p))
		p2 := p
		p2.ID = "orders2"
		wantErr(t, s.st.Projects().Create(ctx, p2), store.ErrConflict) // same audience
		got, err := s.st.Projects().GetByAudience(ctx, ten, "https://orders.example.com")
		must(t, err)
		if got.ID != "orders" {
			t.Fatalf("GetByAudience = %+v", got)
		}
	})

	t.Run("RolesAndGroups", func(t *testing.T) {
		must(t, s.st.Roles().Create(ctx, store.Role{Tenant: ten, Name: "reader", Scopes: []string{"read"}, Resources: []string{"orders/*"}, CreatedAt: n, UpdatedAt: n}))
		must(t, s.st.Groups().Create(ctx, store.Group{Tenant: ten, Name: "staff", Roles: []string{"reader"}, CreatedAt: n, UpdatedAt: n}))
		r, err := s.st.Roles().Get(ctx, ten, "reader")
		must(t, err)
		if r.Resources[0] != "orders/*" {
			t.Fatalf("role = %+v", r)
		}
		g, err := s.st.Groups().Get(ctx, ten, "staff")
		must(t, err)
		if g.Roles[0] != "reader" {
			t.Fatalf("group = %+v", g)
		}
		wantErr(t, s.st.Roles().Delete(ctx, ten, "nope"), store.ErrNotFound)
		must(t, s.st.Groups().Delete(ctx, ten, "staff"))
	})

	t.Run("UnknownTenant", func(t *testing.T) {
		err := s.st.Clients().Create(ctx, store.Client{Tenant: uniq("ghost"), ID: "c", CreatedAt: n, UpdatedAt: n})
		wantErr(t, err, store.ErrNotFound)
	})

	t.Run("DeleteTenantCascades", func(t *testing.T) {
		other := s.newTenant(t)
		must(t, s.st.Clients().Create(ctx, store.Client{Tenant: other, ID: "c", CreatedAt: n, UpdatedAt: n}))
		must(t, s.st.Tokens().Insert(ctx, store.Token{Tenant: other, ID: uniq("tok"), Kind: "access", Format: store.FormatJWT, IssuedAt: n}))
		must(t, s.st.Tenants().Delete(ctx, other))
		_, err := s.st.Clients().Get(ctx, other, "c")
		wantErr(t, err, store.ErrNotFound)
		l, err := s.st.Tokens().List(ctx, other, store.TokenFilter{})
		must(t, err)
		if len(l) != 0 {
			t.Fatalf("tokens of deleted tenant remain: %d", len(l))
		}
	})
}

func (s *suite) isolation(t *testing.T) {
	t.Parallel()
	a, b := s.newTenant(t), s.newTenant(t)
	n := now()
	must(t, s.st.Clients().Create(ctx, store.Client{Tenant: a, ID: "shared", CreatedAt: n, UpdatedAt: n}))
	must(t, s.st.Users().Create(ctx, store.User{Tenant: a, ID: "u", Login: "same", CreatedAt: n, UpdatedAt: n}))
	// The same ids and logins are free in another tenant.
	must(t, s.st.Clients().Create(ctx, store.Client{Tenant: b, ID: "shared", DisplayName: "B", CreatedAt: n, UpdatedAt: n}))
	must(t, s.st.Users().Create(ctx, store.User{Tenant: b, ID: "u", Login: "same", CreatedAt: n, UpdatedAt: n}))
	c, err := s.st.Clients().Get(ctx, a, "shared")
	must(t, err)
	if c.DisplayName != "" {
		t.Fatalf("tenant %s sees tenant %s's client", a, b)
	}
	must(t, s.st.Tokens().Insert(ctx, store.Token{Tenant: a, ID: "tok-a", Kind: "access", Format: store.FormatJWT, IssuedAt: n}))
	_, err = s.st.Tokens().Get(ctx, b, "tok-a")
	wantErr(t, err, store.ErrNotFound)
	wantErr(t, s.st.Tokens().Revoke(ctx, b, "tok-a", n), store.ErrNotFound)
	must(t, s.st.Clients().Delete(ctx, b, "shared"))
	_, err = s.st.Clients().Get(ctx, a, "shared")
	must(t, err)
	l, err := s.st.Users().List(ctx, b, store.Page{})
	must(t, err)
	if len(l) != 1 || l[0].Tenant != b {
		t.Fatalf("List(b) = %+v", l)
	}
}

func (s *suite) transactions(t *testing.T) {
	t.Parallel()
	ten := s.newTenant(t)
	n := now()
	boom := errors.New("boom")
	err := s.st.Tx(ctx, func(tx store.Store) error {
		must(t, tx.Clients().Create(ctx, store.Client{Tenant: ten, ID: "c1", CreatedAt: n, UpdatedAt: n}))
		if _, err := tx.Clients().Get(ctx, ten, "c1"); err != nil {
			t.Errorf("a transaction does not see its own write: %v", err)
		}
		return boom
	})
	wantErr(t, err, boom)
	_, err = s.st.Clients().Get(ctx, ten, "c1")
	wantErr(t, err, store.ErrNotFound)

	must(t, s.st.Tx(ctx, func(tx store.Store) error {
		if err := tx.Clients().Create(ctx, store.Client{Tenant: ten, ID: "c2", CreatedAt: n, UpdatedAt: n}); err != nil {
			return err
		}
		// Nested Tx joins the outer transaction.
		return tx.Tx(ctx, func(inner store.Store) error {
			return inner.Users().Create(ctx, store.User{Tenant: ten, ID: "u", Login: "x", CreatedAt: n, UpdatedAt: n})
		})
	}))
	_, err = s.st.Users().Get(ctx, ten, "u")
	must(t, err)

	// A nested Tx that fails undoes only its own writes, even after a
	// failed statement (which on PostgreSQL dooms a transaction without a
	// savepoint); the outer transaction goes on and commits.
	must(t, s.st.Tx(ctx, func(tx store.Store) error {
		must(t, tx.Clients().Create(ctx, store.Client{Tenant: ten, ID: "c4", CreatedAt: n, UpdatedAt: n}))
		err := tx.Tx(ctx, func(inner store.Store) error {
			must(t, inner.Users().Create(ctx, store.User{Tenant: ten, ID: "u2", Login: "y", CreatedAt: n, UpdatedAt: n}))
			return inner.Tx(ctx, func(deeper store.Store) error {
				must(t, deeper.Users().Create(ctx, store.User{Tenant: ten, ID: "u3", Login: "z", CreatedAt: n, UpdatedAt: n}))
				return deeper.Clients().Create(ctx, store.Client{Tenant: ten, ID: "c2", CreatedAt: n, UpdatedAt: n})
			})
		})
		wantErr(t, err, store.ErrConflict)
		err = tx.Tx(ctx, func(inner store.Store) error {
			must(t, inner.Users().Create(ctx, store.User{Tenant: ten, ID: "u4", Login: "w", CreatedAt: n, UpdatedAt: n}))
			return boom
		})
		wantErr(t, err, boom)
		return tx.Tx(ctx, func(inner store.Store) error {
			return inner.Users().Create(ctx, store.User{Tenant: ten, ID: "u5", Login: "v", CreatedAt: n, UpdatedAt: n})
		})
	}))
	for id, want := range map[string]error{"u2": store.ErrNotFound, "u3": store.ErrNotFound, "u4": store.ErrNotFound, "u5": nil} {
		_, err := s.st.Users().Get(ctx, ten, id)
		if !errors.Is(err, want) {
			t.Errorf("user %s after the savepoints: %v, want %v", id, err, want)
		}
	}
	_, err = s.st.Clients().Get(ctx, ten, "c4")
	must(t, err)

	// A failing statement inside a transaction rolls back the earlier ones.
	err = s.st.Tx(ctx, func(tx store.Store) error {
		if err := tx.Clients().Create(ctx, store.Client{Tenant: ten, ID: "c3", CreatedAt: n, UpdatedAt: n}); err != nil {
			return err
		}
		return tx.Clients().Create(ctx, store.Client{Tenant: ten, ID: "c2", CreatedAt: n, UpdatedAt: n})
	})
	wantErr(t, err, store.ErrConflict)
	_, err = s.st.Clients().Get(ctx, ten, "c3")
	wantErr(t, err, store.ErrNotFound)
	must(t, s.st.Ping(ctx))
}

func (s *suite) keys(t *testing.T) {
	t.Parallel()
	ten := s.newTenant(t)
	n := now()
	old := store.Key{Tenant: ten, ID: "k1", Alg: "ES256", State: store.KeyActive, Private: []byte("sealed"), Public: []byte("der"), CreatedAt: n}
	must(t, s.st.Keys().Create(ctx, old))
	wantErr(t, s.st.Keys().Create(ctx, old), store.ErrConflict)
	must(t, s.st.Keys().Create(ctx, store.Key{Tenant: ten, ID: "k2", Alg: "HS256", State: store.KeyActive, Private: []byte("s2"), CreatedAt: n.Add(time.Second)}))
	l, err := s.st.Keys().List(ctx, ten)
	must(t, err)
	if len(l) != 2 || l[0].ID != "k2" || l[1].Public == nil || l[0].Public != nil {
		t.Fatalf("List = %+v", l)
	}
	retired, until := n.Add(time.Second), n.Add(time.Hour)
	old.State, old.RetiredAt, old.PublishUntil = store.KeyRetired, &retired, &until
	old.Alg = "RS256" // Update must not change it
	must(t, s.st.Keys().Update(ctx, old))
	l, err = s.st.Keys().List(ctx, ten)
	must(t, err)
	k := l[1]
	if k.State != store.KeyRetired || !k.RetiredAt.Equal(retired) || !k.PublishUntil.Equal(until) || k.Alg != "ES256" {
		t.Fatalf("after Update = %+v", k)
	}
	wantErr(t, s.st.Keys().Update(ctx, store.Key{Tenant: ten, ID: "nope", State: store.KeyRetired}), store.ErrNotFound)
	d, err := s.st.Keys().DeleteExpired(ctx, ten, until.Add(-time.Second))
	must(t, err)
	if d != 0 {
		t.Fatalf("deleted a key still published: %d", d)
	}
	d, err = s.st.Keys().DeleteExpired(ctx, ten, until.Add(time.Second))
	must(t, err)
	if d != 1 {
		t.Fatalf("DeleteExpired = %d, want 1", d)
	}

	// A staged rotation's key: one per tenant, found when due.
	at := n.Add(10 * time.Minute)
	next := store.Key{Tenant: ten, ID: "k3", Alg: "ES256", State: store.KeyNext, Private: []byte("s3"), Public: []byte("der3"), CreatedAt: n.Add(2 * time.Second), ActivateAt: &at}
	must(t, s.st.Keys().Create(ctx, next))
	wantErr(t, s.st.Keys().Create(ctx, store.Key{Tenant: ten, ID: "k4", Alg: "ES256", State: store.KeyNext, Private: []byte("s4"), CreatedAt: n, ActivateAt: &at}), store.ErrConflict)
	other := s.newTenant(t)
	later := at.Add(time.Minute)
	must(t, s.st.Keys().Create(ctx, store.Key{Tenant: other, ID: "k5", Alg: "ES256", State: store.KeyNext, Private: []byte("s5"), CreatedAt: n, ActivateAt: &later}))
	due := func(at time.Time) []string {
		l, err := s.st.Keys().Due(ctx, at, 1000)
		must(t, err)
		var ids []string
		for _, k := range l {
			if k.Tenant == ten || k.Tenant == other {
				ids = append(ids, k.ID)
			}
		}
		return ids
	}
	if got := due(at.Add(-time.Microsecond)); len(got) != 0 {
		t.Fatalf("Due before the activation time = %v", got)
	}
	if got := due(at); !slices.Equal(got, []string{"k3"}) {
		t.Fatalf("Due at the activation time = %v", got)
	}
	if got := due(later); !slices.Equal(got, []string{"k3", "k5"}) {
		t.Fatalf("Due later = %v, want the earliest first", got)
	}
	l, err = s.st.Keys().List(ctx, ten)
	must(t, err)
	if l[0].ID != "k3" || l[0].ActivateAt == nil || !l[0].ActivateAt.Equal(at) {
		t.Fatalf("List with a next key = %+v", l[0])
	}
	next.State, next.ActivateAt = store.KeyActive, &at
	must(t, s.st.Keys().Update(ctx, next))
	if got := due(later); !slices.Equal(got, []string{"k5"}) {
		t.Fatalf("Due after promotion = %v", got)
	}
	// Once promoted, another key may be staged.
	must(t, s.st.Keys().Create(ctx, store.Key{Tenant: ten, ID: "k6", Alg: "ES256", State: store.KeyNext, Private: []byte("s6"), CreatedAt: n, ActivateAt: &later}))
}

func (s *suite) tokens(t *testing.T) {
	t.Parallel()
	ten := s.newTenant(t)
	n := now()
	exp := n.Add(time.Hour)
	past := n.Add(-time.Hour)
	hash := []byte(uniq("hash"))
	rows := []store.Token{
		{Tenant: ten, ID: "a1", Kind: "access", Format: store.FormatJWT, SubjectType: "user", Subject: "alice", ClientID: "web",
			Audience: []string{"api"}, Scope: []string{"read"}, IssuedAt: n, ExpiresAt: &exp,
			Origins: []string{"https://shop.example.com"}, Channels: []string{"1", "2"}, ServerSide: true},
		{Tenant: ten, ID: "a2", Kind: "refresh", Format: store.FormatOpaque, Hash: hash, SubjectType: "user", Subject: "alice", ClientID: "web", FamilyID: "f1",
			IssuedAt: n, ExpiresAt: &exp, LifetimeEnd: &exp},
		{Tenant: ten, ID: "a3", Kind: "access", Format: store.FormatJWT, SubjectType: "user", Subject: "alice", ClientID: "cli", IssuedAt: past, ExpiresAt: &past},
		{Tenant: ten, ID: "a4", Kind: "device", Format: store.FormatJWT, SubjectType: "device", Subject: "kiosk", IssuedAt: n},
		// A device with a user's id: another subject.
		{Tenant: ten, ID: "a6", Kind: "device", Format: store.FormatJWT, SubjectType: "device", Subject: "alice", IssuedAt: n},
	}
	must(t, s.st.Tokens().Insert(ctx, rows...))
	wantErr(t, s.st.Tokens().Insert(ctx, store.Token{Tenant: ten, ID: "a5", Kind: "access", Format: store.FormatJWT, IssuedAt: n},
		rows[0]), store.ErrConflict)
	_, err := s.st.Tokens().Get(ctx, ten, "a5")
	wantErr(t, err, store.ErrNotFound) // the batch is all or nothing

	got, err := s.st.Tokens().Get(ctx, ten, "a1")
	must(t, err)
	if got.Audience[0] != "api" || got.Scope[0] != "read" || !got.ExpiresAt.Equal(exp) || got.RevokedAt != nil || got.Hash != nil ||
		got.Origins[0] != "https://shop.example.com" || len(got.Channels) != 2 || !got.ServerSide {
		t.Fatalf("Get = %+v", got)
	}
	byHash, err := s.st.Tokens().GetByHash(ctx, hash)
	must(t, err)
	if byHash.ID != "a2" || byHash.FamilyID != "f1" {
		t.Fatalf("GetByHash = %+v", byHash)
	}
	_, err = s.st.Tokens().GetByHash(ctx, []byte("unknown"))
	wantErr(t, err, store.ErrNotFound)
	eternal, err := s.st.Tokens().Get(ctx, ten, "a4")
	must(t, err)
	if eternal.ExpiresAt != nil || eternal.Scope == nil || eternal.Audience == nil {
		t.Fatalf("eternal token = %+v", eternal)
	}

	count, err := s.st.Tokens().LockSubject(ctx, ten, "user", "alice", n)
	must(t, err)
	if count != 2 {
		t.Fatalf("LockSubject(user alice) = %d active, want 2", count)
	}
	if count, err = s.st.Tokens().LockSubject(ctx, ten, "device", "alice", n); err != nil || count != 1 {
		t.Fatalf("LockSubject(device alice) = %d active, %v; want 1", count, err)
	}
	at := n.Add(time.Second)
	must(t, s.st.Tokens().Revoke(ctx, ten, "a1", at))
	must(t, s.st.Tokens().Revoke(ctx, ten, "a1", at.Add(time.Hour))) // idempotent, keeps the first time
	got, err = s.st.Tokens().Get(ctx, ten, "a1")
	must(t, err)
	if got.RevokedAt == nil || !got.RevokedAt.Equal(at) {
		t.Fatalf("RevokedAt = %v, want %v", got.RevokedAt, at)
	}
	wantErr(t, s.st.Tokens().Revoke(ctx, ten, "nope", at), store.ErrNotFound)
	count, err = s.st.Tokens().LockSubject(ctx, ten, "user", "alice", n)
	must(t, err)
	if count != 1 {
		t.Fatalf("LockSubject after revoke = %d active, want 1", count)
	}
	// A revocation still ahead (a renewed token in its grace) is brought
	// forward by a revocation now; one now is never pushed back.
	must(t, s.st.Tokens().Revoke(ctx, ten, "a4", at.Add(time.Hour)))
	must(t, s.st.Tokens().Revoke(ctx, ten, "a4", at))
	if got, err = s.st.Tokens().Get(ctx, ten, "a4"); err != nil || got.RevokedAt == nil || !got.RevokedAt.Equal(at) {
		t.Fatalf("revocation ahead brought forward: RevokedAt = %v, %v; want %v", got.RevokedAt, err, at)
	}

	for _, tc := range []struct {
		name string
		f    store.TokenFilter
		want []string
	}{
		{"all", store.TokenFilter{}, []string{"a1", "a2", "a3", "a4", "a6"}},
		{"subject", store.TokenFilter{Subject: "alice"}, []string{"a1", "a2", "a3", "a6"}},
		{"subject and type", store.TokenFilter{SubjectType: "user", Subject: "alice"}, []string{"a1", "a2", "a3"}},
		{"subject type", store.TokenFilter{SubjectType: "device"}, []string{"a4", "a6"}},
		{"client", store.TokenFilter{ClientID: "cli"}, []string{"a3"}},
		{"kind", store.TokenFilter{Kind: "device"}, []string{"a4", "a6"}},
		{"active", store.TokenFilter{ActiveAt: &n}, []string{"a2", "a6"}},
		{"page", store.TokenFilter{Page: store.Page{After: "a1", Limit: 2}}, []string{"a2", "a3"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l, err := s.st.Tokens().List(ctx, ten, tc.f)
			must(t, err)
			var ids []string
			for _, x := range l {
				ids = append(ids, x.ID)
			}
			if fmt.Sprint(ids) != fmt.Sprint(tc.want) {
				t.Fatalf("List = %v, want %v", ids, tc.want)
			}
		})
	}
}

func (s *suite) timePrecision(t *testing.T) {
	t.Parallel()
	ten := s.newTenant(t)
	// Two instants one microsecond apart stay distinct and ordered.
	base := time.Date(2026, 3, 1, 12, 0, 0, 123456000, time.UTC)
	later := base.Add(time.Microsecond)
	must(t, s.st.Tokens().Insert(ctx,
		store.Token{Tenant: ten, ID: "p1", Kind: "access", Format: store.FormatJWT, IssuedAt: base, ExpiresAt: &later}))
	got, err := s.st.Tokens().Get(ctx, ten, "p1")
	must(t, err)
	if !got.IssuedAt.Equal(base) || !got.ExpiresAt.Equal(later) || got.IssuedAt.Location() != time.UTC {
		t.Fatalf("times = %v / %v, want %v / %v in UTC", got.IssuedAt, got.ExpiresAt, base, later)
	}
	active, err := s.st.Tokens().List(ctx, ten, store.TokenFilter{ActiveAt: &base})
	must(t, err)
	if len(active) != 1 {
		t.Fatalf("token expiring 1µs later is not active")
	}
	active, err = s.st.Tokens().List(ctx, ten, store.TokenFilter{ActiveAt: &later})
	must(t, err)
	if len(active) != 0 {
		t.Fatalf("token is active at its expiry instant")
	}
	// Non-UTC input comes back in UTC at the same instant.
	loc := time.FixedZone("X", 5*3600)
	must(t, s.st.Tenants().Update(ctx, store.Tenant{ID: ten, CreatedAt: base.In(loc), UpdatedAt: later.In(loc)}))
	tt, err := s.st.Tenants().Get(ctx, ten)
	must(t, err)
	if !tt.UpdatedAt.Equal(later) || tt.UpdatedAt.Location() != time.UTC {
		t.Fatalf("UpdatedAt = %v", tt.UpdatedAt)
	}
}

func (s *suite) pruning(t *testing.T) {
	t.Parallel()
	ten := s.newTenant(t)
	// Far in the past, so other sub-tests' rows are never older.
	old := time.Date(2001, 1, 1, 0, 0, 0, 0, time.UTC)
	var rows []store.Token
	for i := range 5 {
		exp := old.Add(time.Duration(i) * time.Second)
		rows = append(rows, store.Token{Tenant: ten, ID: fmt.Sprintf("old-%d", i), Kind: "access", Format: store.FormatJWT, IssuedAt: old, ExpiresAt: &exp})
	}
	fresh := now().Add(time.Hour)
	// A spent refresh token whose expiry is past goes; an expired token
	// whose lifetime (renewal window) still runs stays.
	spent := old.Add(time.Minute)
	rows = append(rows, store.Token{Tenant: ten, ID: "fresh", Kind: "access", Format: store.FormatJWT, IssuedAt: now(), ExpiresAt: &fresh},
		store.Token{Tenant: ten, ID: "eternal", Kind: "device", Format: store.FormatJWT, IssuedAt: old},
		store.Token{Tenant: ten, ID: "old-spent", Kind: "refresh", Format: store.FormatOpaque, Hash: []byte(uniq("hash")), SessionID: "s",
			IssuedAt: old, ExpiresAt: &spent, UsedAt: &spent, ReplacedBy: "next"},
		store.Token{Tenant: ten, ID: "renewable", Kind: "device", Format: store.FormatJWT, IssuedAt: old, ExpiresAt: &spent, LifetimeEnd: &fresh})
	must(t, s.st.Tokens().Insert(ctx, rows...))
	cutoff := old.Add(time.Hour)
	if n, err := s.st.Tokens().DeleteExpired(ctx, cutoff, 0); err != nil || n != 0 {
		t.Fatalf("DeleteExpired(limit 0) = %d, %v", n, err)
	}
	n, err := s.st.Tokens().DeleteExpired(ctx, cutoff, 3)
	must(t, err)
	if n != 3 {
		t.Fatalf("DeleteExpired(limit 3) = %d", n)
	}
	n, err = s.st.Tokens().DeleteExpired(ctx, cutoff, 100)
	must(t, err)
	if n != 3 {
		t.Fatalf("second DeleteExpired = %d, want 3", n)
	}
	l, err := s.st.Tokens().List(ctx, ten, store.TokenFilter{})
	must(t, err)
	if len(l) != 3 || l[0].ID != "eternal" || l[1].ID != "fresh" || l[2].ID != "renewable" {
		t.Fatalf("remaining = %+v", l)
	}
}

// seal is a stand-in for audit.Seal: a hash over seq, prev hash and action.
func seal(e *store.AuditEvent) {
	h := sha256.Sum256(fmt.Appendf(nil, "%d|%x|%s", e.Seq, e.PrevHash, e.Action))
	e.Hash = h[:]
}

func (s *suite) auditChain(t *testing.T) {
	t.Parallel()
	ten := s.newTenant(t)
	base := now()
	for i, a := range []string{"client.create", "token.issue", "token.issue"} {
		e := store.AuditEvent{Tenant: ten, Time: base.Add(time.Duration(i) * time.Second), Action: a, Outcome: "success",
			Actor: "system", Subject: fmt.Sprintf("s%d", i), ClientID: "web", RemoteAddr: "127.0.0.1", Detail: map[string]string{"i": fmt.Sprint(i)}}
		must(t, s.st.Audit().Append(ctx, seal, e))
	}
	must(t, s.st.Audit().Append(ctx, seal,
		store.AuditEvent{Tenant: ten, Time: base.Add(3 * time.Second), Action: "auth.fail", Outcome: "failure", Actor: "user:bob"},
		store.AuditEvent{Tenant: ten, Time: base.Add(4 * time.Second), Action: "token.revoke", Outcome: "success"}))
	l, err := s.st.Audit().List(ctx, ten, store.AuditFilter{})
	must(t, err)
	if len(l) != 5 {
		t.Fatalf("%d events", len(l))
	}
	for i, e := range l {
		if e.Seq != int64(i+1) {
			t.Fatalf("event %d has seq %d", i, e.Seq)
		}
		want := []byte(nil)
		if i > 0 {
			want = l[i-1].Hash
		}
		if !bytes.Equal(e.PrevHash, want) {
			t.Fatalf("event %d PrevHash = %q, want %q", e.Seq, e.PrevHash, want)
		}
		if e.Detail == nil {
			t.Fatalf("event %d has nil Detail", e.Seq)
		}
	}
	if l[0].Detail["i"] != "0" || l[0].RemoteAddr != "127.0.0.1" {
		t.Fatalf("first event = %+v", l[0])
	}
	for _, tc := range []struct {
		name string
		f    store.AuditFilter
		want int
	}{
		{"action", store.AuditFilter{Action: "token.issue"}, 2},
		{"actor", store.AuditFilter{Actor: "user:bob"}, 1},
		{"subject", store.AuditFilter{Subject: "s1"}, 1},
		{"client", store.AuditFilter{ClientID: "web"}, 3},
		{"from", store.AuditFilter{From: base.Add(time.Second)}, 4},
		{"to exclusive", store.AuditFilter{To: base.Add(time.Second)}, 1},
		{"after seq", store.AuditFilter{AfterSeq: 3}, 2},
		{"limit", store.AuditFilter{Limit: 2}, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l, err := s.st.Audit().List(ctx, ten, tc.f)
			must(t, err)
			if len(l) != tc.want {
				t.Fatalf("%d events, want %d", len(l), tc.want)
			}
		})
	}
	other, err := s.st.Audit().List(ctx, s.newTenant(t), store.AuditFilter{})
	must(t, err)
	if len(other) != 0 {
		t.Fatalf("a new tenant has %d events", len(other))
	}
}

// largeBatches: one Insert or Append of many rows (which a backend may
// split into several statements) stores every row intact, all or nothing.
func (s *suite) largeBatches(t *testing.T) {
	t.Parallel()
	ten := s.newTenant(t)
	n := now()
	exp := n.Add(time.Hour)
	const count = 151 // not a power of two: several chunk sizes
	var rows []store.Token
	var events []store.AuditEvent
	for i := range count {
		r := store.Token{Tenant: ten, ID: fmt.Sprintf("b%03d", i), Kind: "access", Format: store.FormatJWT, Subject: fmt.Sprintf("s%d", i),
			ClientID: "web", Scope: []string{"read", fmt.Sprint(i)}, IssuedAt: n.Add(time.Duration(i) * time.Microsecond), ExpiresAt: &exp}
		if i%3 == 0 {
			r.Kind, r.Format, r.Hash, r.FamilyID = "refresh", store.FormatOpaque, []byte(uniq("h")), "f"
		}
		if i%5 == 0 {
			// NULLs and non-NULLs of every column type in one batch.
			lte := n.Add(24 * time.Hour)
			r.ExpiresAt, r.LifetimeEnd, r.ServerSide, r.Origins = nil, &lte, true, []string{"https://shop.example"}
		}
		rows = append(rows, r)
		events = append(events, store.AuditEvent{Tenant: ten, Time: n, Action: "token.issue", Outcome: "success",
			Subject: r.Subject, Detail: map[string]string{"jti": r.ID}})
	}
	must(t, s.st.Tokens().Insert(ctx, rows...))
	must(t, s.st.Audit().Append(ctx, seal, events...))
	got, err := s.st.Tokens().List(ctx, ten, store.TokenFilter{Page: store.Page{Limit: 1000}})
	must(t, err)
	if len(got) != count {
		t.Fatalf("%d rows, want %d", len(got), count)
	}
	for i, g := range got {
		w := rows[i]
		if g.ID != w.ID || g.Subject != w.Subject || g.Kind != w.Kind || !bytes.Equal(g.Hash, w.Hash) || g.FamilyID != w.FamilyID ||
			!g.IssuedAt.Equal(w.IssuedAt) || !slices.Equal(g.Scope, w.Scope) || !equalTime(g.ExpiresAt, w.ExpiresAt) ||
			!equalTime(g.LifetimeEnd, w.LifetimeEnd) || g.ServerSide != w.ServerSide || !slices.Equal(g.Origins, nonNilList(w.Origins)) {
			t.Fatalf("row %d = %+v, want %+v", i, g, w)
		}
	}
	l, err := s.st.Audit().List(ctx, ten, store.AuditFilter{Limit: 1000})
	must(t, err)
	if len(l) != count {
		t.Fatalf("%d events, want %d", len(l), count)
	}
	for i, e := range l {
		if e.Seq != int64(i+1) || e.Detail["jti"] != rows[i].ID || (i > 0 && !bytes.Equal(e.PrevHash, l[i-1].Hash)) {
			t.Fatalf("event %d = %+v", i, e)
		}
	}
	// A duplicate in the last rows of a batch fails all of it.
	var again []store.Token
	for i := range count {
		again = append(again, store.Token{Tenant: ten, ID: fmt.Sprintf("c%03d", i), Kind: "access", Format: store.FormatJWT, IssuedAt: n})
	}
	again[count-1].ID = "b000"
	wantErr(t, s.st.Tokens().Insert(ctx, again...), store.ErrConflict)
	_, err = s.st.Tokens().Get(ctx, ten, "c000")
	wantErr(t, err, store.ErrNotFound)
}

// auditInTransaction: appends within one transaction, some inside
// savepoints that fail, leave one unbroken chain without the failed
// savepoints' events, and the chain continues in the next transaction.
func (s *suite) auditInTransaction(t *testing.T) {
	t.Parallel()
	ten := s.newTenant(t)
	n := now()
	ev := func(a string) store.AuditEvent {
		return store.AuditEvent{Tenant: ten, Time: n, Action: a, Outcome: "success"}
	}
	boom := errors.New("boom")
	must(t, s.st.Audit().Append(ctx, seal, ev("before")))
	must(t, s.st.Tx(ctx, func(tx store.Store) error {
		must(t, tx.Audit().Append(ctx, seal, ev("a1"), ev("a2")))
		wantErr(t, tx.Tx(ctx, func(sp store.Store) error {
			must(t, sp.Audit().Append(ctx, seal, ev("undone1")))
			must(t, sp.Tx(ctx, func(deeper store.Store) error { return deeper.Audit().Append(ctx, seal, ev("undone2")) }))
			return boom
		}), boom)
		must(t, tx.Audit().Append(ctx, seal, ev("a3")))
		must(t, tx.Tx(ctx, func(sp store.Store) error { return sp.Audit().Append(ctx, seal, ev("kept")) }))
		return tx.Audit().Append(ctx, seal, ev("a4"))
	}))
	must(t, s.st.Audit().Append(ctx, seal, ev("after")))
	l, err := s.st.Audit().List(ctx, ten, store.AuditFilter{})
	must(t, err)
	var got []string
	for i, e := range l {
		got = append(got, e.Action)
		if e.Seq != int64(i+1) || (i > 0 && !bytes.Equal(e.PrevHash, l[i-1].Hash)) {
			t.Fatalf("event %d (%s) breaks the chain: seq %d", i, e.Action, e.Seq)
		}
	}
	if want := []string{"before", "a1", "a2", "a3", "kept", "a4", "after"}; !slices.Equal(got, want) {
		t.Fatalf("events %v, want %v", got, want)
	}
}

func (s *suite) concurrentAudit(t *testing.T) {
	t.Parallel()
	ten := s.newTenant(t)
	const workers, each = 8, 10
	var wg sync.WaitGroup
	errs := make(chan error, workers*each)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				e := store.AuditEvent{Tenant: ten, Time: now(), Action: fmt.Sprintf("w%d.%d", w, i), Outcome: "success"}
				if err := s.st.Audit().Append(ctx, seal, e); err != nil {
					errs <- err
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	l, err := s.st.Audit().List(ctx, ten, store.AuditFilter{Limit: 1000})
	must(t, err)
	if len(l) != workers*each {
		t.Fatalf("%d events, want %d", len(l), workers*each)
	}
	for i := 1; i < len(l); i++ {
		if l[i].Seq != l[i-1].Seq+1 || !bytes.Equal(l[i].PrevHash, l[i-1].Hash) {
			t.Fatalf("chain forks at seq %d", l[i].Seq)
		}
	}
}

func (s *suite) changeLog(t *testing.T) {
	t.Parallel()
	ten := s.newTenant(t)
	n := now()
	must(t, s.st.Clients().Create(ctx, store.Client{Tenant: ten, ID: "c", CreatedAt: n, UpdatedAt: n}))
	must(t, s.st.Clients().Update(ctx, store.Client{Tenant: ten, ID: "c", DisplayName: "x", CreatedAt: n, UpdatedAt: n}))
	must(t, s.st.Roles().Create(ctx, store.Role{Tenant: ten, Name: "r", CreatedAt: n, UpdatedAt: n}))
	must(t, s.st.Keys().Create(ctx, store.Key{Tenant: ten, ID: "k", Alg: "ES256", State: store.KeyActive, Private: []byte{1}, CreatedAt: n}))
	must(t, s.st.Clients().Delete(ctx, ten, "c"))
	must(t, s.st.Changes().Append(ctx, store.Change{Tenant: ten, Entity: store.EntityToken, Key: "cutoff"}))
	// A rolled-back mutation leaves no change.
	_ = s.st.Tx(ctx, func(tx store.Store) error {
		must(t, tx.Users().Create(ctx, store.User{Tenant: ten, ID: "ghost", Login: "ghost", CreatedAt: n, UpdatedAt: n}))
		return errors.New("rollback")
	})

	var mine []store.Change
	var after int64
	for {
		l, err := s.st.Changes().After(ctx, after, 100)
		must(t, err)
		if len(l) == 0 {
			break
		}
		for _, c := range l {
			if c.Seq <= after {
				t.Fatalf("change %d after cursor %d", c.Seq, after)
			}
			after = c.Seq
			if c.Tenant == ten {
				mine = append(mine, c)
			}
		}
	}
	var got []string
	for _, c := range mine {
		got = append(got, c.Entity+":"+c.Key)
	}
	want := []string{"tenant:" + ten, "client:c", "client:c", "role:r", "key:k", "client:c", "token:cutoff"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("changes = %v, want %v", got, want)
	}
	last, err := s.st.Changes().Last(ctx)
	must(t, err)
	if last < after {
		t.Fatalf("Last = %d, below seen %d", last, after)
	}
	// Pruning old changes never removes the newest, so Last stays.
	_, err = s.st.Changes().DeleteBefore(ctx, time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC), 1000)
	must(t, err)
	again, err := s.st.Changes().Last(ctx)
	must(t, err)
	if again < last {
		t.Fatalf("Last went back from %d to %d", last, again)
	}
}

// concurrentChanges checks that a follower reading by cursor while writers
// commit concurrently never skips a change: every change a writer
// committed is eventually seen, each once, in increasing order.
func (s *suite) concurrentChanges(t *testing.T) {
	t.Parallel()
	ten := s.newTenant(t)
	start, err := s.st.Changes().Last(ctx)
	must(t, err)
	const writers, each = 6, 15
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				err := s.st.Changes().Append(ctx, store.Change{Tenant: ten, Entity: store.EntityToken, Key: fmt.Sprintf("%d-%d", w, i)})
				if err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	seen := map[string]bool{}
	cursor := start
	deadline := time.Now().Add(30 * time.Second)
	for finished := false; ; {
		select {
		case <-done:
			finished = true
		default:
		}
		l, err := s.st.Changes().After(ctx, cursor, 7)
		must(t, err)
		for _, c := range l {
			if c.Seq <= cursor {
				t.Fatalf("seq %d not after cursor %d", c.Seq, cursor)
			}
			cursor = c.Seq
			if c.Tenant == ten {
				if seen[c.Key] {
					t.Fatalf("change %s seen twice", c.Key)
				}
				seen[c.Key] = true
			}
		}
		if finished && len(l) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("follower did not catch up within 30s")
		}
	}
	if len(seen) != writers*each {
		t.Fatalf("follower saw %d of %d changes", len(seen), writers*each)
	}
}

func (s *suite) refreshState(t *testing.T) {
	t.Parallel()
	ten := s.newTenant(t)
	n := now()
	must(t, s.st.Tokens().Insert(ctx, store.Token{Tenant: ten, ID: "r1", Kind: "refresh", Format: store.FormatOpaque, Hash: []byte(uniq("h")), IssuedAt: n}))
	err := s.st.Tx(ctx, func(tx store.Store) error {
		r, err := tx.Tokens().Lock(ctx, ten, "r1")
		if err != nil {
			return err
		}
		if r.UsedAt != nil || r.ReplacedBy != "" || r.GraceUsed {
			t.Errorf("fresh refresh token = %+v", r)
		}
		r.UsedAt, r.ReplacedBy, r.GraceUsed = &n, "r2", true
		return tx.Tokens().MarkUsed(ctx, r)
	})
	must(t, err)
	got, err := s.st.Tokens().Get(ctx, ten, "r1")
	must(t, err)
	if got.UsedAt == nil || !got.UsedAt.Equal(n) || got.ReplacedBy != "r2" || !got.GraceUsed {
		t.Fatalf("after MarkUsed = %+v", got)
	}
	_, err = s.st.Tokens().Lock(ctx, ten, "missing")
	wantErr(t, err, store.ErrNotFound)
	wantErr(t, s.st.Tokens().MarkUsed(ctx, store.Token{Tenant: ten, ID: "missing"}), store.ErrNotFound)

	// Concurrent read-decide-write under Lock: exactly one wins.
	must(t, s.st.Tokens().Insert(ctx, store.Token{Tenant: ten, ID: "r3", Kind: "refresh", Format: store.FormatOpaque, Hash: []byte(uniq("h")), IssuedAt: n}))
	var wg sync.WaitGroup
	var mu sync.Mutex
	wins := 0
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := s.st.Tx(ctx, func(tx store.Store) error {
				r, err := tx.Tokens().Lock(ctx, ten, "r3")
				if err != nil || r.UsedAt != nil {
					return err
				}
				at := now()
				r.UsedAt, r.ReplacedBy = &at, fmt.Sprint("next-", i)
				if err := tx.Tokens().MarkUsed(ctx, r); err != nil {
					return err
				}
				mu.Lock()
				wins++
				mu.Unlock()
				return nil
			})
			if err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if wins != 1 {
		t.Fatalf("%d transactions used the same refresh token", wins)
	}
}

func (s *suite) revokeBefore(t *testing.T) {
	t.Parallel()
	ten := s.newTenant(t)
	cut := now()
	before, after := cut.Add(-time.Microsecond), cut
	at := cut.Add(time.Second)
	ahead := at.Add(time.Hour) // a renewed token's revocation, still ahead
	tok := func(id, typ, sub, sid, client string, issued time.Time) store.Token {
		return store.Token{Tenant: ten, ID: id, Kind: "access", Format: store.FormatJWT, SubjectType: typ, Subject: sub,
			SessionID: sid, ClientID: client, IssuedAt: issued}
	}
	renewed := tok("r", "user", "alice", "s3", "e", before)
	renewed.RevokedAt = &ahead
	must(t, s.st.Tokens().Insert(ctx,
		tok("b", "user", "alice", "s1", "c", before),
		tok("a", "user", "alice", "s1", "c", after),
		tok("k", "device", "alice", "", "", before), // same id, another type
		tok("o", "user", "bob", "s2", "d", before),
		renewed))
	for _, tc := range []struct {
		r    store.Revocation
		want int
	}{
		{store.Revocation{Scope: store.RevokeSubject, SubjectType: "user", Key: "alice"}, 2}, // b, and r brought forward
		{store.Revocation{Scope: store.RevokeSession, Key: "s1"}, 0},                         // already revoked by the subject cutoff
		{store.Revocation{Scope: store.RevokeClient, Key: "d"}, 1},
		{store.Revocation{Scope: store.RevokeTenant}, 1}, // k: the subject cutoff left the device alone
	} {
		tc.r.Tenant, tc.r.Cutoff = ten, cut
		n, err := s.st.Tokens().RevokeBefore(ctx, tc.r, at)
		must(t, err)
		if n != tc.want {
			t.Fatalf("RevokeBefore(%s %s %s) = %d, want %d", tc.r.Scope, tc.r.SubjectType, tc.r.Key, n, tc.want)
		}
	}
	a, err := s.st.Tokens().Get(ctx, ten, "a")
	must(t, err)
	if a.RevokedAt != nil {
		t.Fatal("a token issued at the cutoff instant was revoked")
	}
	for _, id := range []string{"b", "r", "k"} {
		row, err := s.st.Tokens().Get(ctx, ten, id)
		must(t, err)
		if row.RevokedAt == nil || !row.RevokedAt.Equal(at) {
			t.Fatalf("token %s issued 1µs before the cutoff: RevokedAt = %v, want %v", id, row.RevokedAt, at)
		}
	}
	if _, err := s.st.Tokens().RevokeBefore(ctx, store.Revocation{Tenant: ten, Scope: "bogus", Key: "x", Cutoff: cut}, at); err == nil {
		t.Fatal("RevokeBefore accepted an unknown scope")
	}
}

// subjectLocks runs concurrent read-decide-writes under LockSubject: each
// transaction counts the subject's active tokens and adds one only below
// a limit, so exactly limit are added, whatever the interleaving. Another
// subject with the same id (another type) is counted apart.
func (s *suite) subjectLocks(t *testing.T) {
	t.Parallel()
	ten := s.newTenant(t)
	const limit, tries = 3, 12
	var wg sync.WaitGroup
	var mu sync.Mutex
	added := map[string]int{}
	for i := range tries {
		typ := []string{"device", "client"}[i%2]
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := s.st.Tx(ctx, func(tx store.Store) error {
				n, err := tx.Tokens().LockSubject(ctx, ten, typ, "kiosk", now())
				if err != nil || n >= limit {
					return err
				}
				if err := tx.Tokens().Insert(ctx, store.Token{Tenant: ten, ID: fmt.Sprint(typ, "-", i), Kind: "device",
					Format: store.FormatJWT, SubjectType: typ, Subject: "kiosk", IssuedAt: now()}); err != nil {
					return err
				}
				mu.Lock()
				added[typ]++
				mu.Unlock()
				return nil
			})
			if err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	for _, typ := range []string{"device", "client"} {
		n, err := s.st.Tokens().LockSubject(ctx, ten, typ, "kiosk", now())
		must(t, err)
		if added[typ] != limit || n != limit {
			t.Errorf("%s kiosk: %d transactions added a token, %d active; want %d", typ, added[typ], n, limit)
		}
	}
}

func (s *suite) revocations(t *testing.T) {
	t.Parallel()
	ten, other := s.newTenant(t), s.newTenant(t)
	cut := now()
	past := time.Date(2001, 1, 1, 0, 0, 0, 0, time.UTC)
	var seqs []int64
	for i, r := range []store.Revocation{
		{Tenant: ten, Scope: store.RevokeToken, Key: "jti-1", Cutoff: cut, Until: &past},
		{Tenant: other, Scope: store.RevokeTenant, Cutoff: cut},
		{Tenant: ten, Scope: store.RevokeSubject, SubjectType: "user", Key: "alice", Cutoff: cut.Add(time.Microsecond)},
	} {
		got, err := s.st.Revocations().Append(ctx, r)
		must(t, err)
		if got.Seq == 0 || got.CreatedAt.IsZero() || (i > 0 && got.Seq <= seqs[i-1]) {
			t.Fatalf("Append = %+v", got)
		}
		seqs = append(seqs, got.Seq)
	}
	l, err := s.st.Revocations().After(ctx, ten, seqs[0]-1, 100)
	must(t, err)
	if len(l) != 2 || l[0].Key != "jti-1" || l[1].Key != "alice" || l[1].SubjectType != "user" || !l[1].Cutoff.Equal(cut.Add(time.Microsecond)) || l[1].Until != nil {
		t.Fatalf("After(tenant) = %+v", l)
	}
	all, err := s.st.Revocations().After(ctx, "", seqs[0], 100)
	must(t, err)
	found := false
	for _, r := range all {
		found = found || (r.Tenant == other && r.Scope == store.RevokeTenant)
	}
	if !found {
		t.Fatal("After(all) misses the other tenant's entry")
	}
	// A second expired entry, so that a batch of one leaves one behind.
	_, err = s.st.Revocations().Append(ctx, store.Revocation{Tenant: ten, Scope: store.RevokeToken, Key: "jti-2", Cutoff: cut, Until: &past})
	must(t, err)
	n, err := s.st.Revocations().DeleteExpired(ctx, past.Add(time.Second), 1)
	must(t, err)
	if n != 1 {
		t.Fatalf("DeleteExpired(limit 1) = %d", n)
	}
	for n > 0 {
		n, err = s.st.Revocations().DeleteExpired(ctx, past.Add(time.Second), 1000)
		must(t, err)
	}
	l, err = s.st.Revocations().After(ctx, ten, 0, 100)
	must(t, err)
	if len(l) != 1 || l[0].Key != "alice" {
		t.Fatalf("after pruning = %+v", l)
	}
	// Seq values of pruned entries are never given again: cursors stay valid.
	next, err := s.st.Revocations().Append(ctx, store.Revocation{Tenant: ten, Scope: store.RevokeToken, Key: "jti-3", Cutoff: cut, Until: &past})
	must(t, err)
	if next.Seq <= seqs[len(seqs)-1] {
		t.Fatalf("Seq %d after pruning, not above %d", next.Seq, seqs[len(seqs)-1])
	}
}

func (s *suite) throttle(t *testing.T) {
	t.Parallel()
	key := uniq("acct")
	n := now()
	backoff := func(f int) time.Duration { return time.Duration(f) * time.Minute }
	f, until, err := s.st.Throttle().Get(ctx, key)
	must(t, err)
	if f != 0 || !until.IsZero() {
		t.Fatalf("unknown key: %d %v", f, until)
	}
	for i := 1; i <= 3; i++ {
		got, err := s.st.Throttle().Fail(ctx, key, n, backoff)
		must(t, err)
		if got != i {
			t.Fatalf("Fail #%d = %d", i, got)
		}
	}
	f, until, err = s.st.Throttle().Get(ctx, key)
	must(t, err)
	if f != 3 || !until.Equal(n.Add(3*time.Minute)) {
		t.Fatalf("Get = %d %v", f, until)
	}
	// Concurrent failures are all counted.
	var wg sync.WaitGroup
	for range 10 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := s.st.Throttle().Fail(ctx, key, n, backoff); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if f, _, _ = s.st.Throttle().Get(ctx, key); f != 13 {
		t.Fatalf("%d failures after 10 concurrent ones, want 13", f)
	}
	must(t, s.st.Throttle().Reset(ctx, key))
	if f, _, _ = s.st.Throttle().Get(ctx, key); f != 0 {
		t.Fatal("Reset kept the count")
	}
	old := uniq("old")
	_, err = s.st.Throttle().Fail(ctx, old, time.Date(2001, 1, 1, 0, 0, 0, 0, time.UTC), backoff)
	must(t, err)
	// A key failed long ago but still blocked is not over: it stays.
	blocked := uniq("blocked")
	_, err = s.st.Throttle().Fail(ctx, blocked, time.Date(2001, 1, 1, 0, 0, 0, 0, time.UTC),
		func(int) time.Duration { return 100 * 365 * 24 * time.Hour })
	must(t, err)
	if d, err := s.st.Throttle().DeleteBefore(ctx, time.Date(2002, 1, 1, 0, 0, 0, 0, time.UTC), 0); err != nil || d != 0 {
		t.Fatalf("DeleteBefore(limit 0) = %d, %v", d, err)
	}
	d, err := s.st.Throttle().DeleteBefore(ctx, time.Date(2002, 1, 1, 0, 0, 0, 0, time.UTC), 1000)
	must(t, err)
	if d < 1 {
		t.Fatalf("DeleteBefore = %d", d)
	}
	if f, _, _ = s.st.Throttle().Get(ctx, old); f != 0 {
		t.Fatal("DeleteBefore kept a key whose failures are over")
	}
	if f, _, _ = s.st.Throttle().Get(ctx, blocked); f != 1 {
		t.Fatal("DeleteBefore forgot a key that is still blocked")
	}
}

func (s *suite) nonces(t *testing.T) {
	t.Parallel()
	key := uniq("sig")
	soon := now().Add(time.Minute)
	must(t, s.st.Nonces().Use(ctx, key, soon))
	wantErr(t, s.st.Nonces().Use(ctx, key, soon), store.ErrConflict)
	// Once expired, a key may be used again.
	old := uniq("old")
	must(t, s.st.Nonces().Use(ctx, old, now().Add(-time.Second)))
	must(t, s.st.Nonces().Use(ctx, old, soon))
	for i := range 3 {
		must(t, s.st.Nonces().Use(ctx, uniq(fmt.Sprint("gone", i)), time.Date(2001, 1, 1, 0, 0, 0, 0, time.UTC)))
	}
	n, err := s.st.Nonces().DeleteExpired(ctx, time.Date(2002, 1, 1, 0, 0, 0, 0, time.UTC), 2)
	must(t, err)
	if n != 2 {
		t.Fatalf("DeleteExpired(limit 2) = %d", n)
	}
	for n > 0 {
		n, err = s.st.Nonces().DeleteExpired(ctx, now(), 1000)
		must(t, err)
	}
	// Pruning up to now keeps the keys not yet expired.
	wantErr(t, s.st.Nonces().Use(ctx, key, soon), store.ErrConflict)
	// Signing secrets round-trip on devices, users and clients.
	ten := s.newTenant(t)
	n0 := now()
	must(t, s.st.Devices().Create(ctx, store.Device{Tenant: ten, ID: "d", Type: "device", SigningSecret: []byte("sealed"), CreatedAt: n0, UpdatedAt: n0}))
	d, err := s.st.Devices().Get(ctx, ten, "d")
	must(t, err)
	if string(d.SigningSecret) != "sealed" {
		t.Fatalf("device signing secret %q", d.SigningSecret)
	}
	must(t, s.st.Users().Create(ctx, store.User{Tenant: ten, ID: "u", Login: "u", CreatedAt: n0, UpdatedAt: n0}))
	u, err := s.st.Users().Get(ctx, ten, "u")
	must(t, err)
	if u.SigningSecret != nil {
		t.Fatalf("user without a signing secret has %q", u.SigningSecret)
	}
}

func (s *suite) surfaces(t *testing.T) {
	t.Parallel()
	a, b := s.newTenant(t), s.newTenant(t)
	name, key := uniq("surface"), uniq("key")
	n0 := now()
	wantErr(t, s.st.Surfaces().Put(ctx, store.Surface{Tenant: "no-such-tenant", Name: name, CreatedAt: n0, UpdatedAt: n0}), store.ErrNotFound)
	_, err := s.st.Surfaces().Get(ctx, a, name)
	wantErr(t, err, store.ErrNotFound)
	must(t, s.st.Surfaces().Put(ctx, store.Surface{Tenant: a, Name: name, Key: key, Settings: []byte(`{"x":1}`), CreatedAt: n0, UpdatedAt: n0}))
	// Another tenant cannot take the same key for the same surface, but
	// may for another surface, and any number may have no key.
	wantErr(t, s.st.Surfaces().Put(ctx, store.Surface{Tenant: b, Name: name, Key: key, CreatedAt: n0, UpdatedAt: n0}), store.ErrConflict)
	must(t, s.st.Surfaces().Put(ctx, store.Surface{Tenant: b, Name: name + "-other", Key: key, CreatedAt: n0, UpdatedAt: n0}))
	must(t, s.st.Surfaces().Put(ctx, store.Surface{Tenant: b, Name: name + "-nokey", CreatedAt: n0, UpdatedAt: n0}))
	must(t, s.st.Surfaces().Put(ctx, store.Surface{Tenant: a, Name: name + "-nokey", CreatedAt: n0, UpdatedAt: n0}))

	got, err := s.st.Surfaces().GetByKey(ctx, name, key)
	must(t, err)
	if got.Tenant != a || string(got.Settings) != `{"x":1}` || !got.CreatedAt.Equal(n0) {
		t.Fatalf("GetByKey = %+v", got)
	}
	_, err = s.st.Surfaces().GetByKey(ctx, name+"-nokey", "")
	wantErr(t, err, store.ErrNotFound)

	// Put replaces settings and key, keeping created_at.
	n1 := n0.Add(time.Second)
	must(t, s.st.Surfaces().Put(ctx, store.Surface{Tenant: a, Name: name, Key: key + "2", Settings: []byte(`{"x":2}`), CreatedAt: n1, UpdatedAt: n1}))
	got, err = s.st.Surfaces().Get(ctx, a, name)
	must(t, err)
	if got.Key != key+"2" || string(got.Settings) != `{"x":2}` || !got.CreatedAt.Equal(n0) || !got.UpdatedAt.Equal(n1) {
		t.Fatalf("after replace: %+v", got)
	}
	_, err = s.st.Surfaces().GetByKey(ctx, name, key)
	wantErr(t, err, store.ErrNotFound)
	// The freed key may now be taken by b.
	must(t, s.st.Surfaces().Put(ctx, store.Surface{Tenant: b, Name: name, Key: key, CreatedAt: n0, UpdatedAt: n0}))

	l, err := s.st.Surfaces().List(ctx, a)
	must(t, err)
	if len(l) != 2 || l[0].Name != name || l[1].Name != name+"-nokey" || string(l[1].Settings) != "{}" {
		t.Fatalf("List = %+v", l)
	}
	must(t, s.st.Surfaces().Delete(ctx, a, name))
	wantErr(t, s.st.Surfaces().Delete(ctx, a, name), store.ErrNotFound)
	_, err = s.st.Surfaces().Get(ctx, a, name)
	wantErr(t, err, store.ErrNotFound)
	// Deleting a tenant deletes its surfaces.
	must(t, s.st.Tenants().Delete(ctx, b))
	_, err = s.st.Surfaces().GetByKey(ctx, name, key)
	wantErr(t, err, store.ErrNotFound)
}

// auditPrune: Prune deletes the oldest events up to the first one at or
// after the cutoff, in batches, and stores the signed checkpoint of the
// last one it deleted; appends go on from the same head.
func (s *suite) auditPrune(t *testing.T) {
	t.Parallel()
	ten := s.newTenant(t)
	base := now()
	for i := 0; i < 6; i++ {
		// Event 4 is newer than the events after it: pruning stops at it,
		// keeping what remains a tail of the chain.
		at := base.Add(time.Duration(i) * time.Second)
		if i == 3 {
			at = base.Add(10 * time.Second)
		}
		must(t, s.st.Audit().Append(ctx, seal, store.AuditEvent{Tenant: ten, Time: at, Action: "token.issue", Outcome: "success"}))
	}
	_, err := s.st.Audit().Checkpoint(ctx, ten)
	wantErr(t, err, store.ErrNotFound)
	sign := func(last store.AuditEvent) store.AuditCheckpoint {
		return store.AuditCheckpoint{Tenant: last.Tenant, Seq: last.Seq, Hash: last.Hash, EventTime: last.Time, PrunedAt: base, Sig: []byte("sig:" + fmt.Sprint(last.Seq))}
	}
	cut := base.Add(5500 * time.Millisecond)
	n, err := s.st.Audit().Prune(ctx, ten, cut, 2, sign)
	must(t, err)
	if n != 2 {
		t.Fatalf("first batch pruned %d, want 2", n)
	}
	cp, err := s.st.Audit().Checkpoint(ctx, ten)
	must(t, err)
	l, err := s.st.Audit().List(ctx, ten, store.AuditFilter{})
	must(t, err)
	if cp.Seq != 2 || string(cp.Sig) != "sig:2" || !cp.EventTime.Equal(base.Add(time.Second)) || !cp.PrunedAt.Equal(base) ||
		len(l) != 4 || l[0].Seq != 3 || !bytes.Equal(l[0].PrevHash, cp.Hash) {
		t.Fatalf("after the first batch: checkpoint %+v, events from %d (%d)", cp, l[0].Seq, len(l))
	}
	// Event 3 goes; event 4, newer than the cutoff, stops the prune
	// though 5 and 6 are older.
	n, err = s.st.Audit().Prune(ctx, ten, cut, 100, sign)
	must(t, err)
	if n != 1 {
		t.Fatalf("second batch pruned %d, want 1", n)
	}
	n, err = s.st.Audit().Prune(ctx, ten, cut, 100, sign)
	must(t, err)
	if n != 0 {
		t.Fatalf("pruned %d past an event newer than the cutoff", n)
	}
	n, err = s.st.Audit().Prune(ctx, ten, base.Add(time.Hour), 100, sign)
	must(t, err)
	if n != 3 {
		t.Fatalf("pruned %d, want the 3 left", n)
	}
	if cp, err = s.st.Audit().Checkpoint(ctx, ten); err != nil || cp.Seq != 6 {
		t.Fatalf("checkpoint %+v, %v", cp, err)
	}
	must(t, s.st.Audit().Append(ctx, seal, store.AuditEvent{Tenant: ten, Time: base.Add(time.Hour), Action: "token.issue", Outcome: "success"}))
	l, err = s.st.Audit().List(ctx, ten, store.AuditFilter{})
	must(t, err)
	if len(l) != 1 || l[0].Seq != 7 || !bytes.Equal(l[0].PrevHash, cp.Hash) {
		t.Fatalf("append after pruning everything: %+v", l)
	}
}

// equalTime reports whether two optional times are both unset or equal.
func equalTime(a, b *time.Time) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.Equal(*b)
}

func nonNilList(l []string) []string {
	if l == nil {
		return []string{}
	}
	return l
}
