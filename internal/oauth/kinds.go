package oauth

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/tokend/tokend/internal/fault"
	"github.com/tokend/tokend/internal/grant"
	"github.com/tokend/tokend/internal/httpx"
	"github.com/tokend/tokend/internal/mint"
)

// mintKind answers a client_credentials request with token_kind: the
// client authenticates as for any grant, must be allowed client_credentials
// and hold the kind's creation scope among its allowed scopes.
// kindRequest is a token request's token_kind and the form holding the
// kind's parameters (expires_at, channel_ids, allowed_cors_origins,
// format), parsed into a mint.KindSpec once the client is checked.
type kindRequest struct {
	kind string
	form url.Values
}

func (te *TokenEndpoint) mintKind(w http.ResponseWriter, r *http.Request, req *grant.Request, k *kindRequest) {
	res, err := te.kind(r, req, k)
	if err != nil {
		httpx.WriteOAuthError(w, r, te.Log, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, res)
}

func (te *TokenEndpoint) kind(r *http.Request, req *grant.Request, k *kindRequest) (map[string]any, error) {
	if req.GrantType != grant.ClientCredentials {
		return nil, fault.InvalidRequest("token_kind is only for the client_credentials grant")
	}
	if !slices.Contains(mint.MintableKinds, k.kind) {
		return nil, fault.InvalidRequest("token_kind must be one of %s", strings.Join(mint.MintableKinds, ", ")).WithField("token_kind")
	}
	c, err := te.Engine.Client(r.Context(), req.Tenant, req.Client)
	if err != nil {
		return nil, err
	}
	if !slices.Contains(c.GrantTypes, grant.ClientCredentials) {
		return nil, fault.UnauthorizedClient("the client is not allowed the client_credentials grant")
	}
	sp, err := k.spec()
	if err != nil {
		return nil, err
	}
	res, err := te.Mint.Kind(r.Context(), mint.Actor{Tenant: req.Tenant, Subject: c.ID, ClientID: c.ID}, c.Scopes, req.Tenant, c.ID, sp)
	if fault.CodeOf(err) == fault.CodeInsufficientScope {
		// RFC 6749 §5.2 names a client's missing right invalid_scope.
		return nil, fault.InvalidScope("minting %s tokens needs scope %s%s", k.kind, mint.MintScopePrefix, k.kind)
	}
	if err != nil {
		return nil, err
	}
	out := map[string]any{"access_token": res.Value, "token_type": "Bearer", "expires_in": res.ExpiresIn(),
		"issued_token_type": "urn:tokend:token-type:" + k.kind}
	return out, nil
}

// spec parses the kind's parameters.
func (k *kindRequest) spec() (mint.KindSpec, error) {
	f := k.form
	sp := mint.KindSpec{Kind: k.kind, Format: f.Get("format")}
	if v := f.Get("expires_at"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return mint.KindSpec{}, fault.Invalid("expires_at", "expires_at: %q is not unix seconds", v)
		}
		sp.ExpiresAt = &n
	}
	for _, v := range f["channel_ids"] {
		for _, part := range strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == ' ' }) {
			n, err := strconv.ParseInt(part, 10, 64)
			if err != nil {
				return mint.KindSpec{}, fault.Invalid("channel_ids", "channel_ids: %q is not an integer", part)
			}
			sp.ChannelIDs = append(sp.ChannelIDs, n)
		}
	}
	for _, v := range f["allowed_cors_origins"] {
		sp.AllowedCORSOrigins = append(sp.AllowedCORSOrigins, strings.Fields(v)...)
	}
	return sp, nil
}
