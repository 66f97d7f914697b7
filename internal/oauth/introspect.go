package oauth

import (
	"log/slog"
	"net/http"

	"github.com/tokend/tokend/claims"
	"github.com/tokend/tokend/internal/fault"
	"github.com/tokend/tokend/internal/grant"
	"github.com/tokend/tokend/internal/httpx"
	"github.com/tokend/tokend/internal/introspect"
	"github.com/tokend/tokend/internal/revoke"
	"github.com/tokend/tokend/internal/store"
)

// TokenAdmin serves introspection (RFC 7662) at
// POST /t/{tenant}/oauth2/introspect, revocation (RFC 7009) at
// POST /t/{tenant}/oauth2/revoke and the revocation feed at
// GET /t/{tenant}/revocations, all for authenticated confidential clients
// of the tenant. Introspection shows a client only the tokens
// [introspect.Visible] lets it see.
type TokenAdmin struct {
	Engine   *grant.Engine
	Verifier *introspect.Verifier
	Revoke   *revoke.Service
	MaxBody  int64
	Log      *slog.Logger
}

// Register adds introspection and revocation to mux.
func (ta *TokenAdmin) Register(mux httpx.Router) {
	mux.HandleFunc("POST /t/{tenant}/oauth2/introspect", ta.introspect)
	mux.HandleFunc("POST /t/{tenant}/oauth2/revoke", ta.revoke)
	mux.HandleFunc("/t/{tenant}/oauth2/introspect", onlyPost(ta.Log))
	mux.HandleFunc("/t/{tenant}/oauth2/revoke", onlyPost(ta.Log))
}

// client parses the form and authenticates the calling client.
func (ta *TokenAdmin) client(r *http.Request) (store.Client, string, error) {
	form, err := httpx.ParseForm(r, ta.MaxBody)
	if err != nil {
		return store.Client{}, "", err
	}
	ca, err := ClientAuth(r, form)
	if err != nil {
		return store.Client{}, "", err
	}
	c, err := ta.Engine.Client(r.Context(), r.PathValue("tenant"), ca)
	if err != nil {
		return store.Client{}, "", err
	}
	tok := form.Get("token")
	if tok == "" {
		return store.Client{}, "", fault.InvalidRequest("the token parameter is required")
	}
	return c, tok, nil
}

// inactive is the whole answer for any token that is not active (RFC 7662
// §2.2): nothing else is said about it.
var inactive = []byte(`{"active":false}` + "\n")

func (ta *TokenAdmin) introspect(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	caller, raw, err := ta.client(r)
	if err != nil {
		httpx.WriteOAuthError(w, r, ta.Log, err)
		return
	}
	id, err := ta.Verifier.IntrospectIn(r.Context(), r.PathValue("tenant"), raw)
	if err != nil && fault.CodeOf(err) == fault.CodeUnavailable {
		httpx.WriteOAuthError(w, r, ta.Log, err)
		return
	}
	// A token the caller may not see is answered like an unknown one.
	if err != nil || id.Tenant != r.PathValue("tenant") || !introspect.Visible(caller, &id.Claims) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(inactive)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, introspection(id))
}

// introspection renders an active token (RFC 7662 §2.2).
// introspected is an active token's RFC 7662 answer. Its fields stand in
// the order of their names, as a map's would be written.
type introspected struct {
	Act       *claims.Actor `json:"act,omitempty"`
	Active    bool          `json:"active"`
	Aud       any           `json:"aud,omitempty"` // a string, or several
	ClientID  string        `json:"client_id,omitempty"`
	Exp       int64         `json:"exp,omitempty"`
	Groups    []string      `json:"groups,omitempty"`
	Iat       int64         `json:"iat"`
	Iss       string        `json:"iss"`
	JTI       string        `json:"jti"`
	Kind      string        `json:"kind"`
	Roles     []string      `json:"roles,omitempty"`
	Scope     string        `json:"scope,omitempty"`
	SID       string        `json:"sid,omitempty"`
	Sub       string        `json:"sub"`
	SubType   string        `json:"sub_type,omitempty"`
	TokenType string        `json:"token_type"`
	Username  string        `json:"username,omitempty"`
}

func introspection(id *introspect.Identity) introspected {
	c := id.Claims
	m := introspected{
		Act: c.Act, Active: true, ClientID: c.ClientID, Exp: c.ExpiresAt, Groups: c.Groups, Iat: c.IssuedAt,
		Iss: c.Issuer, JTI: c.ID, Kind: c.Kind, Roles: c.Roles, Scope: c.Scope, SID: c.SessionID, Sub: c.Subject,
		SubType: c.SubjectType, TokenType: "Bearer",
	}
	switch len(c.Audience) {
	case 0:
	case 1:
		m.Aud = c.Audience[0]
	default:
		m.Aud = []string(c.Audience)
	}
	if c.Kind == claims.KindRefresh {
		m.TokenType = "refresh_token"
	}
	if c.SubjectType == "user" {
		m.Username = c.Subject
	}
	return m
}

func (ta *TokenAdmin) revoke(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	c, raw, err := ta.client(r)
	if err == nil {
		err = ta.Revoke.Presented(r.Context(), ta.Verifier, r.PathValue("tenant"), c.ID, raw)
	}
	if err != nil {
		httpx.WriteOAuthError(w, r, ta.Log, err)
		return
	}
	w.WriteHeader(http.StatusOK)
}
