package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/tokend/tokend/internal/app"
	"github.com/tokend/tokend/internal/apptest"
	"github.com/tokend/tokend/internal/config"
	"github.com/tokend/tokend/internal/secrets/vaulttest"
	"github.com/tokend/tokend/internal/testenv"
)

// Seed 002's legacy secrets (JWT_DEF_SECRET, JWT_SDK_SECRET).
const (
	taDefSecret = "authsec-default-secret-0123456789abcdef"
	taSDKSecret = "authsec-sdk-agent-secret-0123456789abcdef"
)

// setupTenantAuth gives tenant ten project api, an admin and a user
// (roles via a group), the surface with the clients listed registered
// for api (open needing no secret), and the legacy secrets.
func setupTenantAuth(t *testing.T, s *server, ten string, clients map[string]any) {
	t.Helper()
	adm, b := s.Admin, "/v1/tenants/"+ten
	want(t, s.call(t, "POST", "/v1/tenants", adm, map[string]any{"id": ten}), 201)
	want(t, s.call(t, "POST", b+"/projects", adm, map[string]any{"id": "api", "audience": ten + "-api"}), 201)
	want(t, s.call(t, "POST", b+"/roles", adm, map[string]any{"name": "admin", "scopes": []string{"tenant:admin"}}), 201)
	want(t, s.call(t, "POST", b+"/roles", adm, map[string]any{"name": "editor", "scopes": []string{"docs:write"}, "resources": []string{"docs"}}), 201)
	want(t, s.call(t, "POST", b+"/groups", adm, map[string]any{"name": "writers", "roles": []string{"editor"}}), 201)
	want(t, s.call(t, "POST", b+"/users", adm, map[string]any{"login": "admin@" + ten + ".test", "roles": []string{"admin"}}), 201)
	want(t, s.call(t, "POST", b+"/users", adm, map[string]any{"login": "user@" + ten + ".test", "groups": []string{"writers"}}), 201)
	want(t, s.call(t, "PUT", b+"/surfaces/tenantauth", adm, map[string]any{"clients": clients}), 200)
	want(t, s.call(t, "POST", b+"/keys/named", adm, map[string]any{"name": "default", "secret": taDefSecret}), 204)
	want(t, s.call(t, "POST", b+"/keys/named", adm, map[string]any{"name": "sdk-agent", "secret": taSDKSecret}), 204)
}

func (s *server) generateToken(t *testing.T, route, ten, client, email string, secret *string) response {
	t.Helper()
	m := map[string]any{"tenant_id": ten, "project_id": "api", "client_id": client, "email_id": email}
	if secret != nil {
		m["secret_id"] = *secret
	}
	return s.call(t, "POST", "/auth/"+route+"/generateToken", "", m)
}

func ptr(s string) *string { return &s }

// TestTenantAuthVault: a client whose secret_id lives in a real Vault
// (seed 002's layout: mount kv, secret/{tenant}/{project}/{client}, field
// secret_id) gets sdk-agent tokens on both routes with it; a wrong one,
// or one missing from Vault, is 401; with Vault gone, a client whose
// secret is not cached gets 503 with Retry-After and no token.
func TestTenantAuthVault(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, b backend) {
		v := startVault(t)
		roleID, secretID := v.AppRole(t, "tokend", "", "", "tokend-read")
		s := startWithVault(t, b, func(c *config.Config) {
			c.VaultAddr = v.Addr
			c.VaultRoleIDFile = vaulttest.WriteFile(t, "role-id", roleID)
			c.VaultSecretIDFile = vaulttest.WriteFile(t, "secret-id", secretID)
			c.VaultCacheTTL = time.Minute
		})
		reg := map[string]any{}
		for _, id := range []string{"agent", "cold", "ghost"} {
			reg[id] = map[string]any{"project_id": "api"}
		}
		setupTenantAuth(t, s, "acme", reg)
		for _, id := range []string{"agent", "cold", "ghost"} {
			want(t, s.call(t, "POST", "/v1/tenants/acme/clients", s.Admin, map[string]any{"id": id,
				"grant_types": []string{"client_credentials"}, "secret_ref": seed002Ref}), 201)
		}
		v.Put(t, "kv", "secret/acme/api/agent", map[string]any{"secret_id": "agent-vault-secret"})
		v.Put(t, "kv", "secret/acme/api/cold", map[string]any{"secret_id": "cold-vault-secret"})

		for _, route := range []string{"admin", "user"} {
			r := want(t, s.generateToken(t, route, "acme", "agent", route+"@acme.test", ptr("agent-vault-secret")), 200)
			h, p := parts(t, r.str("access_token"))
			if !strings.Contains(h, `"kid":"sdk-agent"`) || !strings.Contains(p, `"token_type":"sdk-agent"`) {
				t.Fatalf("%s token %s %s", route, h, p)
			}
		}
		for name, c := range map[string][2]string{"wrong": {"agent", "agent-vault-secreT"}, "missing": {"ghost", "x"}} {
			if r := s.generateToken(t, "user", "acme", c[0], "user@acme.test", ptr(c[1])); r.Status != 401 || r.str("error") != "unauthorized" {
				t.Errorf("%s secret: %d %s", name, r.Status, r.Raw)
			}
		}
		v.Stop()
		r := s.generateToken(t, "user", "acme", "cold", "user@acme.test", ptr("cold-vault-secret"))
		if r.Status != 503 || r.Header.Get("Retry-After") == "" || r.str("error") != "service unavailable" || r.str("access_token") != "" {
			t.Fatalf("Vault gone: %d %q %s", r.Status, r.Header.Get("Retry-After"), r.Raw)
		}
		if n := len(want(t, s.call(t, "GET", "/v1/tenants/acme/tokens?client_id=cold", s.Admin, nil), 200).items()); n != 0 {
			t.Fatalf("%d ledger rows during the outage", n)
		}
		// The secret read before the outage is cached.
		want(t, s.generateToken(t, "user", "acme", "agent", "user@acme.test", ptr("agent-vault-secret")), 200)
	})
}

// TestTenantAuthPyJWT: the tokens verify in PyJWT (Debian python3-jwt)
// with the imported legacy secret of their kid, with aud authsec-api and
// iss authsec-ai/auth-manager, as the legacy verifiers check them; the
// other type's secret refuses them.
func TestTenantAuthPyJWT(t *testing.T) {
	t.Parallel()
	py := testenv.PyJWT(t)
	eachBackend(t, func(t *testing.T, b backend) {
		s := start(t, b)
		setupTenantAuth(t, s, "acme", map[string]any{"sdk": map[string]any{"project_id": "api"},
			"open": map[string]any{"project_id": "api", "no_secret": true}})
		sec := want(t, s.call(t, "POST", "/v1/tenants/acme/clients", s.Admin, map[string]any{"id": "sdk", "grant_types": []string{"client_credentials"}}), 201).str("client_secret")
		want(t, s.call(t, "POST", "/v1/tenants/acme/clients", s.Admin, map[string]any{"id": "open", "public": true}), 201)
		user := want(t, s.generateToken(t, "user", "acme", "sdk", "user@acme.test", &sec), 200).str("access_token")
		admin := want(t, s.generateToken(t, "admin", "acme", "open", "admin@acme.test", nil), 200).str("access_token")
		const script = `
import json, sys, jwt
tok, secret = sys.argv[1], sys.argv[2]
try:
    c = jwt.decode(tok, secret, algorithms=["HS256"], audience="authsec-api", issuer="authsec-ai/auth-manager")
    print(json.dumps({"kid": jwt.get_unverified_header(tok)["kid"], "claims": c}, sort_keys=True))
except jwt.InvalidTokenError as e:
    print("refused: " + type(e).__name__)
`
		var got struct {
			Kid    string         `json:"kid"`
			Claims map[string]any `json:"claims"`
		}
		run := func(tok, secret string) string {
			cmd := exec.Command(py, "-c", script, tok, secret)
			var out, errb bytes.Buffer
			cmd.Stdout, cmd.Stderr = &out, &errb
			if err := cmd.Run(); err != nil {
				t.Fatalf("python: %v %s", err, errb.String())
			}
			return strings.TrimSpace(out.String())
		}
		if err := json.Unmarshal([]byte(run(user, taSDKSecret)), &got); err != nil || got.Kid != "sdk-agent" ||
			got.Claims["token_type"] != "sdk-agent" || got.Claims["email_id"] != "user@acme.test" || got.Claims["tenant_id"] != "acme" ||
			got.Claims["project_id"] != "api" || got.Claims["client_id"] != "sdk" || !strings.Contains(string(mustJSON(got.Claims["scopes"])), "docs:write") ||
			!strings.Contains(string(mustJSON(got.Claims["groups"])), "writers") || !strings.Contains(string(mustJSON(got.Claims["roles"])), "editor") {
			t.Fatalf("user token in PyJWT: %+v %v", got, err)
		}
		got.Claims = nil
		if err := json.Unmarshal([]byte(run(admin, taDefSecret)), &got); err != nil || got.Kid != "default" || got.Claims["token_type"] != "default" || got.Claims["roles"] != nil {
			t.Fatalf("admin token in PyJWT: %+v %v", got, err)
		}
		if out := run(user, taDefSecret); out != "refused: InvalidSignatureError" {
			t.Fatalf("user token with the default secret: %s", out)
		}
		// The native introspection sees the same token.
		req, _ := http.NewRequest("GET", s.URL+"/t/acme/check", nil)
		req.Header.Set("Authorization", "Bearer "+user)
		if r := send(t, req); r.Status != 200 || r.str("client_id") != "sdk" {
			t.Fatalf("check: %d %s", r.Status, r.Raw)
		}
	})
}

// TestTenantAuthDevVault: with --vault-addr, the dev fixtures write the
// tenantauth client's secret_id where seed 002 keeps it (mount kv,
// secret/{tenant}/{project}/{client}, field secret_id) and give the client
// that reference; generateToken then checks the secret_id against Vault.
// Without a writable kv mount they keep it in tokend's store and say so.
func TestTenantAuthDevVault(t *testing.T) {
	t.Parallel()
	for _, withKV := range []bool{true, false} {
		t.Run(map[bool]string{true: "kv mount", false: "no kv mount"}[withKV], func(t *testing.T) {
			t.Parallel()
			v := vaulttest.Start(t)
			if withKV {
				v.EnableKV(t, "kv")
			}
			as := apptest.StartWith(t, "", apptest.Options{Config: func(c *config.Config) {
				c.Dev = true
				c.VaultAddr = v.Addr
				c.VaultTokenFile = vaulttest.WriteFile(t, "token", v.RootToken)
			}})
			creds, _, err := as.App.DevSetup(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			f, _ := json.Marshal(creds.Compat["tenantauth"])
			var dev app.DevTenantAuth
			if err := json.Unmarshal(f, &dev); err != nil {
				t.Fatal(err)
			}
			s := &server{URL: as.URL, Admin: as.Admin, App: as.App, Cfg: as.Cfg}
			cl := want(t, s.call(t, "GET", "/v1/tenants/"+dev.Tenant+"/clients/"+dev.ClientID, s.Admin, nil), 200)
			if withKV {
				want := "vault:kv/secret/" + dev.Tenant + "/" + dev.ProjectID + "/" + dev.ClientID
				if dev.SecretIn != want || cl.Body["secret_ref"] == nil {
					t.Fatalf("secret_in %q, client %s; want %q and a secret_ref", dev.SecretIn, cl.Raw, want)
				}
				got, err := v.Root.KVv2("kv").Get(context.Background(), "secret/"+dev.Tenant+"/"+dev.ProjectID+"/"+dev.ClientID)
				if err != nil || got.Data["secret_id"] != dev.SecretID {
					t.Fatalf("Vault holds %v, %v", got, err)
				}
			} else if dev.SecretIn != "tokend" || cl.Body["secret_ref"] != nil {
				t.Fatalf("without kv: secret_in %q, client %s", dev.SecretIn, cl.Raw)
			}
			gen := func(secret string) response {
				return s.call(t, "POST", "/auth/user/generateToken", "", map[string]any{"tenant_id": dev.Tenant, "project_id": dev.ProjectID,
					"client_id": dev.ClientID, "email_id": dev.UserEmail, "secret_id": secret})
			}
			r := want(t, gen(dev.SecretID), 200)
			if h, _ := parts(t, r.str("access_token")); !strings.Contains(h, `"kid":"sdk-agent"`) {
				t.Fatalf("header %s", h)
			}
			if r := gen(dev.SecretID + "x"); r.Status != 401 {
				t.Fatalf("wrong secret_id: %d %s", r.Status, r.Raw)
			}
		})
	}
}
