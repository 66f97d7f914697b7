package app_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/coreos/go-oidc/v3/oidc"
)

func jwks(t *testing.T, s *server, tenant string) []map[string]any {
	t.Helper()
	r := want(t, s.call(t, "GET", "/t/"+tenant+"/jwks.json", "", nil), 200)
	var set struct {
		Keys []map[string]any `json:"keys"`
	}
	if err := json.Unmarshal(r.Raw, &set); err != nil {
		t.Fatal(err)
	}
	return set.Keys
}

// TestKeysAndDiscovery covers every signing algorithm: go-oidc verifies a
// token through discovery alone, rotation keeps old tokens valid and the
// old key published, and HS256 keys never appear in the JWKS.
func TestKeysAndDiscovery(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, b backend) {
		s := start(t, b)
		ctx := context.Background()
		for _, alg := range []string{"ES256", "EdDSA", "RS256", "HS256"} {
			ten := strings.ToLower(alg)
			want(t, s.call(t, "POST", "/v1/tenants", s.Admin, map[string]any{"id": ten, "policy": map[string]any{"signing_alg": alg}}), 201)
			want(t, s.call(t, "POST", "/v1/tenants/"+ten+"/clients", s.Admin, map[string]any{"id": "ops", "scopes": []string{"tokend:admin"}, "audiences": []string{"api"}}), 201)
			mint := func() string {
				return want(t, s.call(t, "POST", "/v1/tenants/"+ten+"/tokens", s.Admin, map[string]any{"client_id": "ops"}), 201).str("access_token")
			}
			old := mint()
			keys := jwks(t, s, ten)
			if alg == "HS256" {
				if len(keys) != 0 {
					t.Fatalf("HS256 key published: %v", keys)
				}
			} else {
				if len(keys) != 1 || keys[0]["alg"] != alg || keys[0]["d"] != nil {
					t.Fatalf("%s jwks %v", alg, keys)
				}
				issuer := s.URL + "/t/" + ten
				prov, err := oidc.NewProvider(ctx, issuer)
				if err != nil {
					t.Fatal(err)
				}
				if _, err := prov.VerifierContext(ctx, &oidc.Config{ClientID: "api", SupportedSigningAlgs: []string{alg}}).Verify(ctx, old); err != nil {
					t.Fatalf("%s: go-oidc: %v", alg, err)
				}
			}
			k := want(t, s.call(t, "POST", "/v1/tenants/"+ten+"/keys/rotate", s.Admin, map[string]any{"now": true}), 201)
			if k.str("alg") != alg || k.str("state") != "active" {
				t.Fatalf("rotate %s", k.Raw)
			}
			list := want(t, s.call(t, "GET", "/v1/tenants/"+ten+"/keys", s.Admin, nil), 200).items()
			if len(list) != 2 || strings.Contains(strings.ToLower(fmtJSON(list)), "private") {
				t.Fatalf("keys %v", list)
			}
			if alg != "HS256" && len(jwks(t, s, ten)) != 2 {
				t.Fatalf("%s: retired key left the JWKS", alg)
			}
			// old and new tokens both work as tenant admin tokens
			for _, tok := range []string{old, mint()} {
				if who := want(t, s.call(t, "GET", "/v1/whoami", tok, nil), 200); who.str("tenant") != ten {
					t.Fatalf("whoami %s", who.Raw)
				}
			}
			// a token of one tenant is not accepted for another
			if ten != "es256" {
				want(t, s.call(t, "GET", "/v1/tenants/es256/clients", old, nil), 403)
			}
		}
		want(t, s.call(t, "POST", "/v1/tenants/es256/keys/rotate", s.Admin, map[string]any{"alg": "none"}), 422)
		want(t, s.call(t, "GET", "/t/nope/jwks.json", "", nil), 404)
		want(t, s.call(t, "GET", "/t/nope/.well-known/openid-configuration", "", nil), 404)
		meta := want(t, s.call(t, "GET", "/.well-known/oauth-authorization-server/t/es256", "", nil), 200)
		if meta.str("issuer") != s.URL+"/t/es256" || meta.str("jwks_uri") == "" || meta.str("token_endpoint") == "" {
			t.Fatalf("RFC 8414 metadata %s", meta.Raw)
		}
	})
}

func fmtJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
