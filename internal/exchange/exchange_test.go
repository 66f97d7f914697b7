package exchange

import (
	"encoding/base64"
	"strings"
	"testing"

	"github.com/tokend/tokend/internal/store"
)

func TestCheckSettings(t *testing.T) {
	t.Parallel()
	ok := func() store.IssuerSettings {
		return store.IssuerSettings{Audiences: []string{"tokend"}, Algorithms: []string{"RS256"}}
	}
	for _, tc := range []struct {
		name, issuer, field string
		mutate              func(*store.IssuerSettings)
	}{
		{name: "good", issuer: "https://id.example.com/"},
		{name: "loopback http", issuer: "http://localhost:9998/"},
		{name: "loopback ip http", issuer: "http://127.0.0.1:9998"},
		{name: "plain http", issuer: "http://id.example.com/", field: "issuer"},
		{name: "relative", issuer: "/id", field: "issuer"},
		{name: "query", issuer: "https://id.example.com/?x=1", field: "issuer"},
		{name: "fragment", issuer: "https://id.example.com/#x", field: "issuer"},
		{name: "no audience", issuer: "https://id.example.com/", field: "audiences", mutate: func(s *store.IssuerSettings) { s.Audiences = nil }},
		{name: "no algorithms", issuer: "https://id.example.com/", field: "algorithms", mutate: func(s *store.IssuerSettings) { s.Algorithms = nil }},
		{name: "none", issuer: "https://id.example.com/", field: "algorithms", mutate: func(s *store.IssuerSettings) { s.Algorithms = []string{"none"} }},
		{name: "HS256", issuer: "https://id.example.com/", field: "algorithms", mutate: func(s *store.IssuerSettings) { s.Algorithms = []string{"RS256", "HS256"} }},
		{name: "unknown alg", issuer: "https://id.example.com/", field: "algorithms", mutate: func(s *store.IssuerSettings) { s.Algorithms = []string{"XX1"} }},
		{name: "negative age", issuer: "https://id.example.com/", field: "max_age", mutate: func(s *store.IssuerSettings) { s.MaxAge = -1 }},
		{name: "bad claim", issuer: "https://id.example.com/", field: "user_claim", mutate: func(s *store.IssuerSettings) { s.UserClaim = "a b" }},
		{name: "introspection without client", issuer: "https://id.example.com/", field: "introspection_client_id",
			mutate: func(s *store.IssuerSettings) { s.IntrospectionURL = "https://id.example.com/introspect" }},
		{name: "introspection over http", issuer: "https://id.example.com/", field: "introspection_url",
			mutate: func(s *store.IssuerSettings) {
				s.IntrospectionURL, s.IntrospectionClientID = "http://id.example.com/i", "c"
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := ok()
			if tc.mutate != nil {
				tc.mutate(&s)
			}
			f, msg := CheckSettings(tc.issuer, &s)
			if f != tc.field {
				t.Fatalf("field %q (%s), want %q", f, msg, tc.field)
			}
			if f == "" && (s.UserClaim != "sub" || s.GroupsClaim != "groups" || s.RolesClaim != "roles") {
				t.Fatalf("defaults not filled: %+v", s)
			}
		})
	}
}

func b64(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

func TestUnsafePeek(t *testing.T) {
	t.Parallel()
	sig := b64("sig")
	for _, tc := range []struct {
		name, raw string
		iss       string
		err       error
	}{
		{"good", b64(`{"alg":"RS256","kid":"k"}`) + "." + b64(`{"iss":"https://a/"}`) + "." + sig, "https://a/", nil},
		{"opaque", "tkd_at_xyz", "", ErrNotJWT},
		{"two parts", "a.b", "", ErrNotJWT},
		{"JWE", "a.b.c.d.e", "", ErrNotJWT},
		{"padding", b64(`{"alg":"RS256"}`) + "=." + b64(`{}`) + "." + sig, "", ErrMalformed},
		{"no alg", b64(`{"kid":"k"}`) + "." + b64(`{}`) + "." + sig, "", ErrMalformed},
		{"array payload", b64(`{"alg":"RS256"}`) + "." + b64(`[1]`) + "." + sig, "", ErrMalformed},
		{"trailing data", b64(`{"alg":"RS256"}`) + "." + b64(`{"iss":"x"} {}`) + "." + sig, "", ErrMalformed},
		{"iss not a string", b64(`{"alg":"RS256"}`) + "." + b64(`{"iss":1}`) + "." + sig, "", ErrMalformed},
		{"empty signature", b64(`{"alg":"RS256"}`) + "." + b64(`{}`) + ".", "", ErrMalformed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := UnsafePeek(tc.raw)
			if err != tc.err {
				t.Fatalf("err %v, want %v", err, tc.err)
			}
			if err == nil && p.Issuer != tc.iss {
				t.Fatalf("iss %q", p.Issuer)
			}
		})
	}
}

func TestClaimsOf(t *testing.T) {
	t.Parallel()
	e, err := parseClaims([]byte(`{"iss":"i","sub":"s","aud":["a","b"],"exp":1700000000.5,"iat":1699999000,"ext":{"groups":["g"],"sub":"other"}}`))
	if err != nil || e.Sub != "s" || len(e.Aud) != 2 || *e.Exp != 1700000000 || *e.Iat != 1699999000 {
		t.Fatalf("%+v %v", e, err)
	}
	if g := mapped(e.All["groups"], map[string][]string{"g": {"staff"}}); len(g) != 1 || g[0] != "staff" {
		t.Fatalf("nested ext groups mapped to %v", g)
	}
	aud := `"a"` + strings.Repeat(`,"a"`, MaxAudiences)
	if _, err := parseClaims([]byte(`{"aud":[` + aud + `]}`)); err == nil {
		t.Fatal("more than MaxAudiences accepted")
	}
	for _, bad := range []string{`{"exp":"soon"}`, `{"exp":-1}`, `{"sub":1}`, `{"aud":1}`, `{"aud":[1]}`, `[]`, `null`} {
		if _, err := parseClaims([]byte(bad)); err == nil {
			t.Errorf("%s accepted", bad)
		}
	}
}

// FuzzUnsafePeek: any input peeks without panicking, and what it accepts
// is three base64url parts whose header names an alg.
func FuzzUnsafePeek(f *testing.F) {
	f.Add(b64(`{"alg":"RS256","kid":"k"}`) + "." + b64(`{"iss":"https://a/","aud":["x"]}`) + "." + b64("s"))
	f.Add("a.b.c")
	f.Add("tkd_at_x")
	f.Fuzz(func(t *testing.T, raw string) {
		p, err := UnsafePeek(raw)
		if err == nil && (p.Header.Alg == "" || strings.Count(raw, ".") != 2) {
			t.Fatalf("accepted %q as %+v", raw, p)
		}
	})
}

// FuzzParseClaims: any payload decodes or fails without panicking, and
// never yields more than MaxAudiences audiences.
func FuzzParseClaims(f *testing.F) {
	f.Add([]byte(`{"iss":"i","sub":"s","aud":"a","exp":1,"nbf":1,"iat":1,"auth_time":1,"ext":{"roles":["r"]}}`))
	f.Add([]byte(`{"aud":[]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		e, err := parseClaims(b)
		if err == nil && len(e.Aud) > MaxAudiences {
			t.Fatalf("%d audiences", len(e.Aud))
		}
	})
}
