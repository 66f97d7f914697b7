package bigcommerce_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/tokend/tokend/internal/app"
	"github.com/tokend/tokend/internal/apptest"
	"github.com/tokend/tokend/internal/config"
	"github.com/tokend/tokend/internal/faulttest"
	"github.com/tokend/tokend/internal/golden"
	"github.com/tokend/tokend/internal/store/postgres/pgtest"
)

// TestStorageOutage: with PostgreSQL frozen, a token creation and a
// GraphQL login get a 503 in BigCommerce's shapes within the request
// deadline, never a token and never a 4xx; both work again after.
func TestStorageOutage(t *testing.T) {
	t.Parallel()
	p, proxied := faulttest.StartFor(t, pgtest.NewDatabase(t))
	s := apptest.StartWith(t, proxied, apptest.Options{Config: func(c *config.Config) {
		c.Dev = true
		c.RequestTimeout = 3 * time.Second
	}})
	creds, _, err := s.App.DevSetup(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	bc := creds.Compat["bigcommerce"].(app.DevBigCommerce)
	c := client{t: t, s: s, assert: golden.Assert, secret: bc.Password}
	auth := []string{"X-Auth-Token", bc.AccessToken, "Accept", "application/json", "Content-Type", "application/json"}
	create := func(name string) exchange {
		return c.do(name, "POST", "/stores/"+bc.StoreHash+"/v3/storefront/api-token-private",
			`{"channel_id":1,"expires_at":`+itoa(time.Now().Add(time.Hour).Unix())+`,"scopes":["Customer"]}`, auth...)
	}
	priv := c.want(create(""), 200).str("data", "token")
	login, _ := json.Marshal(map[string]any{"query": `mutation { login(email: "` + bc.Email + `", password: "` + bc.Password + `") { result } }`})

	p.Pause()
	start := time.Now()
	c.want(create("outage_create_private"), 503)
	c.want(c.do("outage_graphql_login", "POST", "/stores/"+bc.StoreHash+"/graphql", string(login),
		"Content-Type", "application/json", "Authorization", "Bearer "+priv), 503)
	if d := time.Since(start); d > 12*time.Second {
		t.Errorf("answers took %v", d)
	}
	p.Resume()
	deadline := time.Now().Add(30 * time.Second)
	for {
		e := create("")
		if e.Status == 200 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no recovery: %d %s", e.Status, e.Raw)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
