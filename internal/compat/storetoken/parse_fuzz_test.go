package storetoken

import (
	"testing"
)

// FuzzParse feeds hostile bodies, content types, ids and headers to the
// parsers: they never panic, and what they accept is well-formed.
func FuzzParse(f *testing.F) {
	for _, s := range []string{"", `{}`, `{"expires_in":60}`, `{"audience":["api"]}`, `{"expires_in":1e3}`, `{"expires_in":60,"expires_in":61}`,
		`{"auth":{"email":"a@b","password":"p"}}`, `{"auth":null}`, `[1]`, `{"auth":{"email":1}}`, "\x00", `{"a":1} {}`} {
		f.Add(s, "application/json", "123e4567-e89b-12d3-a456-426614174000", "Bearer x")
	}
	f.Fuzz(func(t *testing.T, body, ct, id, authz string) {
		if g, err := parseGenerate(ct, []byte(body)); err == nil {
			if g.ExpiresIn != nil && *g.ExpiresIn <= 0 {
				t.Fatalf("accepted expires_in %d", *g.ExpiresIn)
			}
			if g.Audience != nil && (len(g.Audience) == 0 || len(g.Audience) > 10) {
				t.Fatalf("accepted audience %q", g.Audience)
			}
		}
		if s, err := parseSignIn(ct, []byte(body)); err == nil && (len(s.Email) > 320 || len(s.Password) > 1024) {
			t.Fatal("accepted oversized credentials")
		}
		if got, err := parseStoreID(id); err == nil && (got != id || len(id) > maxID || id == "") {
			t.Fatalf("store id %q -> %q", id, got)
		}
		_ = bearer(authz)
	})
}

func TestParseGenerate(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, body, field string
		ok                bool
	}{
		{"empty", "", "", true},
		{"blank", "  \n", "", true},
		{"object", `{}`, "", true},
		{"both", `{"expires_in":60,"audience":["api","kiosk"]}`, "", true},
		{"float", `{"expires_in":1.5}`, "expires_in", false},
		{"exponent", `{"expires_in":1e3}`, "expires_in", false},
		{"negative", `{"expires_in":-1}`, "expires_in", false},
		{"string", `{"expires_in":"60"}`, "expires_in", false},
		{"audience string", `{"audience":"api"}`, "audience", false},
		{"audience empty", `{"audience":[]}`, "audience", false},
		{"unknown", `{"scope":"x"}`, "scope", false},
		{"duplicate", `{"expires_in":60,"expires_in":61}`, "", false},
		{"array", `[1]`, "", false},
		{"trailing", `{} {}`, "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parseGenerate("application/json", []byte(tc.body))
			if (err == nil) != tc.ok {
				t.Fatalf("err %v, want ok=%v", err, tc.ok)
			}
			if err != nil {
				if br, _ := err.(*badRequest); br == nil || br.field != tc.field {
					t.Fatalf("err %#v, want field %q", err, tc.field)
				}
			}
		})
	}
	if _, err := parseGenerate("text/plain", []byte(`{}`)); err == nil {
		t.Fatal("text/plain body accepted")
	}
}

func TestBearer(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{"": "", "Bearer abc": "abc", "abc": "abc", "Bearer": "Bearer", "Bearer  a b": "b"} {
		if got := bearer(in); got != want {
			t.Errorf("bearer(%q) = %q, want %q", in, got, want)
		}
	}
}
