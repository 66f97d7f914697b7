package e2e

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/tokend/tokend/internal/testenv"
)

// TestNginxExample runs the documented nginx configuration in front of a
// real tokend: nginx asks /t/{tenant}/check for every request and passes
// the identity on.
func TestNginxExample(t *testing.T) {
	t.Parallel()
	bin := testenv.Nginx(t)
	data := t.TempDir()
	p := serve(t, data, nil, "--dev")
	c := readCreds(t, data)
	var svcSecret string
	for _, cl := range c.Clients {
		if cl.ClientID == "demo-service" {
			svcSecret = cl.ClientSecret
		}
	}
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "subject=%s scope=%s kind=%s", r.Header.Get("X-Subject"), r.Header.Get("X-Scope"), r.Header.Get("X-Kind"))
	}))
	defer upstream.Close()

	dir := t.TempDir()
	addr := freeAddr(t)
	startNginx(t, bin, dir, rewrite(t, docBlock(t, "../../docs/gateway.md", "nginx"), map[string]string{
		"listen 443 ssl;":        "listen " + addr + ";",
		"server 127.0.0.1:8080;": "server " + strings.TrimPrefix(p.URL, "http://") + ";",
		"server 127.0.0.1:9000;": "server " + strings.TrimPrefix(upstream.URL, "http://") + ";",
		"/t/shop/check":          "/t/demo/check",
		"scope=orders:read":      "scope=read",
	}))

	base := "http://" + addr
	get := func(tok string) (int, string, http.Header) {
		req, _ := http.NewRequest("GET", base+"/orders/1", nil)
		if tok != "" {
			req.Header.Set("Authorization", "Bearer "+tok)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return 0, err.Error(), nil
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b), resp.Header
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		if code, _, _ := get(""); code != 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("nginx did not start")
		}
		time.Sleep(20 * time.Millisecond)
	}
	token := func(scope string) string {
		form := url.Values{"grant_type": {"client_credentials"}, "scope": {scope}}
		req, _ := http.NewRequest("POST", p.URL+"/t/demo/oauth2/token", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth("demo-service", svcSecret)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var m map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&m)
		return m["access_token"].(string)
	}
	read := token("read")
	if code, body, _ := get(read); code != 200 || body != "subject=demo-service scope=read kind=access" {
		t.Fatalf("allowed request: %d %q", code, body)
	}
	if code, body, h := get(""); code != 401 || !strings.Contains(body, "invalid_token") || !strings.HasPrefix(h.Get("WWW-Authenticate"), "Bearer") {
		t.Fatalf("no token: %d %q %v", code, body, h)
	}
	if code, body, _ := get(token("write")); code != 403 || !strings.Contains(body, "insufficient_scope") {
		t.Fatalf("token without the scope: %d %q", code, body)
	}
	form := url.Values{"token": {read}}
	req, _ := http.NewRequest("POST", p.URL+"/t/demo/oauth2/revoke", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth("demo-service", svcSecret)
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != 200 {
		t.Fatalf("revoke: %v", err)
	}
	if code, _, _ := get(read); code != 401 {
		t.Fatalf("revoked token through nginx: %d", code)
	}
}
