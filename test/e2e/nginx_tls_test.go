package e2e

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tokend/tokend/internal/testenv"
)

// docBlock returns the first fenced block of language lang in doc.
func docBlock(t *testing.T, doc, lang string) string {
	t.Helper()
	b, err := os.ReadFile(doc)
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	start := strings.Index(s, "```"+lang+"\n")
	if start < 0 {
		t.Fatalf("%s has no %s block", doc, lang)
	}
	rest := s[start+len("```"+lang+"\n"):]
	return rest[:strings.Index(rest, "```")]
}

// TestNginxTLSFront runs docs/tls.md's nginx configuration, with a real
// nginx terminating TLS in front of a real tokend started with the flags
// the document gives: discovery names the https issuer, a token is issued
// over HTTPS through nginx, and the address nginx forwards is the one
// tokend records.
func TestNginxTLSFront(t *testing.T) {
	t.Parallel()
	bin := testenv.Nginx(t)
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	ca := newTestCA(t)
	ca.issue(t, 7, certFile, keyFile)
	front := freeAddr(t)
	public := "https://" + front

	data := t.TempDir()
	p := serve(t, data, nil, "--dev", "--public-url", public, "--trusted-proxies", "127.0.0.1")
	c := readCreds(t, data)

	startNginx(t, bin, dir, rewrite(t, docBlock(t, "../../docs/tls.md", "nginx"), map[string]string{
		"listen 443 ssl http2;":                             "listen " + front + " ssl;",
		"server 127.0.0.1:8080;":                            "server " + strings.TrimPrefix(p.URL, "http://") + ";",
		"ssl_certificate     /etc/nginx/tls/fullchain.pem;": "ssl_certificate " + certFile + ";",
		"ssl_certificate_key /etc/nginx/tls/privkey.pem;":   "ssl_certificate_key " + keyFile + ";",
	}))

	// A client on another loopback address, trusting the test CA.
	from := func(ip string) *http.Client {
		d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}, Timeout: 5 * time.Second}
		return &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DialContext: d.DialContext,
			TLSClientConfig: &tls.Config{RootCAs: ca.pool}, ForceAttemptHTTP2: true}}
	}
	client := from("127.0.0.9")
	var disc map[string]any
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := client.Get(public + "/t/demo/.well-known/openid-configuration")
		if err == nil {
			err = json.NewDecoder(resp.Body).Decode(&disc)
			resp.Body.Close()
			if err == nil {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("discovery through nginx: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if disc["issuer"] != public+"/t/demo" || disc["token_endpoint"] != public+"/t/demo/oauth2/token" {
		t.Fatalf("discovery through nginx: issuer %v, token endpoint %v", disc["issuer"], disc["token_endpoint"])
	}
	tokenReq := func(secret string) *http.Response {
		form := url.Values{"grant_type": {"client_credentials"}, "scope": {"read"}}
		req, _ := http.NewRequest("POST", public+"/t/demo/oauth2/token", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth("demo-service", secret)
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	var secret string
	for _, cl := range c.Clients {
		if cl.ClientID == "demo-service" {
			secret = cl.ClientSecret
		}
	}
	if resp := tokenReq(secret); resp.StatusCode != 200 {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("token through nginx: %d %s", resp.StatusCode, b)
	} else {
		resp.Body.Close()
	}
	resp := tokenReq("tkd_cs_wrong")
	resp.Body.Close()
	if resp.StatusCode != 401 {
		t.Fatalf("wrong secret through nginx: %d", resp.StatusCode)
	}
	// The failed authentication is recorded under the client's address.
	var b []byte
	for deadline := time.Now().Add(5 * time.Second); ; {
		req, _ := http.NewRequest("GET", p.URL+"/v1/tenants/demo/audit?action=auth.client", nil)
		req.Header.Set("Authorization", "Bearer "+c.AdminToken)
		ar, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ = io.ReadAll(ar.Body)
		ar.Body.Close()
		if strings.Contains(string(b), `"remote_addr":"127.0.0.9"`) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("audit of the failed authentication does not name the client's address 127.0.0.9: %d %s", ar.StatusCode, b)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// rewrite replaces each key of m in conf by its value, failing the test
// when a documented line it expects is gone.
func rewrite(t *testing.T, conf string, m map[string]string) string {
	t.Helper()
	for old, new := range m {
		if !strings.Contains(conf, old) {
			t.Fatalf("the documented config no longer contains %q", old)
		}
		conf = strings.ReplaceAll(conf, old, new)
	}
	return conf
}

// startNginx runs nginx with the http-block configuration conf, its
// files in dir, until the test ends; it fails the test when nginx -t
// refuses the configuration.
func startNginx(t *testing.T, bin, dir, conf string) {
	t.Helper()
	full := fmt.Sprintf(`worker_processes 1;
pid %[1]s/nginx.pid;
error_log %[1]s/error.log;
events { worker_connections 64; }
http {
    access_log off;
    client_body_temp_path %[1]s/body;
    proxy_temp_path %[1]s/proxy;
    fastcgi_temp_path %[1]s/fastcgi;
    uwsgi_temp_path %[1]s/uwsgi;
    scgi_temp_path %[1]s/scgi;
%[2]s
}
`, dir, conf)
	cfg := filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(cfg, []byte(full), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(bin, "-t", "-p", dir, "-c", cfg).CombinedOutput(); err != nil {
		t.Fatalf("nginx -t: %v\n%s", err, out)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, bin, "-p", dir, "-c", cfg, "-g", "daemon off;")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cancel(); _ = cmd.Wait() })
}
