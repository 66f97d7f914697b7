package bigcommerce_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"net"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/tokend/tokend/internal/app"
	"github.com/tokend/tokend/internal/store/postgres/pgtest"
)

// EnvCatalyst names the directory where .ci/install-catalyst.sh installed
// @bigcommerce/catalyst-client 1.0.3 (npm).
const EnvCatalyst = "TOKEND_TEST_CATALYST_CLIENT"

// TestCatalystClient runs BigCommerce's own GraphQL client, unchanged,
// against the surface: it builds https://store-{hash}-1.{domain}/graphql
// from BIGCOMMERCE_GRAPHQL_API_DOMAIN, so the server speaks TLS with a
// test CA (NODE_EXTRA_CA_CERTS) and a node --import hook routes the store
// host to loopback.
func TestCatalystClient(t *testing.T) {
	dir := os.Getenv(EnvCatalyst)
	if dir == "" {
		t.Skip(EnvCatalyst + " is not set (run .ci/install-catalyst.sh)")
	}
	node, err := exec.LookPath("node")
	if err != nil {
		t.Fatal("node is not installed")
	}
	t.Parallel()
	t.Run("sqlite", func(t *testing.T) { t.Parallel(); catalyst(t, node, dir, "") })
	t.Run("postgres", func(t *testing.T) { t.Parallel(); catalyst(t, node, dir, pgtest.NewDatabase(t)) })
}

func catalyst(t *testing.T, node, dir, databaseURL string) {
	s, bc := dev(t, databaseURL)
	caPEM, cert := testCA(t, "*."+app.DevBigCommerceDomain)
	srv := httptest.NewUnstartedServer(s.App.Handler())
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	_, port, _ := net.SplitHostPort(srv.Listener.Addr().String())
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(caFile, caPEM, 0o600); err != nil {
		t.Fatal(err)
	}

	c := client{t: t, s: s}
	auth := []string{"X-Auth-Token", bc.AccessToken, "Accept", "application/json", "Content-Type", "application/json"}
	priv := c.want(c.do("", "POST", "/stores/"+bc.StoreHash+"/v3/storefront/api-token-private",
		`{"channel_id":1,"expires_at":`+itoa(time.Now().Add(time.Hour).Unix())+`,"scopes":["Customer"]}`, auth...), 200).str("data", "token")

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	here, _ := os.Getwd()
	cmd := exec.CommandContext(ctx, node, "--import", "file://"+filepath.Join(here, "testdata/catalyst/route.mjs"),
		filepath.Join(here, "testdata/catalyst/flow.mjs"))
	cmd.Env = append(os.Environ(),
		"NODE_EXTRA_CA_CERTS="+caFile,
		"BIGCOMMERCE_GRAPHQL_API_DOMAIN="+app.DevBigCommerceDomain+":"+port,
		"TOKEND_ROUTE_DOMAIN="+app.DevBigCommerceDomain,
		"TOKEND_CATALYST_DIR="+dir,
		"STOREFRONT_TOKEN="+priv, "STORE_HASH="+bc.StoreHash,
		"CUSTOMER_EMAIL="+bc.Email, "CUSTOMER_PASSWORD="+bc.Password)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("node: %v\n%s\n%s", err, out, stderr.Bytes())
	}
	steps := map[string]map[string]any{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("node printed %q", sc.Text())
		}
		steps[m["step"].(string)] = m
	}
	want := map[string]any{"entityId": float64(1), "email": bc.Email, "firstName": "Jane", "lastName": "Doe"}
	for _, step := range []string{"login", "customer"} {
		got, _ := steps[step]["customer"].(map[string]any)
		for k, v := range want {
			if got[k] != v {
				t.Fatalf("%s: customer %v, want %v (output %s)", step, got, want, out)
			}
		}
	}
	if steps["logout"]["result"] != "success" {
		t.Fatalf("logout: %v", steps["logout"])
	}
	if a := steps["after_logout"]; a["error"] != "InvalidCustomerAccessTokenError" || a["invalid"] != true {
		t.Fatalf("after logout: %v", a)
	}
}

// testCA returns a fresh CA certificate (PEM) and a server certificate
// it signed for name.
func testCA(t *testing.T, name string) ([]byte, tls.Certificate) {
	t.Helper()
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ca := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "tokend test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature}
	caDER, err := x509.CreateCertificate(rand.Reader, ca, ca, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	caCert, _ := x509.ParseCertificate(caDER)
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	leaf := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: name}, DNSNames: []string{name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, leaf, caCert, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}), tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}
