package loadgen

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The BigCommerce modes (internal/compat/bigcommerce) and the native
// mints they are measured beside. All four authenticate with an API
// account's token (APIToken: a client access token with the creation
// scopes, such as the dev fixtures' compat.bigcommerce.access_token).
const (
	// ModeKindMint posts POST /t/{tenant}/tokens with a storefront-token
	// request, bearer APIToken: tokend's own storefront mint.
	ModeKindMint = "kind-mint"
	// ModeBigCommerceToken posts BigCommerce's POST
	// /stores/{StoreHash}/v3/storefront/api-token with X-Auth-Token
	// APIToken: the surface's storefront mint.
	ModeBigCommerceToken = "bigcommerce-token"
	// ModeCustomerLogin posts POST /t/{tenant}/customers/login with the
	// customer's email and password (Username, Password): tokend's own
	// customer login.
	ModeCustomerLogin = "customer-login"
	// ModeBigCommerceLogin posts the GraphQL login mutation to
	// /stores/{StoreHash}/graphql with a private token that setup creates
	// with APIToken: the surface's customer login.
	ModeBigCommerceLogin = "bigcommerce-login"
)

// BigCommerceModes are the modes of this file, which need no client id.
var BigCommerceModes = []string{ModeKindMint, ModeBigCommerceToken, ModeCustomerLogin, ModeBigCommerceLogin}

func isBigCommerce(mode string) bool { return slices.Contains(BigCommerceModes, mode) }

func (c Config) validateBigCommerce() error {
	if c.Mode != ModeCustomerLogin && c.APIToken == "" {
		return fmt.Errorf("mode %s needs an API account token (--api-token)", c.Mode)
	}
	if (c.Mode == ModeBigCommerceToken || c.Mode == ModeBigCommerceLogin) && c.StoreHash == "" {
		return fmt.Errorf("mode %s needs the store hash (--store-hash)", c.Mode)
	}
	if (c.Mode == ModeCustomerLogin || c.Mode == ModeBigCommerceLogin) && (c.Username == "" || c.Password == "") {
		return fmt.Errorf("mode %s needs the customer's email and password (--username, --password)", c.Mode)
	}
	return nil
}

// benchOrigin is the allowed origin of the storefront tokens the modes
// mint.
const benchOrigin = "https://bench.example"

func prepareBigCommerce(ctx context.Context, c Config, client *http.Client) (*target, error) {
	base := strings.TrimRight(c.Endpoint, "/")
	exp := strconv.FormatInt(time.Now().Add(time.Hour).Unix(), 10)
	store := base + "/stores/" + url.PathEscape(c.StoreHash)
	switch c.Mode {
	case ModeKindMint:
		return &target{url: base + "/t/" + url.PathEscape(c.Tenant) + "/tokens", auth: "Bearer " + c.APIToken, contentType: "application/json",
			body:  []byte(`{"kind":"storefront","expires_at":` + exp + `,"channel_ids":[1],"allowed_cors_origins":["` + benchOrigin + `"]}`),
			check: expectStatus(http.StatusCreated), note: "native: POST /t/" + c.Tenant + "/tokens {\"kind\":\"storefront\",…}"}, nil
	case ModeBigCommerceToken:
		return &target{url: store + "/v3/storefront/api-token", contentType: "application/json", header: http.Header{"X-Auth-Token": {c.APIToken}},
			body:  []byte(`{"expires_at":` + exp + `,"channel_id":1,"allowed_cors_origins":["` + benchOrigin + `"]}`),
			check: expectStatus200, note: "surface: POST /stores/" + c.StoreHash + "/v3/storefront/api-token"}, nil
	case ModeCustomerLogin:
		b, _ := json.Marshal(map[string]string{"email": c.Username, "password": c.Password})
		return &target{url: base + "/t/" + url.PathEscape(c.Tenant) + "/customers/login", contentType: "application/json", body: b,
			check: expectStatus200, note: "native: POST /t/" + c.Tenant + "/customers/login"}, nil
	}
	// ModeBigCommerceLogin: a private token with the Customer scope first.
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, store+"/v3/storefront/api-token-private",
		strings.NewReader(`{"expires_at":`+exp+`,"channel_id":1,"scopes":["Customer"]}`))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Auth-Token", c.APIToken)
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("setup: private token: %w", err)
	}
	defer resp.Body.Close()
	var tok struct {
		Data struct {
			Token string `json:"token"`
		} `json:"data"`
	}
	var buf bytes.Buffer
	_, _ = buf.ReadFrom(resp.Body)
	if resp.StatusCode != http.StatusOK || json.Unmarshal(buf.Bytes(), &tok) != nil || tok.Data.Token == "" {
		return nil, fmt.Errorf("setup: private token: %w", statusError(resp.StatusCode, buf.Bytes()))
	}
	q, _ := json.Marshal(map[string]any{
		"query":     `mutation Login($email: String!, $password: String!) { login(email: $email, password: $password) { customerAccessToken { value } } }`,
		"variables": map[string]string{"email": c.Username, "password": c.Password},
	})
	return &target{url: store + "/graphql", auth: "Bearer " + tok.Data.Token, contentType: "application/json", body: q,
		check: func(status int, body []byte) error {
			if status != http.StatusOK || bytes.Contains(body, []byte(`"errors"`)) {
				return statusError(status, body)
			}
			return nil
		}, note: "surface: POST /stores/" + c.StoreHash + "/graphql mutation login"}, nil
}
