package oauth

import (
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/tokend/tokend/internal/authn"
	"github.com/tokend/tokend/internal/fault"
	"github.com/tokend/tokend/internal/grant"
	"github.com/tokend/tokend/internal/httpx"
	"github.com/tokend/tokend/internal/mint"
)

// TokenEndpoint serves POST /t/{tenant}/oauth2/token (RFC 6749 §3.2).
// With token_kind (storefront, private, impersonation) a client_credentials
// request mints a token of that kind, if the client's allowed scopes hold
// the kind's creation scope.
type TokenEndpoint struct {
	Engine  *grant.Engine
	Mint    *mint.Minter
	MaxBody int64
	Log     *slog.Logger
}

// Register adds the token endpoint to mux.
func (te *TokenEndpoint) Register(mux httpx.Router) {
	mux.HandleFunc("POST /t/{tenant}/oauth2/token", te.serve)
	mux.HandleFunc("/t/{tenant}/oauth2/token", onlyPost(te.Log))
}

// onlyPost answers a request to an OAuth endpoint with another method than
// POST in the endpoint's own error shape (RFC 6749 §3.2: the client must
// use POST): 400 invalid_request, with Allow.
func onlyPost(log *slog.Logger) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		w.Header().Set("Pragma", "no-cache")
		w.Header().Set("Allow", http.MethodPost)
		httpx.WriteOAuthError(w, r, log, fault.InvalidRequest("method %s is not allowed here; send a POST", r.Method))
	}
}

// tokenResponse is RFC 6749 §5.1.
type tokenResponse struct {
	AccessToken     string `json:"access_token"`
	TokenType       string `json:"token_type"`
	ExpiresIn       int64  `json:"expires_in,omitempty"`
	RefreshToken    string `json:"refresh_token,omitempty"`
	Scope           string `json:"scope,omitempty"`
	IssuedTokenType string `json:"issued_token_type,omitempty"`
}

func (te *TokenEndpoint) serve(w http.ResponseWriter, r *http.Request) {
	// RFC 6749 §5.1: token responses and errors are never cached.
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Pragma", "no-cache")
	req, kind, err := te.parse(r)
	if err == nil && kind != nil {
		te.mintKind(w, r, req, kind)
		return
	}
	if err == nil {
		var res grant.Response
		res, err = te.Engine.Token(r.Context(), req)
		if err == nil {
			httpx.WriteJSON(w, http.StatusOK, tokenResponse{
				AccessToken: res.AccessToken, TokenType: res.TokenType, ExpiresIn: res.ExpiresIn,
				RefreshToken: res.RefreshToken, Scope: strings.Join(res.Scope, " "), IssuedTokenType: res.IssuedTokenType,
			})
			return
		}
	}
	httpx.WriteOAuthError(w, r, te.Log, err)
}

// parse reads a form-encoded token request strictly: one value per
// parameter (RFC 6749 §3.2) except audience and resource, parameters sent
// without a value treated as omitted (§3.1), and one client
// authentication method (§2.3). A request with token_kind also returns
// the kind and its parameters, read once the client is known.
func (te *TokenEndpoint) parse(r *http.Request) (*grant.Request, *kindRequest, error) {
	form, err := httpx.ParseForm(r, te.MaxBody, "audience", "resource", "channel_ids", "allowed_cors_origins")
	if err != nil {
		return nil, nil, err
	}
	omitEmpty(form)
	for _, res := range form["resource"] {
		if err := checkResource(res); err != nil {
			return nil, nil, err
		}
	}
	req := &grant.Request{
		Tenant:       r.PathValue("tenant"),
		GrantType:    form.Get("grant_type"),
		Username:     form.Get("username"),
		Password:     form.Get("password"),
		RefreshToken: form.Get("refresh_token"),
		Audience:     append(form["audience"], form["resource"]...),
		// RFC 8693 §2.1 and RFC 7523 §2.1.
		SubjectToken:       form.Get("subject_token"),
		SubjectTokenType:   form.Get("subject_token_type"),
		ActorToken:         form.Get("actor_token"),
		ActorTokenType:     form.Get("actor_token_type"),
		RequestedTokenType: form.Get("requested_token_type"),
		Assertion:          form.Get("assertion"),
	}
	if req.Scope, err = grant.ParseScope(form.Get("scope")); err != nil {
		return nil, nil, err
	}
	req.Client, err = ClientAuth(r, form)
	var kind *kindRequest
	if k := form.Get("token_kind"); k != "" && err == nil {
		kind = &kindRequest{kind: k, form: form}
	}
	return req, kind, err
}

// omitEmpty drops the values sent empty, and the parameters left without
// one: RFC 6749 §3.1 treats them as omitted.
func omitEmpty(form url.Values) {
	for k, vs := range form {
		vs = slices.DeleteFunc(vs, func(v string) bool { return v == "" })
		if len(vs) == 0 {
			delete(form, k)
		} else {
			form[k] = vs
		}
	}
}

// checkResource applies RFC 8707 §2: a resource is an absolute URI
// without a fragment; anything else is invalid_target.
func checkResource(v string) error {
	u, err := url.Parse(v)
	if err != nil || !u.IsAbs() || strings.Contains(v, "#") {
		return fault.InvalidTarget("resource %q is not an absolute URI without a fragment", v).WithField("resource")
	}
	return nil
}

// ClientAuth extracts client credentials from the request's Authorization
// header and form (see authn.ParseCredentials).
func ClientAuth(r *http.Request, form url.Values) (grant.ClientAuth, error) {
	return authn.ParseCredentials(r.Header.Get("Authorization"), form)
}
