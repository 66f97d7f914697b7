package storetest

import (
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/tokend/tokend/internal/store"
)

// trustedIssuers checks the trusted-issuer records: CRUD, the issuer URL
// unique per tenant but free across tenants, settings kept as written,
// tenant isolation and cascade, and a jwt-bearer jti taken exactly once
// even by concurrent callers.
func (s *suite) trustedIssuers(t *testing.T) {
	t.Parallel()
	a, b := s.newTenant(t), s.newTenant(t)
	n0 := now()
	ti := store.TrustedIssuer{Tenant: a, ID: "corp", Issuer: "https://id.example.com/",
		Settings: store.IssuerSettings{Audiences: []string{"tokend"}, Algorithms: []string{"RS256", "ES256"}, UserClaim: "email",
			RequireEmailVerified: true, CreateUsers: true, DefaultRoles: []string{"reader"}, GroupMap: map[string][]string{"eng": {"staff"}},
			MaxAge: 600, IntrospectionURL: "https://id.example.com/introspect", IntrospectionClientID: "tokend"},
		IntrospectionSecret: []byte{1, 2, 3}, CreatedAt: n0, UpdatedAt: n0}
	wantErr(t, s.st.TrustedIssuers().Create(ctx, store.TrustedIssuer{Tenant: "no-such-tenant", ID: "x", Issuer: "https://x/", CreatedAt: n0, UpdatedAt: n0}), store.ErrNotFound)
	must(t, s.st.TrustedIssuers().Create(ctx, ti))
	dup := ti
	dup.ID = "corp2"
	wantErr(t, s.st.TrustedIssuers().Create(ctx, dup), store.ErrConflict)
	dup.Tenant = b
	must(t, s.st.TrustedIssuers().Create(ctx, dup))

	got, err := s.st.TrustedIssuers().GetByIssuer(ctx, a, "https://id.example.com/")
	must(t, err)
	if got.ID != "corp" || got.Settings.UserClaim != "email" || !got.Settings.RequireEmailVerified || got.Settings.MaxAge != 600 ||
		!slices.Equal(got.Settings.Algorithms, []string{"RS256", "ES256"}) || !slices.Equal(got.Settings.GroupMap["eng"], []string{"staff"}) ||
		string(got.IntrospectionSecret) != "\x01\x02\x03" || !got.CreatedAt.Equal(n0) {
		t.Fatalf("GetByIssuer = %+v", got)
	}
	_, err = s.st.TrustedIssuers().GetByIssuer(ctx, a, "https://id.example.com")
	wantErr(t, err, store.ErrNotFound) // compared exactly
	_, err = s.st.TrustedIssuers().Get(ctx, b, "corp")
	wantErr(t, err, store.ErrNotFound)

	got.Settings.Audiences = []string{"tokend", "api"}
	got.Disabled, got.IntrospectionSecret = true, nil
	got.UpdatedAt = n0.Add(time.Second)
	must(t, s.st.TrustedIssuers().Update(ctx, got))
	got, err = s.st.TrustedIssuers().Get(ctx, a, "corp")
	must(t, err)
	if !got.Disabled || len(got.IntrospectionSecret) != 0 || !slices.Equal(got.Settings.Audiences, []string{"tokend", "api"}) || !got.CreatedAt.Equal(n0) {
		t.Fatalf("after update: %+v", got)
	}
	wantErr(t, s.st.TrustedIssuers().Update(ctx, store.TrustedIssuer{Tenant: a, ID: "none", Issuer: "https://none/"}), store.ErrNotFound)
	l, err := s.st.TrustedIssuers().List(ctx, a)
	must(t, err)
	if len(l) != 1 || l[0].ID != "corp" {
		t.Fatalf("List = %+v", l)
	}
	must(t, s.st.TrustedIssuers().Delete(ctx, a, "corp"))
	wantErr(t, s.st.TrustedIssuers().Delete(ctx, a, "corp"), store.ErrNotFound)
	must(t, s.st.Tenants().Delete(ctx, b))
	_, err = s.st.TrustedIssuers().Get(ctx, b, "corp2")
	wantErr(t, err, store.ErrNotFound)

	t.Run("LedgerRecordsExchange", func(t *testing.T) {
		n := now()
		exp := n.Add(time.Hour)
		row := store.Token{Tenant: a, ID: uniq("tok"), Kind: "access", Format: "jwt", SubjectType: "user", Subject: "u1",
			Audience: []string{}, Scope: []string{}, Origins: []string{}, Channels: []string{}, IssuedAt: n, ExpiresAt: &exp,
			Grant: "token-exchange", IDP: "https://id.example.com/", ExternalSubject: "ext-42"}
		must(t, s.st.Tokens().Insert(ctx, row))
		got, err := s.st.Tokens().Get(ctx, a, row.ID)
		must(t, err)
		if got.Grant != "token-exchange" || got.IDP != "https://id.example.com/" || got.ExternalSubject != "ext-42" {
			t.Fatalf("ledger row = %+v", got)
		}
	})
	t.Run("JTIOnce", func(t *testing.T) {
		jti, soon := uniq("jti"), now().Add(time.Minute)
		const n = 8
		var wg sync.WaitGroup
		errs := make([]error, n)
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs[i] = s.st.TrustedIssuers().UseJTI(ctx, a, "https://id.example.com/", jti, soon)
			}()
		}
		wg.Wait()
		ok := 0
		for _, err := range errs {
			switch {
			case err == nil:
				ok++
			case !errors.Is(err, store.ErrConflict):
				t.Fatalf("UseJTI: %v", err)
			}
		}
		if ok != 1 {
			t.Fatalf("%d of %d concurrent uses of one jti succeeded", ok, n)
		}
		// The same jti of another issuer or tenant is another jti.
		must(t, s.st.TrustedIssuers().UseJTI(ctx, a, "https://other.example.com/", jti, soon))
		must(t, s.st.TrustedIssuers().UseJTI(ctx, a+"-x", "https://id.example.com/", jti, soon))
		// An expired one may be taken again, and is pruned.
		old := uniq("jti")
		must(t, s.st.TrustedIssuers().UseJTI(ctx, a, "https://id.example.com/", old, now().Add(-time.Second)))
		must(t, s.st.TrustedIssuers().UseJTI(ctx, a, "https://id.example.com/", old, now().Add(-time.Second)))
		if n, err := s.st.TrustedIssuers().DeleteExpiredJTIs(ctx, now(), 100); err != nil || n < 1 {
			t.Fatalf("DeleteExpiredJTIs = %d, %v", n, err)
		}
		wantErr(t, s.st.TrustedIssuers().UseJTI(ctx, a, "https://id.example.com/", jti, soon), store.ErrConflict)
	})
}
