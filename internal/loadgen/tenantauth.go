package loadgen

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
)

// Modes of seed 002's tenant-token surface (internal/compat/tenantauth),
// measured beside ModeIssue (client_credentials) and ModeTokenExchange.
const (
	// ModeTenantAuthToken posts {Endpoint}/auth/user/generateToken for
	// user Username of Tenant's Project through ClientID with its secret
	// as secret_id (an sdk-agent token with the user's roles).
	ModeTenantAuthToken = "tenantauth-token"
	// ModeTenantAuthOIDC posts {Endpoint}/auth/user/oidcToken with
	// SubjectToken as oidc_token and a generateToken token of ClientID
	// (made once) as the bearer: the surface's RFC 8693 exchange.
	ModeTenantAuthOIDC = "tenantauth-oidc"
)

// tenantAuthBody is a generateToken body.
func (c Config) tenantAuthBody() []byte {
	b, _ := json.Marshal(map[string]string{"client_id": c.ClientID, "email_id": c.Username, "project_id": c.Project,
		"secret_id": c.ClientSecret, "tenant_id": c.Tenant})
	return b
}

func (c Config) tenantAuthURL(what string) string {
	return strings.TrimRight(c.Endpoint, "/") + "/auth/user/" + what
}

// prepareTenantAuth is ModeTenantAuthToken and ModeTenantAuthOIDC.
func prepareTenantAuth(ctx context.Context, c Config, client *http.Client) (*target, error) {
	if c.Project == "" || c.Username == "" || c.ClientID == "" {
		return nil, fmt.Errorf("%s needs --project, --username (the email) and --client-id", c.Mode)
	}
	if c.Mode == ModeTenantAuthToken {
		return &target{url: c.tenantAuthURL("generateToken"), contentType: "application/json", body: c.tenantAuthBody(), check: expectStatus200}, nil
	}
	if c.SubjectToken == "" {
		return nil, fmt.Errorf("%s needs --subject-token (an ID token of a trusted issuer)", c.Mode)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.tenantAuthURL("generateToken"), strings.NewReader(string(c.tenantAuthBody())))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("setup: generateToken: %w", err)
	}
	defer resp.Body.Close()
	var tr tokenResponse
	if resp.StatusCode != http.StatusOK || json.NewDecoder(resp.Body).Decode(&tr) != nil || tr.AccessToken == "" {
		return nil, fmt.Errorf("setup: generateToken: status %d", resp.StatusCode)
	}
	body, _ := json.Marshal(map[string]string{"oidc_token": c.SubjectToken})
	return &target{url: c.tenantAuthURL("oidcToken"), auth: "Bearer " + tr.AccessToken, contentType: "application/json", body: body, check: expectStatus200}, nil
}
