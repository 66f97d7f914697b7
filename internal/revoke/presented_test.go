package revoke_test

import (
	"context"
	"crypto/rand"
	"testing"
	"time"

	"github.com/tokend/tokend/claims"
	"github.com/tokend/tokend/internal/audit"
	"github.com/tokend/tokend/internal/fault"
	"github.com/tokend/tokend/internal/introspect"
	"github.com/tokend/tokend/internal/keys"
	"github.com/tokend/tokend/internal/revoke"
	"github.com/tokend/tokend/internal/store"
	"github.com/tokend/tokend/internal/store/sqlite/sqlitetest"
	"github.com/tokend/tokend/internal/token"
)

const publicURL = "https://auth.example.com"

// fixture is a real SQLite store with tenants acme and other, a revoke
// Service and the introspection Verifier over the same store.
type fixture struct {
	st   store.Store
	svc  *revoke.Service
	ver  *introspect.Verifier
	keys *keys.Manager
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	db := sqlitetest.New(t, "acme", "other")
	master := make([]byte, keys.MasterSize)
	if _, err := rand.Read(master); err != nil {
		t.Fatal(err)
	}
	km, err := keys.New(keys.Options{Store: db, Master: master, Issuer: func(t string) string { return publicURL + "/t/" + t }})
	if err != nil {
		t.Fatal(err)
	}
	svc, err := revoke.New(revoke.Options{Store: db, Audit: audit.New(db, nil, nil)})
	if err != nil {
		t.Fatal(err)
	}
	ver, err := introspect.New(introspect.Options{Store: db, Keys: km, Peek: keys.PeekIssuer, Revocations: svc, PublicURL: publicURL})
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{st: db, svc: svc, ver: ver, keys: km}
}

// opaque stores a ledger row for a fresh opaque token and returns its value.
func (f *fixture) opaque(t *testing.T, row store.Token) string {
	t.Helper()
	tag := token.TagAccess
	if row.Kind == claims.KindRefresh {
		tag = token.TagRefresh
	}
	raw := token.NewOpaque(tag)
	row.Format, row.Hash = store.FormatOpaque, token.Hash(raw)
	f.insert(t, row)
	return raw
}

// jwt stores a ledger row and returns a JWT signed for it by its tenant.
func (f *fixture) jwt(t *testing.T, row store.Token) string {
	t.Helper()
	ctx := context.Background()
	if err := f.keys.Ensure(ctx, row.Tenant, keys.ES256); err != nil {
		t.Fatal(err)
	}
	row.Format = store.FormatJWT
	f.insert(t, row)
	raw, err := f.keys.Sign(ctx, row.Tenant, &claims.Claims{Issuer: publicURL + "/t/" + row.Tenant, Subject: row.Subject,
		Audience: claims.Audience{"api"}, IssuedAt: row.IssuedAt.Unix(), ExpiresAt: row.ExpiresAt.Unix(), ID: row.ID,
		ClientID: row.ClientID, Kind: row.Kind, SubjectType: row.SubjectType})
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

func (f *fixture) insert(t *testing.T, row store.Token) {
	t.Helper()
	if err := f.st.Tokens().Insert(context.Background(), row); err != nil {
		t.Fatal(err)
	}
}

func (f *fixture) revoked(t *testing.T, tenantID, id string) bool {
	t.Helper()
	row, err := f.st.Tokens().Get(context.Background(), tenantID, id)
	if err != nil {
		t.Fatal(err)
	}
	return row.RevokedAt != nil && f.svc.RowReason(row) != ""
}

// row is a live ledger row of tenantID issued to client app.
func row(tenantID, kind, session string) store.Token {
	now := time.Now().UTC().Truncate(time.Microsecond)
	exp := now.Add(time.Hour)
	return store.Token{Tenant: tenantID, ID: token.NewID(), Kind: kind, SubjectType: "user", Subject: "alice",
		ClientID: "app", SessionID: session, IssuedAt: now, ExpiresAt: &exp}
}

// presented is a value to present for revocation, its ledger row (none
// for a value that has none), rows that must end like it (its family) and
// rows that must stay live.
type presented struct {
	raw            string
	target         store.Token
	family, spared []store.Token
}

// live presents one live access token of tenantID, a JWT or opaque.
func live(tenantID string, jwt bool) func(*testing.T, *fixture) presented {
	return func(t *testing.T, f *fixture) presented {
		r := row(tenantID, claims.KindAccess, "")
		if jwt {
			return presented{raw: f.jwt(t, r), target: r}
		}
		return presented{raw: f.opaque(t, r), target: r}
	}
}

func TestPresented(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	cases := []struct {
		name   string
		tenant string // the tenant whose endpoint is called
		client string // the calling client
		// present stores what the case needs and returns what to present.
		present func(*testing.T, *fixture) presented
		code    fault.Code // the fault, "" for success
		revoked bool       // whether target (and family) end revoked
	}{
		{name: "own opaque access token", tenant: "acme", client: "app", revoked: true,
			present: live("acme", false)},
		{name: "own JWT", tenant: "acme", client: "app", revoked: true,
			present: live("acme", true)},
		{name: "owner mismatch", tenant: "acme", client: "intruder", code: fault.CodeUnauthorizedClient,
			present: live("acme", false)},
		{name: "owner mismatch JWT", tenant: "acme", client: "intruder", code: fault.CodeUnauthorizedClient,
			present: live("acme", true)},
		{name: "refresh takes its family", tenant: "acme", client: "app", revoked: true,
			present: func(t *testing.T, f *fixture) presented {
				r := row("acme", claims.KindRefresh, "sess-1")
				raw := f.opaque(t, r)
				at := row("acme", claims.KindAccess, "sess-1")
				f.insert(t, at)
				return presented{raw: raw, target: r, family: []store.Token{at}}
			}},
		{name: "access token leaves its session", tenant: "acme", client: "app", revoked: true,
			present: func(t *testing.T, f *fixture) presented {
				r := row("acme", claims.KindAccess, "sess-2")
				raw := f.opaque(t, r)
				rt := row("acme", claims.KindRefresh, "sess-2")
				f.opaque(t, rt)
				return presented{raw: raw, target: r, spared: []store.Token{rt}}
			}},
		{name: "unknown opaque", tenant: "acme", client: "app",
			present: func(t *testing.T, f *fixture) presented {
				return presented{raw: token.NewOpaque(token.TagAccess)}
			}},
		{name: "malformed", tenant: "acme", client: "app",
			present: func(t *testing.T, f *fixture) presented {
				return presented{raw: "not-a-token"}
			}},
		{name: "other tenant opaque", tenant: "acme", client: "app",
			present: live("other", false)},
		{name: "other tenant JWT", tenant: "acme", client: "app",
			present: live("other", true)},
		{name: "already revoked", tenant: "acme", client: "app", revoked: true,
			present: func(t *testing.T, f *fixture) presented {
				r := row("acme", claims.KindAccess, "")
				raw := f.opaque(t, r)
				if _, err := f.svc.Token(ctx, revoke.Actor{Name: "system"}, "acme", r.ID); err != nil {
					t.Fatal(err)
				}
				return presented{raw: raw, target: r}
			}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t)
			p := tc.present(t, f)
			err := f.svc.Presented(ctx, f.ver, tc.tenant, tc.client, p.raw)
			if got := fault.CodeOf(err); (err == nil) != (tc.code == "") || (tc.code != "" && got != tc.code) {
				t.Fatalf("Presented = %v (code %q), want code %q", err, got, tc.code)
			}
			if p.target.ID != "" {
				if got := f.revoked(t, p.target.Tenant, p.target.ID); got != tc.revoked {
					t.Errorf("target revoked = %v, want %v", got, tc.revoked)
				}
			}
			for _, m := range p.family {
				if got := f.revoked(t, m.Tenant, m.ID); got != tc.revoked {
					t.Errorf("family member %s revoked = %v, want %v", m.Kind, got, tc.revoked)
				}
			}
			for _, m := range p.spared {
				if f.revoked(t, m.Tenant, m.ID) {
					t.Errorf("%s of the same session revoked, want live", m.Kind)
				}
			}
		})
	}
}

// TestPrune drops a revocation only PruneMargin after every token it can
// match has expired, from the log and the deny-list alike.
func TestPrune(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	f := newFixture(t)
	at := func(ago time.Duration) store.Token {
		r := row("acme", claims.KindAccess, "")
		exp := time.Now().UTC().Truncate(time.Microsecond).Add(-ago)
		r.ExpiresAt = &exp
		f.insert(t, r)
		if _, err := f.svc.Token(ctx, revoke.Actor{Name: "system"}, "acme", r.ID); err != nil {
			t.Fatal(err)
		}
		r, _ = f.st.Tokens().Get(ctx, "acme", r.ID)
		return r
	}
	old, recent := at(revoke.PruneMargin+time.Minute), at(revoke.PruneMargin-time.Minute)
	cut, err := f.svc.Before(ctx, revoke.Actor{Name: "system"}, "acme", revoke.Subject("user", "bob"))
	if err != nil {
		t.Fatal(err)
	}
	n, err := f.svc.Prune(ctx, 1000)
	if err != nil || n != 1 {
		t.Fatalf("Prune = %d, %v; want 1", n, err)
	}
	if f.svc.RowReason(old) != "" {
		t.Error("the deny-list still holds an entry past its margin")
	}
	if f.svc.RowReason(recent) == "" {
		t.Error("an entry within its margin left the deny-list")
	}
	l, err := f.st.Revocations().After(ctx, "acme", 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(l) != 2 || l[0].Key != recent.ID || l[1].Seq != cut.Seq {
		t.Fatalf("log after pruning = %+v", l)
	}
}
