package bigcommerce

import (
	_ "embed"
	"errors"
	"net"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"github.com/vektah/gqlparser/v2/validator"

	"github.com/tokend/tokend/claims"
	"github.com/tokend/tokend/internal/binding"
	"github.com/tokend/tokend/internal/fault"
	"github.com/tokend/tokend/internal/httpx"
	"github.com/tokend/tokend/internal/introspect"
	"github.com/tokend/tokend/internal/mint"
	"github.com/tokend/tokend/internal/token"
	"github.com/tokend/tokend/verify"
)

//go:embed schema.graphql
var schemaSDL string

// Headers and cookie of the GraphQL Storefront API.
const (
	headerCustomerToken = "X-Bc-Customer-Access-Token"
	headerCustomerID    = "X-Bc-Customer-Id"
	// headerChannel names the channel of a request to
	// /stores/{hash}/graphql (tokend's; BigCommerce's hosts carry it).
	headerChannel = "X-Bc-Channel-Id"
	// CookieName is the HttpOnly cookie a browser's customer session is
	// set in (BigCommerce's own name is not published).
	CookieName = "SHOP_TOKEN"
)

// requiredScopes are the private-token scopes each root field needs
// (graphql-storefront.mdx, "Private tokens": Customer for customer
// operations). Storefront and impersonation tokens carry no scopes and
// are not limited so.
var requiredScopes = map[string][]string{
	"Query.customer":                     {"Customer"},
	"Mutation.login":                     {"Customer"},
	"Mutation.logout":                    {"Customer"},
	"Mutation.loginWithCustomerLoginJwt": {"Customer"},
}

type graphQL struct{ schema *ast.Schema }

func newGraphQL() (*graphQL, error) {
	s, err := gqlparser.LoadSchema(&ast.Source{Name: "bigcommerce.graphql", Input: schemaSDL})
	if err != nil {
		return nil, err
	}
	return &graphQL{schema: s}, nil
}

// call is one GraphQL request, with what its route and headers tell.
type call struct {
	r       *http.Request
	w       http.ResponseWriter
	tenant  string
	channel string
	set     *binding.BigCommerce
	id      *introspect.Identity
	browser bool
	origin  string
}

// graphqlByHost serves POST /graphql on store-{hash}-{channel}.{domain}.
func (s *Surface) graphqlByHost(w http.ResponseWriter, r *http.Request) {
	hash, channel, ok := parseStoreHost(r.Host, s.o.Domain)
	if !ok {
		writeGraphQLStatus(w, http.StatusNotFound, "No store is served at this host.")
		return
	}
	s.graphql(w, r, hash, channel)
}

// graphqlByPath serves POST /stores/{hash}/graphql, the channel from the
// X-Bc-Channel-Id header or the channel_id parameter (default the
// store's first channel).
func (s *Surface) graphqlByPath(w http.ResponseWriter, r *http.Request) {
	ch := r.Header.Get(headerChannel)
	if ch == "" {
		ch = r.URL.Query().Get("channel_id")
	}
	s.graphql(w, r, r.PathValue("store_hash"), ch)
}

func (s *Surface) graphql(w http.ResponseWriter, r *http.Request, hash, channel string) {
	ctx := r.Context()
	ten, set, err := s.store(ctx, hash)
	if err != nil {
		if fault.CodeOf(err) == fault.CodeUnavailable {
			writeGraphQLFault(w, r, s.o.Log, err)
			return
		}
		writeGraphQLStatus(w, http.StatusNotFound, "No store is served at this address.")
		return
	}
	if channel == "" {
		channel = strconv.FormatInt(set.Channels[0].ID, 10)
	}
	if n, err := strconv.ParseInt(channel, 10, 64); err != nil || !slices.Contains(set.ChannelIDs(), n) || strconv.FormatInt(n, 10) != channel {
		writeGraphQLStatus(w, http.StatusNotFound, "No such channel in this store.")
		return
	}
	c := &call{r: r, w: w, tenant: ten, channel: channel, set: set}
	o, err := verify.Origin(r.Header)
	if err != nil {
		writeGraphQLStatus(w, http.StatusForbidden, "The request carries more than one Origin.")
		return
	}
	c.origin = o
	c.browser = fromBrowser(r.Header)
	if r.Method == http.MethodOptions {
		s.preflight(c)
		return
	}
	if err := s.authenticate(c); err != nil {
		writeGraphQLFault(w, r, s.o.Log, err)
		return
	}
	s.cors(c)
	s.execute(c)
}

// fromBrowser is the browser test (doc.go, "Browsers"), the core's
// verify.FromBrowser.
func fromBrowser(h http.Header) bool { return verify.FromBrowser(h) }

// parseStoreHost reads store-{hash}-{channel}.{domain} (ports ignored).
func parseStoreHost(host, domain string) (hash, channel string, ok bool) {
	if domain == "" {
		return "", "", false
	}
	host = strings.ToLower(host)
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	if d, _, err := net.SplitHostPort(domain); err == nil {
		domain = d
	}
	label, ok := strings.CutSuffix(host, "."+domain)
	if !ok {
		return "", "", false
	}
	rest, ok := strings.CutPrefix(label, "store-")
	if !ok {
		return "", "", false
	}
	i := strings.LastIndexByte(rest, '-')
	if i <= 0 || i == len(rest)-1 {
		return "", "", false
	}
	return rest[:i], rest[i+1:], true
}

// authenticate verifies the bearer token for this store and channel,
// with BigCommerce's messages for each failure (gqlAuthError), and
// applies its kind's rules to the request (verify.CheckUse).
func (s *Surface) authenticate(c *call) error {
	raw, ok := verify.BearerToken(c.r)
	if !ok {
		return &gqlAuthError{msgNoToken}
	}
	if err := peekJWT(raw); err != nil {
		return err
	}
	id, err := s.o.Verifier.Verify(c.r.Context(), raw)
	if err != nil {
		if fault.CodeOf(err) == fault.CodeUnavailable {
			return err
		}
		return authFailure(err)
	}
	if id.Tenant != c.tenant {
		return &gqlAuthError{msgStore}
	}
	if k := id.Claims.Kind; k != claims.KindStorefront && k != claims.KindPrivate && k != claims.KindImpersonation {
		return &gqlAuthError{msgUnknownFormat}
	}
	if err := verify.CheckChannel(&id.Claims, c.channel); err != nil {
		return &gqlAuthError{msgChannel}
	}
	h := c.r.Header.Clone()
	if id.Claims.Kind == claims.KindImpersonation {
		// BigCommerce names the impersonated customer in X-Bc-Customer-Id.
		if c.r.Header.Get(headerCustomerID) == "" && !c.browser {
			return &gqlUseError{"A customer impersonation token needs the customer in " + headerCustomerID + "."}
		}
		h.Set(verify.CustomerHeader, c.r.Header.Get(headerCustomerID))
	}
	if err := verify.CheckUse(&id.Claims, h); err != nil {
		var ve *verify.Error
		if errors.As(err, &ve) {
			return &gqlUseError{ve.Description}
		}
		return err
	}
	c.id = id
	return nil
}

// cors adds the CORS headers of a browser request whose Origin the token
// allows (CheckUse passed, so a storefront token's Origin is one of its
// allowed_cors_origins), with credentials for the session cookie.
func (s *Surface) cors(c *call) {
	if c.origin == "" || c.id.Claims.Kind != claims.KindStorefront {
		return
	}
	h := c.w.Header()
	h.Set("Access-Control-Allow-Origin", c.origin)
	h.Set("Access-Control-Allow-Credentials", "true")
	h.Add("Vary", "Origin")
}

// preflight answers a CORS preflight (Fetch §4.8): only for an origin
// one of the store's active storefront tokens allows.
func (s *Surface) preflight(c *call) {
	h := c.w.Header()
	h.Add("Vary", "Origin")
	n, ok := claims.NormalizeOrigin(c.origin)
	if c.origin == "" || !ok {
		c.w.WriteHeader(http.StatusForbidden)
		return
	}
	allowed, err := s.o.Mint.StorefrontOrigins(c.r.Context(), c.tenant)
	if err != nil {
		writeGraphQLFault(c.w, c.r, s.o.Log, err)
		return
	}
	if !slices.Contains(allowed, n) {
		c.w.WriteHeader(http.StatusForbidden)
		return
	}
	h.Set("Access-Control-Allow-Origin", c.origin)
	h.Set("Access-Control-Allow-Credentials", "true")
	h.Set("Access-Control-Allow-Methods", "POST, OPTIONS")
	h.Set("Access-Control-Allow-Headers", "Authorization, Content-Type, Accept, X-Bc-Customer-Access-Token")
	h.Set("Access-Control-Max-Age", "600")
	c.w.WriteHeader(http.StatusNoContent)
}

// execute parses, validates and runs the request's operation.
func (s *Surface) execute(c *call) {
	body, err := httpx.ReadBody(c.r, s.o.MaxBody)
	if err != nil {
		writeGraphQLFault(c.w, c.r, s.o.Log, err)
		return
	}
	env, err := parseEnvelope(c.r.Header.Get("Content-Type"), body, c.r.URL.Query())
	if err != nil {
		writeGraphQLErrors(c.w, http.StatusBadRequest, gqlerror.List{gqlerror.Errorf("%s", err.Error())}, false)
		return
	}
	doc, errs := gqlparser.LoadQuery(s.g.schema, env.Query)
	if len(errs) > 0 {
		writeGraphQLErrors(c.w, http.StatusOK, errs, false)
		return
	}
	var op *ast.OperationDefinition
	switch {
	case env.OperationName != "":
		op = doc.Operations.ForName(env.OperationName)
	case len(doc.Operations) == 1:
		op = doc.Operations[0]
	}
	if op == nil {
		writeGraphQLErrors(c.w, http.StatusOK, gqlerror.List{gqlerror.Errorf("An operation name is required to choose among several operations, and must name one of them.")}, false)
		return
	}
	if op.Operation == ast.Subscription {
		writeGraphQLErrors(c.w, http.StatusOK, gqlerror.List{gqlerror.Errorf("Subscriptions are not served by this endpoint.")}, false)
		return
	}
	vars, err := validator.VariableValues(s.g.schema, op, env.Variables)
	if err != nil {
		var ge *gqlerror.Error
		if !errors.As(err, &ge) {
			ge = gqlerror.Errorf("%s", err.Error())
		}
		writeGraphQLErrors(c.w, http.StatusOK, gqlerror.List{ge}, false)
		return
	}
	x := &executor{schema: s.g.schema, vars: vars}
	root := s.root(c, op.Operation)
	data := x.selection(op.SelectionSet, root, nil)
	if data == nil {
		x.nullData = true
	}
	writeGraphQLResult(c.w, c.r, s.o.Log, data, x)
}

// root is the Query or Mutation object of the call.
func (s *Surface) root(c *call, op ast.Operation) *object {
	if op == ast.Mutation {
		return &object{typ: "Mutation", fields: map[string]any{
			"login":  s.scoped(c, "Mutation.login", func(args map[string]any) (any, error) { return s.login(c, args) }),
			"logout": s.scoped(c, "Mutation.logout", func(map[string]any) (any, error) { return s.logout(c) }),
			"loginWithCustomerLoginJwt": s.scoped(c, "Mutation.loginWithCustomerLoginJwt", func(args map[string]any) (any, error) {
				return s.loginJWT(c, args)
			}),
		}}
	}
	return &object{typ: "Query", fields: map[string]any{
		"customer": s.scoped(c, "Query.customer", func(map[string]any) (any, error) { return s.customer(c) }),
		"__schema": resolver(func(map[string]any) (any, error) { return schemaObject(s.g.schema), nil }),
		"__type": resolver(func(args map[string]any) (any, error) {
			name, _ := args["name"].(string)
			if d := s.g.schema.Types[name]; d != nil {
				return typeDef(s.g.schema, d), nil
			}
			return nil, nil
		}),
	}}
}

// scoped refuses a field to a private token that lacks a scope it needs.
func (s *Surface) scoped(c *call, field string, r resolver) resolver {
	return func(args map[string]any) (any, error) {
		if c.id.Claims.Kind == claims.KindPrivate {
			need := requiredScopes[field]
			if err := verify.RequireScopes(&c.id.Claims, need...); err != nil {
				return nil, &fieldError{msg: msgScope, root: true,
					ext: map[string]any{"code": "INSUFFICIENT_ACCESS_SCOPE", "requiredScopes": need}}
			}
		}
		return r(args)
	}
}

func customerObject(cu mint.Customer) (*object, error) {
	id, err := strconv.ParseInt(cu.ID, 10, 32)
	if err != nil {
		return nil, &fieldError{msg: "The customer's id is not a BigCommerce customer id (an integer)."}
	}
	first, last, _ := strings.Cut(strings.TrimSpace(cu.DisplayName), " ")
	return &object{typ: "Customer", fields: map[string]any{
		"entityId": id, "email": cu.Email, "firstName": first, "lastName": strings.TrimSpace(last),
	}}, nil
}

// login signs a customer in: the customer access token in the body for a
// server, as an HttpOnly cookie for a browser, never both.
func (s *Surface) login(c *call, args map[string]any) (any, error) {
	email, _ := args["email"].(string)
	password, _ := args["password"].(string)
	sp := mint.CustomerSpec{Format: mint.FormatSession, Surface: Name}
	res, err := s.o.Mint.CustomerLoginWith(c.r.Context(), c.tenant, email, password, sp)
	if err != nil {
		return nil, loginFault(err)
	}
	return s.signedIn(c, res, "LoginResult", map[string]any{"result": "success"})
}

// loginJWT signs in the customer a customer login JWT names
// (loginWithCustomerLoginJwt), on its channel when it names one.
func (s *Surface) loginJWT(c *call, args map[string]any) (any, error) {
	raw, _ := args["jwt"].(string)
	cl, err := s.o.Authn.CustomerLoginJWT(c.r.Context(), c.tenant, c.set.StoreHash, raw)
	if err != nil {
		return nil, loginJWTFault(err)
	}
	if cl.ChannelID != "" && cl.ChannelID != c.channel {
		return nil, &fieldError{msg: msgLoginJWT}
	}
	res, err := s.o.Mint.CustomerSession(c.r.Context(), c.tenant, cl.CustomerID, mint.CustomerSpec{Format: mint.FormatSession, Surface: Name})
	if err != nil {
		return nil, loginJWTFault(err)
	}
	redirect := cl.RedirectTo
	if redirect == "" {
		redirect = "/account.php"
	}
	return s.signedIn(c, res, "LoginWithCustomerLoginJwtResult", map[string]any{"redirectTo": redirect})
}

// signedIn is the result of a sign-in: the customer, and the customer
// access token in the body for a server or as an HttpOnly cookie for a
// browser, never both.
func (s *Surface) signedIn(c *call, res token.Issued, typ string, fields map[string]any) (any, error) {
	cu, err := s.o.Mint.Customer(c.r.Context(), c.tenant, res.Subject)
	if err != nil {
		return nil, loginFault(err)
	}
	co, err := customerObject(cu)
	if err != nil {
		return nil, err
	}
	fields["customer"] = co
	out := &object{typ: typ, fields: fields}
	if c.browser {
		out.fields["customerAccessToken"] = resolver(func(map[string]any) (any, error) {
			return nil, &fieldError{msg: msgWrongContext}
		})
		ck := &http.Cookie{Name: CookieName, Value: res.Value, Path: "/", HttpOnly: true, Secure: true, SameSite: http.SameSiteNoneMode}
		if res.ExpiresAt != nil {
			ck.Expires = res.ExpiresAt.UTC()
		}
		http.SetCookie(c.w, ck)
		return out, nil
	}
	var exp any
	if res.ExpiresAt != nil {
		exp = res.ExpiresAt.UTC().Truncate(time.Second).Format(time.RFC3339)
	}
	out.fields["customerAccessToken"] = &object{typ: "CustomerAccessToken", fields: map[string]any{"value": res.Value, "expiresAt": exp}}
	return out, nil
}

// sessionOf is the customer session of the request: the
// X-Bc-Customer-Access-Token header (servers) or the cookie (browsers);
// nil for a guest.
func (s *Surface) sessionOf(c *call) (*introspect.Identity, error) {
	raw := c.r.Header.Get(headerCustomerToken)
	if raw != "" && c.browser {
		// Customer access tokens are for server-to-server requests only.
		return nil, &fieldError{msg: msgTokenFromBrowser, ext: map[string]any{"code": "INVALID_CUSTOMER_ACCESS_TOKEN"}}
	}
	if raw == "" {
		if ck, err := c.r.Cookie(CookieName); err == nil && c.browser {
			raw = ck.Value
		}
	}
	if raw == "" {
		return nil, nil
	}
	if !token.IsSession(raw) {
		return nil, invalidSession(c)
	}
	id, err := s.o.Verifier.Verify(c.r.Context(), raw)
	if err != nil {
		if fault.CodeOf(err) == fault.CodeUnavailable {
			return nil, err
		}
		return nil, invalidSession(c)
	}
	if id.Tenant != c.tenant || id.Claims.Kind != claims.KindCustomer {
		return nil, invalidSession(c)
	}
	return id, nil
}

// invalidSession is a customer access token that is not (or no longer)
// valid: an INVALID_CUSTOMER_ACCESS_TOKEN error when the caller asked
// for errors (X-Bc-Error-On-Invalid-Customer-Access-Token, as
// BigCommerce's client sends), else the request goes on as a guest's.
func invalidSession(c *call) error {
	if strings.EqualFold(c.r.Header.Get("X-Bc-Error-On-Invalid-Customer-Access-Token"), "true") {
		return &fieldError{msg: msgInvalidSession, ext: map[string]any{"code": "INVALID_CUSTOMER_ACCESS_TOKEN"}}
	}
	return errGuest
}

var errGuest = errors.New("guest")

func (s *Surface) logout(c *call) (any, error) {
	id, err := s.sessionOf(c)
	if errors.Is(err, errGuest) || err == nil && id == nil {
		return nil, &fieldError{msg: msgNoSession, ext: map[string]any{"code": "MISSING_CUSTOMER_ACCESS_TOKEN"}}
	}
	if err != nil {
		return nil, err
	}
	if err := s.o.Mint.CustomerLogout(c.r.Context(), c.tenant, id); err != nil {
		return nil, loginFault(err)
	}
	if c.browser {
		http.SetCookie(c.w, &http.Cookie{Name: CookieName, Value: "", Path: "/", HttpOnly: true, Secure: true, SameSite: http.SameSiteNoneMode, MaxAge: -1})
	}
	return &object{typ: "LogoutResult", fields: map[string]any{"result": "success"}}, nil
}

// customer is the signed-in or impersonated customer, or null.
func (s *Surface) customer(c *call) (any, error) {
	var who string
	if c.id.Claims.Kind == claims.KindImpersonation {
		cl, err := s.o.Verifier.ActFor(c.r.Context(), c.id, c.r.Header.Get(headerCustomerID))
		if err != nil {
			if fault.CodeOf(err) == fault.CodeForbidden {
				return nil, nil
			}
			return nil, loginFault(err)
		}
		who = cl.Subject
	} else {
		id, err := s.sessionOf(c)
		if errors.Is(err, errGuest) {
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
		if id == nil {
			return nil, nil
		}
		who = id.Claims.Subject
	}
	cu, err := s.o.Mint.Customer(c.r.Context(), c.tenant, who)
	if err != nil {
		if fault.CodeOf(err) == fault.CodeNotFound {
			return nil, nil
		}
		return nil, loginFault(err)
	}
	return customerObject(cu)
}

func sortStrings(l []string) { sort.Strings(l) }
