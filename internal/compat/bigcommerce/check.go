package bigcommerce

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"

	"github.com/tokend/tokend/claims"
	"github.com/tokend/tokend/internal/binding"
	"github.com/tokend/tokend/internal/fault"
	"github.com/tokend/tokend/internal/token"
	"github.com/tokend/tokend/verify"
)

// Check answers the gateway check (/t/{tenant}/check, nginx
// auth_request) of a tenant that serves BigCommerce, for the tokens this
// surface mints: the bearer token is authenticated exactly as GraphQL
// requests are, with the same 401 messages, on the channel the proxy
// forwards (X-Bc-Channel-Id, or ?channel_id=); the answer carries the
// store, the channel, the kind, the scopes and the customer
// (X-Bc-Customer-Id of an impersonation token, or the customer whose
// X-Bc-Customer-Access-Token the request carries). It reports false,
// leaving the native check to answer, for a tenant without the surface
// and for tokens that are not a storefront, private or impersonation JWT
// (tokend's opaque tokens, other kinds).
func (s *Surface) Check(w http.ResponseWriter, r *http.Request, ten string) bool {
	ctx := r.Context()
	var set binding.BigCommerce
	if err := s.o.Binding.Settings(ctx, ten, Name, &set); err != nil {
		// Not a store (ErrDisabled), or the settings cannot be read: the
		// native check answers, with its own outage answer if need be.
		return false
	}
	raw, ok := verify.BearerToken(r)
	if ok && !ours(raw) {
		return false
	}
	channel := r.Header.Get(headerChannel)
	if channel == "" {
		channel = r.URL.Query().Get("channel_id")
	}
	o, err := verify.Origin(r.Header)
	if err != nil {
		writeGraphQLStatus(w, http.StatusForbidden, "The request carries more than one Origin.")
		return true
	}
	c := &call{r: r, w: w, tenant: ten, channel: channel, set: &set, browser: fromBrowser(r.Header), origin: o}
	if err := s.authenticate(c); err != nil {
		writeGraphQLFault(w, r, s.o.Log, err)
		return true
	}
	cl := c.id.Claims
	customer := ""
	switch {
	case cl.Kind == claims.KindImpersonation:
		acted, err := s.o.Verifier.ActFor(ctx, c.id, r.Header.Get(headerCustomerID))
		if err != nil {
			if fault.CodeOf(err) == fault.CodeForbidden {
				writeGraphQLStatus(w, http.StatusForbidden, "No such customer in this store.")
				return true
			}
			writeGraphQLFault(w, r, s.o.Log, err)
			return true
		}
		customer = acted.Subject
	case r.Header.Get(headerCustomerToken) != "":
		sess, err := s.sessionOf(c)
		if err != nil || sess == nil {
			if fault.CodeOf(err) == fault.CodeUnavailable {
				writeGraphQLFault(w, r, s.o.Log, err)
				return true
			}
			writeGraphQLStatus(w, http.StatusUnauthorized, msgInvalidSession)
			return true
		}
		customer = sess.Claims.Subject
	}
	ch := channel
	if ch == "" {
		ch = strings.Join(cl.Channels, ",")
	}
	h := w.Header()
	h.Set("X-Bc-Store-Hash", set.StoreHash)
	h.Set("X-Bc-Channel-Id", ch)
	h.Set("X-Bc-Token-Kind", cl.Kind)
	h.Set("X-Bc-Token-Scopes", strings.Join(cl.Scopes(), ","))
	if customer != "" {
		h.Set(headerCustomerID, customer)
	}
	h.Set("X-Tokend-Tenant", ten)
	h.Set("X-Tokend-Kind", cl.Kind)
	h.Set("X-Tokend-Client", cl.ClientID)
	h.Set("X-Tokend-Token-Id", cl.ID)
	out := map[string]any{"active": true, "store_hash": set.StoreHash, "channel_id": ch, "kind": cl.Kind,
		"scopes": nonNil(cl.Scopes()), "client_id": cl.ClientID, "jti": cl.ID}
	if customer != "" {
		out["customer_id"] = customer
	}
	writeJSON(w, http.StatusOK, out)
	return true
}

func nonNil(l []string) []string {
	if l == nil {
		return []string{}
	}
	return l
}

// ours reports whether a bearer token is this dialect's to answer: a
// JWT-shaped string whose (unverified) kind is storefront, private or
// impersonation, or anything that is neither a JWT nor one of tokend's
// opaque forms (answered with BigCommerce's "not a JWT"). The peek only
// routes; the token is verified in full either way.
func ours(raw string) bool {
	if token.IsOpaque(raw) || token.IsHex(raw) || token.IsSession(raw) {
		return false
	}
	if !looksLikeJWT(raw) {
		return true
	}
	p := strings.Split(raw, ".")
	b, err := base64.RawURLEncoding.DecodeString(p[1])
	if err != nil {
		return true
	}
	var c struct {
		Kind *string `json:"kind"`
	}
	if json.Unmarshal(b, &c) != nil || c.Kind == nil {
		return true
	}
	k := *c.Kind
	return k == claims.KindStorefront || k == claims.KindPrivate || k == claims.KindImpersonation
}
