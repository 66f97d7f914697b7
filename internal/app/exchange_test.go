package app_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/golang-jwt/jwt/v5"

	"github.com/tokend/tokend/internal/apptest"
	"github.com/tokend/tokend/internal/config"
	"github.com/tokend/tokend/internal/store"
	"github.com/tokend/tokend/internal/upstream/oidc/optest"
)

const (
	grantExchange = "urn:ietf:params:oauth:grant-type:token-exchange"
	grantBearer   = "urn:ietf:params:oauth:grant-type:jwt-bearer"
	typeID        = "urn:ietf:params:oauth:token-type:id_token"
	typeAccess    = "urn:ietf:params:oauth:token-type:access_token"
	typeJWT       = "urn:ietf:params:oauth:token-type:jwt"
)

// exchangeEnv is a tokend server whose tenant "acme" trusts a real
// OpenID Connect provider (the zitadel/oidc example OP) as "op".
type exchangeEnv struct {
	s      *server
	op     *optest.OP
	ten    string
	secret string // client "x": token-exchange and jwt-bearer
}

func startExchange(t *testing.T, b backend, cfg func(*config.Config)) *exchangeEnv {
	t.Helper()
	op := optest.Start(t)
	as := apptest.StartWith(t, b.url(t), apptest.Options{Config: func(c *config.Config) {
		c.UpstreamInsecureLoopback = true
		if cfg != nil {
			cfg(c)
		}
	}})
	s := &server{URL: as.URL, Admin: as.Admin, App: as.App, Cfg: as.Cfg}
	e := &exchangeEnv{s: s, op: op, ten: "acme"}
	a, p := s.Admin, "/v1/tenants/acme"
	want(t, s.call(t, "POST", "/v1/tenants", a, map[string]any{"id": "acme"}), 201)
	want(t, s.call(t, "POST", p+"/projects", a, map[string]any{"id": "orders", "audience": "https://orders.example.com"}), 201)
	want(t, s.call(t, "POST", p+"/roles", a, map[string]any{"name": "reader", "scopes": []string{"read"}, "resources": []string{"orders/*"}}), 201)
	want(t, s.call(t, "POST", p+"/roles", a, map[string]any{"name": "writer", "scopes": []string{"write"}}), 201)
	want(t, s.call(t, "POST", p+"/groups", a, map[string]any{"name": "staff", "roles": []string{"writer"}}), 201)
	// The OP's example user, whose ID tokens have sub id1 (and no email).
	want(t, s.call(t, "POST", p+"/users", a, map[string]any{"login": "id1", "roles": []string{"reader"}}), 201)
	e.trust(t, "op", op.Issuer, map[string]any{})
	e.secret = want(t, s.call(t, "POST", p+"/clients", a, map[string]any{"id": "x", "grant_types": []string{grantExchange, grantBearer},
		"scopes": []string{"read", "write"}}), 201).str("client_secret")
	return e
}

// trust creates or replaces trusted issuer id with the defaults of these
// tests (audience web, RS256, users by sub) overridden by over.
func (e *exchangeEnv) trust(t *testing.T, id, iss string, over map[string]any) {
	t.Helper()
	spec := map[string]any{"id": id, "issuer": iss, "audiences": []string{optest.WebClient}, "algorithms": []string{"RS256"},
		"user_claim": "sub"}
	for k, v := range over {
		spec[k] = v
	}
	path := "/v1/tenants/" + e.ten + "/trusted-issuers"
	if r := e.s.call(t, "GET", path+"/"+id, e.s.Admin, nil); r.Status == 200 {
		want(t, e.s.call(t, "PUT", path+"/"+id, e.s.Admin, spec), 200)
		return
	}
	want(t, e.s.call(t, "POST", path, e.s.Admin, spec), 201)
}

func (e *exchangeEnv) token(t *testing.T, v url.Values) response {
	t.Helper()
	req, _ := http.NewRequest("POST", e.s.URL+"/t/"+e.ten+"/oauth2/token", strings.NewReader(v.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth("x", e.secret)
	return send(t, req)
}

func (e *exchangeEnv) exchange(t *testing.T, subject, typ string, extra ...string) response {
	t.Helper()
	v := url.Values{"grant_type": {grantExchange}, "subject_token": {subject}, "subject_token_type": {typ}}
	for i := 0; i+1 < len(extra); i += 2 {
		v.Set(extra[i], extra[i+1])
	}
	return e.token(t, v)
}

func (e *exchangeEnv) ledger(t *testing.T) []store.Token {
	t.Helper()
	l, err := e.s.App.Store().Tokens().List(context.Background(), e.ten, store.TokenFilter{Page: store.Page{Limit: 1000}})
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func oauthError(t *testing.T, r response, status int, code, contains string) {
	t.Helper()
	if r.Status != status || r.str("error") != code || !strings.Contains(r.str("error_description"), contains) {
		t.Fatalf("want %d %s (%q), got %d %s", status, code, contains, r.Status, r.Raw)
	}
}

// TestTokenExchange: an ID token of a real OpenID Connect provider is
// exchanged (RFC 8693) for a tenant token carrying the mapped user's
// roles, groups, resources and scopes and idp; the exchange has its
// ledger row, audit event and metric; the issued token can itself be
// exchanged (narrowed), with an actor; revoking the user cuts it off.
func TestTokenExchange(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, b backend) {
		e := startExchange(t, b, nil)
		e.trust(t, "op", e.op.Issuer, map[string]any{"groups_claim": "sub", "group_map": map[string][]string{"id1": {"staff"}}})
		id, _ := e.op.IDToken(t)
		r := want(t, e.exchange(t, id, typeID), 200)
		if r.str("issued_token_type") != typeAccess || r.str("token_type") != "Bearer" || r.Body["expires_in"] == nil {
			t.Fatalf("response %s", r.Raw)
		}
		c := payload(t, r.str("access_token"))
		user := want(t, e.s.call(t, "GET", "/v1/tenants/acme/users?login=id1", e.s.Admin, nil), 200).items()[0]
		if c["sub"] != user["id"] || c["idp"] != e.op.Issuer || c["scope"] != "read write" || c["client_id"] != "x" {
			t.Fatalf("claims %v", c)
		}
		if !strings.Contains(string(mustJSON(c["roles"])), "reader") || !strings.Contains(string(mustJSON(c["groups"])), "staff") ||
			!strings.Contains(string(mustJSON(c["resources"])), "orders/*") {
			t.Fatalf("authority claims %v", c)
		}
		var row store.Token
		for _, x := range e.ledger(t) {
			if x.ID == c["jti"] {
				row = x
			}
		}
		if row.Kind != "access" || row.Grant != "token-exchange" || row.IDP != e.op.Issuer || row.ExternalSubject == "" {
			t.Fatalf("ledger row %+v", row)
		}
		ev := want(t, e.s.call(t, "GET", "/v1/tenants/acme/audit?action=token.issue", e.s.Admin, nil), 200).items()
		found := false
		for _, x := range ev {
			if d, _ := x["detail"].(map[string]any); d["grant"] == "token-exchange" && d["idp"] == e.op.Issuer {
				found = true
			}
		}
		if !found {
			t.Fatalf("no audit event of the exchange in %v", ev)
		}
		if m := metrics(t, e.s); !strings.Contains(m, `tokend_grant_outcomes_total{grant="token-exchange",outcome="success"} 1`) {
			t.Fatalf("metrics lack the exchange:\n%s", grep(m, "grant_outcomes"))
		}

		// A token of this tenant is exchanged too, only narrowed.
		tok := r.str("access_token")
		n := want(t, e.exchange(t, tok, typeAccess, "scope", "read"), 200)
		if p := payload(t, n.str("access_token")); p["scope"] != "read" || p["sub"] != user["id"] {
			t.Fatalf("narrowed %v", p)
		}
		oauthError(t, e.exchange(t, n.str("access_token"), typeAccess, "scope", "write"), 400, "invalid_scope", "write")
		// With an actor token: act names the actor (RFC 8693 §4.1).
		d := want(t, e.exchange(t, tok, typeJWT, "actor_token", n.str("access_token"), "actor_token_type", typeAccess,
			"requested_token_type", typeJWT), 200)
		if act, _ := payload(t, d.str("access_token"))["act"].(map[string]any); act["sub"] != user["id"] || d.str("issued_token_type") != typeJWT {
			t.Fatalf("act %v (%s)", act, d.Raw)
		}
		// An actor of the other provider: act names it by sub and iss.
		d = want(t, e.exchange(t, tok, typeAccess, "actor_token", id, "actor_token_type", typeID), 200)
		if act, _ := payload(t, d.str("access_token"))["act"].(map[string]any); act["sub"] != "id1" || act["iss"] != e.op.Issuer {
			t.Fatalf("external act %v", act)
		}
		oauthError(t, e.exchange(t, tok, typeAccess, "actor_token_type", typeID), 400, "invalid_request", "actor_token_type")
		// A client not allowed the grant.
		sec := want(t, e.s.call(t, "POST", "/v1/tenants/acme/clients", e.s.Admin, map[string]any{"id": "cc", "grant_types": []string{"client_credentials"}}), 201).str("client_secret")
		req, _ := http.NewRequest("POST", e.s.URL+"/t/acme/oauth2/token", strings.NewReader(url.Values{"grant_type": {grantExchange},
			"subject_token": {id}, "subject_token_type": {typeID}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth("cc", sec)
		oauthError(t, send(t, req), 400, "unauthorized_client", "not allowed")
		oauthError(t, e.exchange(t, tok, typeAccess, "requested_token_type", "urn:ietf:params:oauth:token-type:saml2"), 400, "invalid_request", "requested_token_type")
		oauthError(t, e.exchange(t, tok, typeAccess, "audience", "https://unknown.example.com"), 400, "invalid_target", "audience")

		// Revoking the user's tokens cuts off the exchanged ones.
		want(t, e.s.call(t, "POST", "/v1/tenants/acme/revocations", e.s.Admin, map[string]any{"scope": "subject", "subject_type": "user", "key": user["id"]}), 201)
		time.Sleep(20 * time.Millisecond)
		oauthError(t, e.exchange(t, tok, typeAccess), 400, "invalid_grant", "not an active token")
	})
}

func mustJSON(v any) []byte { b, _ := json.Marshal(v); return b }

func metrics(t *testing.T, s *server) string {
	t.Helper()
	resp, err := http.Get(s.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

func grep(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// TestTokenExchangeRefusals: each way a subject token is unacceptable is
// refused with invalid_grant (RFC 8693 §2.2.2), audited with its reason,
// and issues nothing.
func TestTokenExchangeRefusals(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, b backend) {
		e := startExchange(t, b, nil)
		id, _ := e.op.IDToken(t)
		before := len(e.ledger(t))
		refuse := func(t *testing.T, subject, typ, contains string) {
			t.Helper()
			oauthError(t, e.exchange(t, subject, typ), 400, "invalid_grant", contains)
		}
		t.Run("AnotherTenant", func(t *testing.T) {
			want(t, e.s.call(t, "POST", "/v1/tenants", e.s.Admin, map[string]any{"id": "other"}), 201)
			sec := want(t, e.s.call(t, "POST", "/v1/tenants/other/clients", e.s.Admin, map[string]any{"id": "svc", "grant_types": []string{"client_credentials"}, "scopes": []string{"read"}}), 201).str("client_secret")
			req, _ := http.NewRequest("POST", e.s.URL+"/t/other/oauth2/token", strings.NewReader("grant_type=client_credentials"))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.SetBasicAuth("svc", sec)
			foreign := want(t, send(t, req), 200).str("access_token")
			refuse(t, foreign, typeAccess, "does not trust")
		})
		t.Run("WrongAudience", func(t *testing.T) {
			e.trust(t, "op", e.op.Issuer, map[string]any{"audiences": []string{"someone-else"}})
			defer e.trust(t, "op", e.op.Issuer, map[string]any{})
			refuse(t, id, typeID, "another audience")
		})
		t.Run("Expired", func(t *testing.T) {
			e.s.App.SetExchangeClock(func() time.Time { return time.Now().Add(2 * time.Hour) })
			defer e.s.App.SetExchangeClock(time.Now)
			refuse(t, id, typeID, "expired")
		})
		t.Run("NotYetValid", func(t *testing.T) {
			e.s.App.SetExchangeClock(func() time.Time { return time.Now().Add(-time.Hour) })
			defer e.s.App.SetExchangeClock(time.Now)
			refuse(t, id, typeID, "not valid yet")
		})
		t.Run("TooOld", func(t *testing.T) {
			e.trust(t, "op", e.op.Issuer, map[string]any{"max_age": 60})
			defer e.trust(t, "op", e.op.Issuer, map[string]any{})
			e.s.App.SetExchangeClock(func() time.Time { return time.Now().Add(10 * time.Minute) })
			defer e.s.App.SetExchangeClock(time.Now)
			refuse(t, id, typeID, "maximum age")
		})
		t.Run("ForeignIssuer", func(t *testing.T) {
			other := optest.Start(t) // another provider, not trusted
			oid, _ := other.IDToken(t)
			refuse(t, oid, typeID, "does not trust")
		})
		t.Run("BadSignature", func(t *testing.T) {
			parts := strings.Split(id, ".")
			sig := []byte(parts[2])
			if sig[10] == 'A' {
				sig[10] = 'B'
			} else {
				sig[10] = 'A'
			}
			refuse(t, parts[0]+"."+parts[1]+"."+string(sig), typeID, "signature")
			// A payload changed under the provider's signature.
			p, _ := base64.RawURLEncoding.DecodeString(parts[1])
			forged := strings.Replace(string(p), `"sub":"`, `"sub":"x`, 1)
			refuse(t, parts[0]+"."+base64.RawURLEncoding.EncodeToString([]byte(forged))+"."+parts[2], typeID, "signature")
		})
		t.Run("AlgorithmNotAllowed", func(t *testing.T) {
			e.trust(t, "op", e.op.Issuer, map[string]any{"algorithms": []string{"ES256"}})
			defer e.trust(t, "op", e.op.Issuer, map[string]any{})
			refuse(t, id, typeID, "algorithm")
			// none and HS* are refused when the issuer is set up.
			for _, alg := range []string{"none", "HS256"} {
				r := e.s.call(t, "PUT", "/v1/tenants/acme/trusted-issuers/op", e.s.Admin, map[string]any{"issuer": e.op.Issuer,
					"audiences": []string{"web"}, "algorithms": []string{alg}})
				if r.Status != 422 || r.str("field") != "algorithms" {
					t.Fatalf("alg %s: %d %s", alg, r.Status, r.Raw)
				}
			}
		})
		t.Run("EmailNotVerified", func(t *testing.T) {
			e.trust(t, "op", e.op.Issuer, map[string]any{"require_email_verified": true})
			defer e.trust(t, "op", e.op.Issuer, map[string]any{})
			refuse(t, id, typeID, "not verified")
		})
		t.Run("UnknownUser", func(t *testing.T) {
			e.trust(t, "op", e.op.Issuer, map[string]any{"user_claim": "nonce"}) // "n": no user of the tenant, no JIT
			defer e.trust(t, "op", e.op.Issuer, map[string]any{})
			refuse(t, id, typeID, "names no user")
		})
		t.Run("Missing", func(t *testing.T) {
			oauthError(t, e.token(t, url.Values{"grant_type": {grantExchange}, "subject_token_type": {typeID}}), 400, "invalid_request", "subject_token")
			oauthError(t, e.exchange(t, id, ""), 400, "invalid_request", "subject_token_type")
			oauthError(t, e.exchange(t, id, "urn:x"), 400, "invalid_request", "not supported")
		})
		if n := len(e.ledger(t)) - before; n != 0 {
			t.Fatalf("%d tokens issued by refusals", n)
		}
		ev := want(t, e.s.call(t, "GET", "/v1/tenants/acme/audit?action=token.refuse", e.s.Admin, nil), 200).items()
		if len(ev) < 9 {
			t.Fatalf("%d refusals audited", len(ev))
		}
		for _, x := range ev {
			d, _ := x["detail"].(map[string]any)
			if d["reason"] == "" || strings.Contains(mustString(d), id[:40]) {
				t.Fatalf("refusal event %v", x)
			}
		}
		if m := metrics(t, e.s); !strings.Contains(m, `tokend_grant_outcomes_total{grant="token-exchange",outcome="failure"}`) {
			t.Fatalf("no failure metric:\n%s", grep(m, "grant_outcomes"))
		}
	})
}

func mustString(v any) string { return string(mustJSON(v)) }

// TestTokenExchangeJIT: with just-in-time creation on, an unknown user is
// created with the issuer's default roles and exchanged.
func TestTokenExchangeJIT(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, b backend) {
		e := startExchange(t, b, nil)
		e.trust(t, "op", e.op.Issuer, map[string]any{"user_claim": "nonce", "create_users": true, "default_roles": []string{"writer"}})
		id, _ := e.op.IDToken(t)
		c := payload(t, want(t, e.exchange(t, id, typeID), 200).str("access_token"))
		if c["scope"] != "write" {
			t.Fatalf("JIT user token %v", c)
		}
		u := want(t, e.s.call(t, "GET", "/v1/tenants/acme/users?login=n", e.s.Admin, nil), 200).items()
		if len(u) != 1 || u[0]["id"] != c["sub"] {
			t.Fatalf("JIT user %v", u)
		}
		// The second exchange finds the same user.
		if c2 := payload(t, want(t, e.exchange(t, id, typeID), 200).str("access_token")); c2["sub"] != c["sub"] {
			t.Fatalf("second exchange %v", c2)
		}
	})
}

// TestTokenExchangeIntrospection: an opaque access token of the provider
// is checked by RFC 7662 introspection at the provider (as client web).
func TestTokenExchangeIntrospection(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, b backend) {
		e := startExchange(t, b, nil)
		e.trust(t, "op", e.op.Issuer, map[string]any{"introspection_url": e.op.Endpoint("introspection_endpoint"),
			"introspection_client_id": optest.WebClient, "introspection_secret": optest.WebSecret})
		_, at := e.op.IDToken(t)
		r := want(t, e.exchange(t, at, typeAccess), 200)
		if c := payload(t, r.str("access_token")); c["idp"] != e.op.Issuer || c["scope"] != "read" {
			t.Fatalf("claims %v", c)
		}
		// The provider's inactive answer (a token it never issued).
		oauthError(t, e.exchange(t, "not-a-token-of-anyone", typeAccess), 400, "invalid_grant", "not active")
		// With the wrong introspection secret the provider answers 401:
		// the token cannot be checked.
		e.trust(t, "op", e.op.Issuer, map[string]any{"introspection_url": e.op.Endpoint("introspection_endpoint"),
			"introspection_client_id": optest.WebClient, "introspection_secret": "wrong"})
		r = e.exchange(t, "another-opaque-token", typeAccess)
		if r.Status != 503 || r.str("error") != "temporarily_unavailable" {
			t.Fatalf("wrong introspection secret: %d %s", r.Status, r.Raw)
		}
	})
}

// TestJWTBearer: RFC 7523 assertions signed by a key registered on the
// client, for the client itself and for a user; a replayed jti, a foreign
// audience, an exp too far ahead are refused; the provider's ID token
// (whose aud is its own client, not this token endpoint) is refused.
func TestJWTBearer(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, b backend) {
		e := startExchange(t, b, nil)
		key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		set, _ := json.Marshal(jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: key.Public(), KeyID: "k1", Algorithm: "ES256", Use: "sig"}}})
		sec := want(t, e.s.call(t, "POST", "/v1/tenants/acme/clients", e.s.Admin, map[string]any{"id": "kc", "grant_types": []string{grantBearer},
			"scopes": []string{"read", "write"}, "jwks": json.RawMessage(set)}), 201).str("client_secret")
		tokenURL := e.s.URL + "/t/acme/oauth2/token"
		sign := func(sub, aud string, exp time.Time, jti string) string {
			tok := jwt.NewWithClaims(jwt.SigningMethodES256, jwt.RegisteredClaims{Issuer: "kc", Subject: sub, Audience: jwt.ClaimStrings{aud},
				ExpiresAt: jwt.NewNumericDate(exp), IssuedAt: jwt.NewNumericDate(time.Now()), ID: jti})
			tok.Header["kid"] = "k1"
			v, err := tok.SignedString(key)
			if err != nil {
				t.Fatal(err)
			}
			return v
		}
		use := func(a, client, secret string) response {
			req, _ := http.NewRequest("POST", tokenURL, strings.NewReader(url.Values{"grant_type": {grantBearer}, "assertion": {a}}.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.SetBasicAuth(client, secret)
			return send(t, req)
		}
		soon := time.Now().Add(2 * time.Minute)
		a := sign("id1", tokenURL, soon, "j1")
		c := payload(t, want(t, use(a, "kc", sec), 200).str("access_token"))
		if c["scope"] != "read" || c["sub"] == "" {
			t.Fatalf("user assertion token %v", c)
		}
		oauthError(t, use(a, "kc", sec), 400, "invalid_grant", "replayed")
		if c := payload(t, want(t, use(sign("kc", e.s.URL+"/t/acme", soon, "j2"), "kc", sec), 200).str("access_token")); c["sub"] != "kc" {
			t.Fatalf("client assertion token %v", c)
		}
		oauthError(t, use(sign("kc", "https://elsewhere.example.com/token", soon, "j3"), "kc", sec), 400, "invalid_grant", "another audience")
		oauthError(t, use(sign("kc", tokenURL, time.Now().Add(time.Hour), "j4"), "kc", sec), 400, "invalid_grant", "ahead")
		oauthError(t, use(sign("kc", tokenURL, time.Now().Add(-time.Hour), "j5"), "kc", sec), 400, "invalid_grant", "expired")
		// A key the client has not registered.
		other, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		tok := jwt.NewWithClaims(jwt.SigningMethodES256, jwt.RegisteredClaims{Issuer: "kc", Subject: "kc", Audience: jwt.ClaimStrings{tokenURL},
			ExpiresAt: jwt.NewNumericDate(soon), ID: "j6"})
		tok.Header["kid"] = "k1"
		forged, _ := tok.SignedString(other)
		oauthError(t, use(forged, "kc", sec), 400, "invalid_grant", "signature")
		// The refused j3..j6 used up nothing: j6 is still free.
		want(t, use(sign("kc", tokenURL, soon, "j6"), "kc", sec), 200)
		// A trusted issuer's token as the assertion: the provider's ID
		// token names its own client as aud, never this token endpoint.
		id, _ := e.op.IDToken(t)
		oauthError(t, use(id, "x", e.secret), 400, "invalid_grant", "another audience")
		if m := metrics(t, e.s); !strings.Contains(m, `tokend_grant_outcomes_total{grant="jwt-bearer",outcome="success"} 3`) {
			t.Fatalf("metrics:\n%s", grep(m, "grant_outcomes"))
		}
	})
}

// TestTokenExchangeProviderDown: a trusted provider that cannot be
// reached is 503 temporarily_unavailable with Retry-After, never an
// acceptance, and nothing is issued.
func TestTokenExchangeProviderDown(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, b backend) {
		e := startExchange(t, b, nil)
		id, _ := e.op.IDToken(t)
		before := len(e.ledger(t))
		e.op.Kill()
		r := e.exchange(t, id, typeID)
		if r.Status != 503 || r.str("error") != "temporarily_unavailable" || !strings.Contains(r.str("error_description"), "cannot be reached") ||
			r.Header.Get("Retry-After") == "" {
			t.Fatalf("provider down: %d %v %s", r.Status, r.Header, r.Raw)
		}
		if n := len(e.ledger(t)) - before; n != 0 {
			t.Fatalf("%d tokens issued", n)
		}
	})
}

// hostile is a loopback server playing a provider that misbehaves: this
// is a test of tokend's bounds against hostile answers, not a stand-in
// for a real provider.
func hostile(t *testing.T, jwks func(w http.ResponseWriter), slow time.Duration) string {
	t.Helper()
	mux := http.NewServeMux()
	srv := &http.Server{Handler: mux}
	ln, err := netListen()
	if err != nil {
		t.Fatal(err)
	}
	iss := "http://" + ln.Addr().String()
	stop := make(chan struct{})
	mux.HandleFunc("/.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		if slow > 0 {
			select {
			case <-time.After(slow):
			case <-stop:
				return
			case <-r.Context().Done():
				return
			}
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"issuer": iss, "jwks_uri": iss + "/keys", "authorization_endpoint": iss + "/auth",
			"token_endpoint": iss + "/token", "id_token_signing_alg_values_supported": []string{"RS256"}})
	})
	mux.HandleFunc("/keys", func(w http.ResponseWriter, r *http.Request) { jwks(w) })
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { close(stop); srv.Close() })
	return iss
}

// unsigned makes a JWT-shaped token of iss with the given payload fields
// and a dummy RS256 signature.
func unsigned(iss string, fields map[string]any) string {
	fields["iss"] = iss
	h := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"RS256","kid":"k1"}`))
	p := base64.RawURLEncoding.EncodeToString(mustJSON(fields))
	return h + "." + p + "." + base64.RawURLEncoding.EncodeToString(make([]byte, 256))
}

// TestTokenExchangeBadInput: a 1 MB subject token, a JWT with 10,000 aud
// entries, a JWKS of 10,000 keys and a provider that never answers each
// get a clear error in bounded time, and nothing is issued.
func TestTokenExchangeBadInput(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, b backend) {
		e := startExchange(t, b, func(c *config.Config) { c.UpstreamTimeout = 500 * time.Millisecond })
		before := len(e.ledger(t))
		t.Run("OneMegabyteToken", func(t *testing.T) {
			big := strings.Repeat("a", 1<<20)
			r := e.exchange(t, big, typeAccess)
			if r.Status != 413 && !(r.Status == 400 && r.str("error") == "invalid_request") {
				t.Fatalf("1 MB token: %d %.300s", r.Status, r.Raw)
			}
			// Just under the body limit, it is refused by the token limit.
			r = e.exchange(t, strings.Repeat("a", 900<<10), typeAccess)
			oauthError(t, r, 400, "invalid_request", "larger than")
		})
		t.Run("TenThousandAudiences", func(t *testing.T) {
			aud := make([]string, 10000)
			for i := range aud {
				aud[i] = "a" + string(rune('0'+i%10))
			}
			tok := unsigned(e.op.Issuer, map[string]any{"sub": "id1", "aud": aud, "exp": time.Now().Add(time.Hour).Unix()})
			oauthError(t, e.exchange(t, tok, typeJWT), 400, "invalid_request", "larger than")
		})
		t.Run("TenThousandKeys", func(t *testing.T) {
			iss := hostile(t, func(w http.ResponseWriter) {
				w.Header().Set("Content-Type", "application/json")
				_, _ = io.WriteString(w, `{"keys":[`)
				for i := range 10000 {
					if i > 0 {
						_, _ = io.WriteString(w, ",")
					}
					_, _ = io.WriteString(w, `{"kty":"EC","crv":"P-256","kid":"k`+strings.Repeat("x", i%7)+`","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}`)
				}
				_, _ = io.WriteString(w, `]}`)
			}, 0)
			e.trust(t, "hostile", iss, map[string]any{"audiences": []string{"x"}})
			tok := unsigned(iss, map[string]any{"sub": "id1", "aud": "x", "exp": time.Now().Add(time.Hour).Unix()})
			began := time.Now()
			r := e.exchange(t, tok, typeJWT)
			if r.Status != 503 || r.str("error") != "temporarily_unavailable" || time.Since(began) > 5*time.Second {
				t.Fatalf("10,000 keys: %d %s after %s", r.Status, r.Raw, time.Since(began))
			}
		})
		t.Run("NeverAnswers", func(t *testing.T) {
			iss := hostile(t, func(w http.ResponseWriter) {}, time.Hour)
			e.trust(t, "silent", iss, map[string]any{"audiences": []string{"x"}})
			tok := unsigned(iss, map[string]any{"sub": "id1", "aud": "x", "exp": time.Now().Add(time.Hour).Unix()})
			began := time.Now()
			r := e.exchange(t, tok, typeJWT)
			if r.Status != 503 || r.str("error") != "temporarily_unavailable" || time.Since(began) > 3*time.Second {
				t.Fatalf("silent provider: %d %s after %s", r.Status, r.Raw, time.Since(began))
			}
		})
		if n := len(e.ledger(t)) - before; n != 0 {
			t.Fatalf("%d tokens issued", n)
		}
	})
}

func netListen() (net.Listener, error) { return net.Listen("tcp", "127.0.0.1:0") }

// TestDevTrustIssuer: --dev-trust-issuer makes the demo tenant trust the
// provider and adds demo-exchange, whose exchange of the provider's ID
// token creates the user with role user; without the flag the demo
// tenant trusts no one.
func TestDevTrustIssuer(t *testing.T) {
	t.Parallel()
	op := optest.Start(t)
	s := apptest.StartWith(t, "", apptest.Options{Config: func(c *config.Config) {
		c.Dev, c.DevTrustIssuer, c.DevTrustAudience = true, op.Issuer, optest.WebClient
	}})
	creds, _, err := s.App.DevSetup(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var secret string
	for _, c := range creds.Clients {
		if c.ClientID == "demo-exchange" {
			secret = c.ClientSecret
		}
	}
	if secret == "" {
		t.Fatalf("no demo-exchange client in %+v", creds.Clients)
	}
	id, _ := op.IDToken(t)
	req, _ := http.NewRequest("POST", s.URL+"/t/demo/oauth2/token", strings.NewReader(url.Values{"grant_type": {grantExchange},
		"subject_token": {id}, "subject_token_type": {typeID}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth("demo-exchange", secret)
	r := want(t, send(t, req), 200)
	if c := payload(t, r.str("access_token")); c["idp"] != op.Issuer || c["scope"] != "read write" {
		t.Fatalf("dev exchange %v", c)
	}
	// A second start reuses the credentials and keeps the trust.
	if again, _, err := s.App.DevSetup(context.Background()); err != nil || len(again.Clients) != len(creds.Clients) {
		t.Fatalf("second DevSetup: %v, %d clients", err, len(again.Clients))
	}

	plain := apptest.StartWith(t, "", apptest.Options{Config: func(c *config.Config) { c.Dev = true }})
	if _, _, err := plain.App.DevSetup(context.Background()); err != nil {
		t.Fatal(err)
	}
	if l := plain.Call(t, "GET", "/v1/tenants/demo/trusted-issuers", plain.Admin, nil, 200)["items"].([]any); len(l) != 0 {
		t.Fatalf("dev without the flag trusts %v", l)
	}
}
