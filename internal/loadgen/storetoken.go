package loadgen

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// The store-token modes compare seed 000's generate_token with tokend's
// native device-token mint doing the same work: each request rotates the
// token of a store (a device of type store), revoking the earlier ones.
// Every worker has its own store, bench-store-<worker>, which setup
// creates through the admin API (AdminToken) if it is missing.
const (
	// ModeDeviceMint posts POST /v1/tenants/{tenant}/devices/{store}/tokens
	// {"rotate":true} with the admin token: tokend's own device mint.
	ModeDeviceMint = "device-mint"
	// ModeStoreToken posts POST /stores/{store}/generate_token with a
	// Knock admin token from POST /user_token (Username, Password): the
	// store-token surface, whose tenant comes from the request's host.
	ModeStoreToken = "store-token"
)

func (c Config) validateStoreToken() error {
	if c.AdminToken == "" {
		return fmt.Errorf("mode %s needs an admin token", c.Mode)
	}
	if c.Mode == ModeStoreToken && (c.Username == "" || c.Password == "") {
		return fmt.Errorf("mode %s needs the username and password of an admin of the tenant", c.Mode)
	}
	return nil
}

// benchStore is the store of worker i.
func benchStore(i int) string { return fmt.Sprintf("bench-store-%d", i) }

func prepareStoreToken(ctx context.Context, c Config, client *http.Client) (*target, error) {
	base := strings.TrimRight(c.Endpoint, "/")
	t := &target{contentType: "application/json", check: expectStatus(http.StatusCreated)}
	if c.Mode == ModeDeviceMint {
		t.auth, t.body = "Bearer "+c.AdminToken, []byte(`{"rotate":true}`)
		t.note = "native: POST /v1/tenants/" + c.Tenant + "/devices/bench-store-N/tokens {\"rotate\":true}"
	} else {
		login, _ := json.Marshal(map[string]any{"auth": map[string]string{"email": c.Username, "password": c.Password}})
		st, body, err := jsonPost(ctx, client, base+"/user_token", "", login)
		if err != nil {
			return nil, fmt.Errorf("setup: sign-in: %w", err)
		}
		var tok struct {
			JWT string `json:"jwt"`
		}
		if st != http.StatusCreated || json.Unmarshal(body, &tok) != nil || tok.JWT == "" {
			return nil, fmt.Errorf("setup: sign-in: %w", statusError(st, body))
		}
		t.auth = "Bearer " + tok.JWT
		t.note = "surface: POST /stores/bench-store-N/generate_token"
	}
	t.next = func(w *worker) (func() []byte, checkFunc, error) {
		id := benchStore(w.id)
		st, body, err := jsonPost(ctx, client, base+"/v1/tenants/"+url.PathEscape(c.Tenant)+"/devices", c.AdminToken,
			[]byte(`{"id":"`+id+`","type":"store"}`))
		if err != nil {
			return nil, nil, fmt.Errorf("setup: create store %s: %w", id, err)
		}
		if st != http.StatusCreated && st != http.StatusConflict {
			return nil, nil, fmt.Errorf("setup: create store %s: %w", id, statusError(st, body))
		}
		if c.Mode == ModeDeviceMint {
			w.url = base + "/v1/tenants/" + url.PathEscape(c.Tenant) + "/devices/" + id + "/tokens"
		} else {
			w.url = base + "/stores/" + id + "/generate_token"
		}
		return nil, nil, nil
	}
	return t, nil
}

// expectStatus accepts exactly want.
func expectStatus(want int) checkFunc {
	return func(status int, body []byte) error {
		if status != want {
			return statusError(status, body)
		}
		return nil
	}
}

// jsonPost sends one setup request with a JSON body.
func jsonPost(ctx context.Context, client *http.Client, u, bearer string, body []byte) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return resp.StatusCode, nil, err
	}
	if len(b) == 0 && resp.StatusCode >= 400 {
		return resp.StatusCode, nil, errors.New(resp.Status)
	}
	return resp.StatusCode, b, nil
}
