package e2e

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
)

// testCA is a certificate authority made for one test.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pool *x509.CertPool
}

func newTestCA(t *testing.T) *testCA {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "tokend test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &testCA{cert: cert, key: key, pool: pool}
}

// issue writes a server certificate for 127.0.0.1 with the given serial
// to certFile and keyFile, replacing them by rename as a certificate
// manager would.
func (ca *testCA) issue(t *testing.T, serial int64, certFile, keyFile string) {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		KeyUsage: x509.KeyUsageDigitalSignature}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	kder, _ := x509.MarshalECPrivateKey(key)
	write := func(name string, blocks ...*pem.Block) {
		var b []byte
		for _, bl := range blocks {
			b = append(b, pem.EncodeToMemory(bl)...)
		}
		tmp := name + ".new"
		if err := os.WriteFile(tmp, b, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tmp, name); err != nil {
			t.Fatal(err)
		}
	}
	write(keyFile, &pem.Block{Type: "EC PRIVATE KEY", Bytes: kder})
	write(certFile, &pem.Block{Type: "CERTIFICATE", Bytes: der})
}

// TestTLS: with --tls-cert and --tls-key tokend serves HTTPS itself, over
// HTTP/2 and HTTP/1.1; a replaced certificate is served to new connections
// after SIGHUP or, without one, once the files change, while a connection
// opened before keeps working; "tokend healthcheck" follows TLS.
func TestTLS(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	ca := newTestCA(t)
	ca.issue(t, 100, certFile, keyFile)

	addr := freeAddr(t)
	p := &proc{URL: "https://" + addr, Data: filepath.Join(dir, "data"), done: make(chan struct{})}
	p.cmd = exec.Command(binary, "serve", "--dev", "--addr", addr, "--data", p.Data, "--tls-cert", certFile, "--tls-key", keyFile)
	p.cmd.Stdout, p.cmd.Stderr = syncWriter{p}, syncWriter{p}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.waitEr = p.cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		_ = p.cmd.Process.Signal(syscall.SIGTERM)
		<-p.done
		if t.Failed() {
			t.Logf("tokend output:\n%s", p.Output())
		}
	})

	// One client keeps its HTTP/2 connection; serials tell the
	// certificates apart.
	kept := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: ca.pool}, ForceAttemptHTTP2: true}}
	serialOf := func(c *http.Client) (int64, int) {
		t.Helper()
		resp, err := c.Get(p.URL + "/healthz")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.TLS.PeerCertificates[0].SerialNumber.Int64(), resp.ProtoMajor
	}
	fresh := func() *http.Client {
		return &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: ca.pool}, ForceAttemptHTTP2: true, DisableKeepAlives: true}}
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		resp, err := fresh().Get(p.URL + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("tokend not ready over TLS: %v\n%s", err, p.Output())
		}
		time.Sleep(50 * time.Millisecond)
	}
	if serial, proto := serialOf(kept); serial != 100 || proto != 2 {
		t.Fatalf("first answer: certificate %d over HTTP/%d, want 100 over HTTP/2", serial, proto)
	}
	h1 := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: ca.pool, NextProtos: []string{"http/1.1"}}}}
	if _, proto := serialOf(h1); proto != 1 {
		t.Fatalf("a client offering only HTTP/1.1 got HTTP/%d", proto)
	}
	// The issuer is https, and an OAuth client gets a token over TLS.
	if !strings.Contains(p.OutputWith("issuer https://"), "issuer https://"+addr+"/t/demo") {
		t.Fatalf("dev banner does not show the https issuer:\n%s", p.Output())
	}
	creds := readCreds(t, p.Data)
	cc := clientcredentials.Config{ClientID: creds.Clients[0].ClientID, ClientSecret: creds.Clients[0].ClientSecret,
		TokenURL: p.URL + "/t/demo/oauth2/token", Scopes: []string{"read"}}
	if _, err := cc.Token(context.WithValue(context.Background(), oauth2.HTTPClient, fresh())); err != nil {
		t.Fatalf("client_credentials over TLS: %v", err)
	}

	// A new certificate, then SIGHUP: new connections get it at once.
	ca.issue(t, 200, certFile, keyFile)
	if err := p.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	waitSerial := func(want int64) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for {
			got, _ := serialOf(fresh())
			if got == want {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("new connections still get certificate %d, want %d\n%s", got, want, p.Output())
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	waitSerial(200)
	// The connection opened before the reload still answers, with the
	// certificate it began with.
	if serial, proto := serialOf(kept); serial != 100 || proto != 2 {
		t.Fatalf("kept connection: certificate %d over HTTP/%d, want 100 over HTTP/2", serial, proto)
	}
	// Without a signal, a change of the files is seen within the poll.
	ca.issue(t, 300, certFile, keyFile)
	waitSerial(300)
	// A broken replacement is refused and the current one stays.
	if err := os.WriteFile(certFile, []byte("not a certificate"), 0o600); err != nil {
		t.Fatal(err)
	}
	_ = p.cmd.Process.Signal(syscall.SIGHUP)
	p.OutputWith("TLS certificate not reloaded")
	if got, _ := serialOf(fresh()); got != 300 {
		t.Fatalf("after a broken replacement new connections get certificate %d, want 300", got)
	}

	hc := exec.Command(binary, "healthcheck", "--addr", addr)
	hc.Env = append(os.Environ(), "TOKEND_TLS_CERT="+certFile)
	if out, err := hc.CombinedOutput(); err != nil {
		t.Fatalf("healthcheck over TLS: %v\n%s", err, out)
	}
}
