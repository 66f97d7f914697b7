package golden

import (
	"bytes"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"
)

// Headers are the response headers a golden file records, besides those
// starting with one of [HeaderPrefixes]; the others (Date, Content-Length,
// X-Request-Id, …) vary or only repeat the body.
var Headers = []string{
	"Allow", "Cache-Control", "Content-Type", "Location", "Pragma", "Retry-After",
	"Set-Cookie", "Vary", "WWW-Authenticate", "X-Accel-Buffering", "X-Content-Type-Options",
}

// HeaderPrefixes are the families of headers a golden file records: CORS
// answers and the gateway check's identity headers (tokend's, and
// BigCommerce's of the bigcommerce dialect).
var HeaderPrefixes = []string{"Access-Control-", "X-Tokend-", "X-Bc-"}

// recorded returns the names of the recorded headers of h, sorted, each
// spelt as in [Headers] (h's keys are canonical: "Www-Authenticate").
func recorded(h http.Header) []string {
	var names []string
	for _, k := range Headers {
		if len(h.Values(k)) > 0 {
			names = append(names, k)
		}
	}
	for k := range h {
		for _, p := range HeaderPrefixes {
			if strings.HasPrefix(k, http.CanonicalHeaderKey(p)) {
				names = append(names, k)
				break
			}
		}
	}
	slices.Sort(names)
	return names
}

// Render reads and closes resp's body and returns the response as stable
// text: the status line, the recorded headers sorted by name (several
// values of one header in the order sent, one line each), a blank line and
// the body byte for byte.
func Render(resp *http.Response) ([]byte, error) {
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	b.WriteString(resp.Proto + " " + resp.Status + "\n")
	for _, k := range recorded(resp.Header) {
		for _, v := range resp.Header.Values(k) {
			b.WriteString(k + ": " + v + "\n")
		}
	}
	b.WriteString("\n")
	b.Write(body)
	return b.Bytes(), nil
}

// Fetch sends req (following no redirect, within 30 s) and returns the
// rendered response; it fails t if there is none.
func Fetch(t testing.TB, req *http.Request) []byte {
	t.Helper()
	c := &http.Client{
		Timeout:       30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL.Path, err)
	}
	out, err := Render(resp)
	if err != nil {
		t.Fatalf("%s %s: read body: %v", req.Method, req.URL.Path, err)
	}
	return out
}
