package app_test

import (
	"net/url"
	"testing"
)

// TestSealedSecretRef: a client whose secret reference names a secret
// tokend keeps sealed (its seed 004 account secret) authenticates with
// that secret through the sealed backend; its stored hash is gone, a
// wrong secret is invalid_client, and rotating the secret drops the
// reference.
func TestSealedSecretRef(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, b backend) {
		s := start(t, b)
		o := setupOAuth(t, s, "shop")
		p := "/v1/tenants/shop/clients/"
		first := want(t, s.call(t, "POST", "/v1/tenants/shop/clients", s.Admin, map[string]any{"id": "acct",
			"grant_types": []string{"client_credentials"}, "scopes": []string{"read"}}), 201).str("client_secret")
		const account = "the account secret of acct"
		want(t, s.call(t, "PUT", p+"acct/legacy-secret", s.Admin, map[string]any{"secret": account}), 204)
		ref := map[string]any{"backend": "sealed", "path": "client/{client}", "field": "legacy_secret"}
		got := want(t, s.call(t, "PATCH", p+"acct", s.Admin, map[string]any{"secret_ref": ref}), 200)
		if r, _ := got.Body["secret_ref"].(map[string]any); r["backend"] != "sealed" || got.Body["public"] != false || got.str("secret_alg") != "" {
			t.Fatalf("client after setting a reference: %s", got.Raw)
		}
		cc := url.Values{"grant_type": {"client_credentials"}}
		want(t, o.form(t, "token", "acct", account, cc), 200)
		if r := want(t, o.form(t, "token", "acct", first, cc), 401); r.str("error") != "invalid_client" {
			t.Fatalf("the dropped stored secret: %s", r.Raw)
		}
		want(t, o.form(t, "token", "acct", account+"x", cc), 401)
		// The introspection endpoint takes it as confidential.
		tok := want(t, o.form(t, "token", "acct", account, cc), 200).str("access_token")
		want(t, o.form(t, "introspect", "acct", account, url.Values{"token": {tok}}), 200)
		// Rotating gives it a stored secret again and drops the reference.
		rotated := want(t, s.call(t, "POST", p+"acct/secret", s.Admin, nil), 200).str("client_secret")
		if c := want(t, s.call(t, "GET", p+"acct", s.Admin, nil), 200); c.Body["secret_ref"] != nil {
			t.Fatalf("reference kept after rotation: %s", c.Raw)
		}
		want(t, o.form(t, "token", "acct", rotated, cc), 200)
		want(t, o.form(t, "token", "acct", account, cc), 401)
		// A public client cannot be given a reference.
		want(t, s.call(t, "POST", "/v1/tenants/shop/clients", s.Admin, map[string]any{"id": "spa", "public": true}), 201)
		want(t, s.call(t, "PATCH", p+"spa", s.Admin, map[string]any{"secret_ref": ref}), 422)
	})
}
