package binding

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/tokend/tokend/internal/store"
	"github.com/tokend/tokend/internal/store/sqlite/sqlitetest"
)

// example is a surface's settings as a test registers them.
type example struct {
	Account  string `json:"account,omitempty"`
	Lifetime int64  `json:"lifetime,omitempty"`
}

func (e *example) Validate() map[string]string {
	if e.Lifetime < 0 {
		return map[string]string{"lifetime": "must not be negative"}
	}
	return nil
}

func (e *example) LookupKey() string { return e.Account }

func init() { Register("example", func() Settings { return &example{} }) }

func TestDecode(t *testing.T) {
	for _, tc := range []struct {
		name, raw   string
		wantErr     bool
		wantProblem string
		want        example
	}{
		{name: "empty", raw: ``, want: example{}},
		{name: "object", raw: `{"account":"a1","lifetime":60}`, want: example{Account: "a1", Lifetime: 60}},
		{name: "unknown field", raw: `{"acount":"a1"}`, wantProblem: "settings"},
		{name: "not an object", raw: `[1]`, wantProblem: "settings"},
		{name: "trailing data", raw: `{} {}`, wantProblem: "settings"},
		{name: "invalid value", raw: `{"lifetime":-1}`, wantProblem: "lifetime"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, problems, err := Decode("example", []byte(tc.raw))
			if err != nil {
				t.Fatal(err)
			}
			if tc.wantProblem != "" {
				if _, ok := problems[tc.wantProblem]; !ok || s != nil {
					t.Fatalf("problems = %v, settings %v; want a problem with %q", problems, s, tc.wantProblem)
				}
				return
			}
			if len(problems) > 0 || *s.(*example) != tc.want {
				t.Fatalf("Decode = %+v, %v; want %+v", s, problems, tc.want)
			}
		})
	}
	if _, _, err := Decode("no-such-surface", nil); err == nil {
		t.Fatal("an unknown surface decoded")
	}
	if !Known("example") || Known("no-such-surface") {
		t.Fatal("Known is wrong")
	}
}

func TestResolver(t *testing.T) {
	ctx := context.Background()
	st := sqlitetest.New(t, "shop", "other")
	now := time.Now()
	clock := func() time.Time { return now }
	if _, err := New(Options{Store: st, Tenants: map[string]string{"no-such-surface": "shop"}}); err == nil {
		t.Fatal("a binding of an unknown surface was accepted")
	}
	r, err := New(Options{Store: st, Now: clock,
		Hosts:   map[string]string{"API.Shop.test": "shop", "auth.other.test:8443": "other"},
		Tenants: map[string]string{"example": "shop"}})
	if err != nil {
		t.Fatal(err)
	}
	var got example
	if err := r.Settings(ctx, "shop", "example", &got); !errors.Is(err, ErrDisabled) {
		t.Fatalf("Settings before enabling = %v, want ErrDisabled", err)
	}
	put := func(tenant, raw, key string) {
		t.Helper()
		n := time.Now().UTC()
		if err := st.Surfaces().Put(ctx, store.Surface{Tenant: tenant, Name: "example", Key: key, Settings: []byte(raw), CreatedAt: n, UpdatedAt: n}); err != nil {
			t.Fatal(err)
		}
		r.Invalidate(store.Change{Tenant: tenant, Entity: store.EntitySurface, Key: "example"})
	}
	put("shop", `{"account":"k1","lifetime":60}`, "k1")
	if err := r.Settings(ctx, "shop", "example", &got); err != nil || got.Lifetime != 60 {
		t.Fatalf("Settings = %+v, %v", got, err)
	}
	if err := r.Enabled(ctx, "other", "example"); !errors.Is(err, ErrDisabled) {
		t.Fatalf("Enabled(other) = %v", err)
	}
	if ten, err := r.ByKey(ctx, "example", "k1"); err != nil || ten != "shop" {
		t.Fatalf("ByKey(k1) = %q, %v", ten, err)
	}
	if _, err := r.ByKey(ctx, "example", "k2"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("ByKey(k2) = %v", err)
	}
	// The key moves to another tenant: a change of either drops the
	// cached answer, including the cached absence of k2.
	put("shop", `{"account":"k2"}`, "k2")
	if ten, err := r.ByKey(ctx, "example", "k2"); err != nil || ten != "shop" {
		t.Fatalf("ByKey(k2) after the move = %q, %v", ten, err)
	}
	if _, err := r.ByKey(ctx, "example", "k1"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("ByKey(k1) after the move = %v", err)
	}
	// A change another replica made and this one missed is seen once the
	// cache entry is older than its bound.
	n := time.Now().UTC()
	if err := st.Surfaces().Put(ctx, store.Surface{Tenant: "shop", Name: "example", Key: "k2", Settings: []byte(`{"account":"k2","lifetime":5}`), CreatedAt: n, UpdatedAt: n}); err != nil {
		t.Fatal(err)
	}
	if err := r.Settings(ctx, "shop", "example", &got); err != nil || got.Lifetime != 0 {
		t.Fatalf("Settings within the cache bound = %+v, %v", got, err)
	}
	now = now.Add(cacheTTL + time.Second)
	got = example{}
	if err := r.Settings(ctx, "shop", "example", &got); err != nil || got.Lifetime != 5 {
		t.Fatalf("Settings past the cache bound = %+v, %v", got, err)
	}
	// Deleting the tenant drops all it had.
	if err := st.Tenants().Delete(ctx, "shop"); err != nil {
		t.Fatal(err)
	}
	r.Invalidate(store.Change{Tenant: "shop", Entity: store.EntityTenant, Key: "shop"})
	if _, err := r.ByKey(ctx, "example", "k2"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("ByKey after the tenant was deleted = %v", err)
	}
	if err := r.Settings(ctx, "shop", "example", &got); !errors.Is(err, ErrDisabled) {
		t.Fatalf("Settings after the tenant was deleted = %v", err)
	}

	for _, tc := range []struct{ host, want string }{
		{"api.shop.test", "shop"}, {"API.SHOP.TEST:443", "shop"}, {"auth.other.test:8443", "other"},
		{"auth.other.test", "shop"}, {"unknown.test", "shop"},
	} {
		if got, ok := r.ByHost("example", tc.host); !ok || got != tc.want {
			t.Errorf("ByHost(%q) = %q, %v; want %q", tc.host, got, ok, tc.want)
		}
	}
	if _, ok := r.ByHost("unbound", "unknown.test"); ok {
		t.Error("ByHost of a surface bound to no tenant answered")
	}
}
