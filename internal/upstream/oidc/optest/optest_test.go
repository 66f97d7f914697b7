package optest

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestOP: the provider starts, logs the example user in through its form,
// and introspects the access token it issued (as client web).
func TestOP(t *testing.T) {
	op := Start(t)
	id, at := op.IDToken(t)
	if strings.Count(id, ".") != 2 || at == "" {
		t.Fatalf("id token %q, access token %q", id, at)
	}
	req, _ := http.NewRequest("POST", op.Endpoint("introspection_endpoint"), strings.NewReader(url.Values{"token": {at}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(WebClient, WebSecret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(b), `"active":true`) {
		t.Fatalf("introspection of the user's access token: %s", b)
	}
	t.Logf("introspection: %s", b)
	if st := op.ServiceToken(t); st == "" {
		t.Fatal("no service token")
	}
}
