package app_test

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tokend/tokend/internal/apptest"
	"github.com/tokend/tokend/internal/config"
	"github.com/tokend/tokend/internal/store"
)

// TestAdmissionShedsBeyondMaxInflight: with --max-inflight 1 and one token
// request held in flight (its body half sent), every other token request
// is answered 503 temporarily_unavailable (RFC 6749 JSON) with a
// Retry-After and writes nothing, /healthz still answers, and the held
// request, once its body arrives, gets its token and its ledger row.
func TestAdmissionShedsBeyondMaxInflight(t *testing.T) {
	eachBackend(t, func(t *testing.T, b backend) {
		s := apptest.StartWith(t, b.url(t), apptest.Options{Config: func(c *config.Config) { c.MaxInflight = 1 }})
		s.Call(t, "POST", "/v1/tenants", s.Admin, map[string]any{"id": "shop"}, http.StatusCreated)
		c := s.Call(t, "POST", "/v1/tenants/shop/clients", s.Admin, map[string]any{"id": "svc",
			"grant_types": []string{"client_credentials"}, "audiences": []string{"api"}}, http.StatusCreated)
		secret, _ := c["client_secret"].(string)
		basic := "Basic " + base64.StdEncoding.EncodeToString([]byte("svc:"+url.QueryEscape(secret)))
		form := "grant_type=client_credentials&audience=api"
		tokenURL := s.URL + "/t/shop/oauth2/token"
		post := func() (int, http.Header, []byte) {
			req, _ := http.NewRequest(http.MethodPost, tokenURL, strings.NewReader(form))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.Header.Set("Authorization", basic)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			raw, _ := io.ReadAll(resp.Body)
			return resp.StatusCode, resp.Header, raw
		}

		// The held request: headers and half its body.
		conn, err := net.Dial("tcp", strings.TrimPrefix(s.URL, "http://"))
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		half := len(form) / 2
		fmt.Fprintf(conn, "POST /t/shop/oauth2/token HTTP/1.1\r\nHost: %s\r\nAuthorization: %s\r\n"+
			"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: %d\r\n\r\n%s",
			strings.TrimPrefix(s.URL, "http://"), basic, len(form), form[:half])

		// Until the server has taken the held request in, a request may
		// still be served; each one served is a token issued.
		issued := 0
		// A busy machine may take a while to start serving the held
		// connection: bounded by time, not by a count of attempts.
		deadline := time.Now().Add(10 * time.Second)
		for {
			status, _, raw := post()
			if status == http.StatusServiceUnavailable {
				break
			}
			if status != http.StatusOK {
				t.Fatalf("token request: %d %s", status, raw)
			}
			issued++
			if time.Now().After(deadline) {
				t.Fatalf("no request shed in 10 s (%d served) with one request held in flight and --max-inflight 1", issued)
			}
			time.Sleep(5 * time.Millisecond)
		}
		const extra = 8
		var wg sync.WaitGroup
		for range extra {
			wg.Go(func() {
				status, h, raw := post()
				var e struct{ Error, ErrorDescription string }
				_ = json.Unmarshal(raw, &e)
				if status != http.StatusServiceUnavailable || h.Get("Retry-After") == "" || e.Error != "temporarily_unavailable" {
					t.Errorf("request beyond the limit: %d Retry-After %q %s; want 503 temporarily_unavailable with Retry-After",
						status, h.Get("Retry-After"), raw)
				}
			})
		}
		wg.Wait()
		resp, err := http.Get(s.URL + "/healthz")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("/healthz while at the limit: %d, want 200", resp.StatusCode)
		}

		// The held request completes and is served.
		if _, err := io.WriteString(conn, form[half:]); err != nil {
			t.Fatal(err)
		}
		hr, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := io.ReadAll(hr.Body)
		hr.Body.Close()
		var tr struct {
			AccessToken string `json:"access_token"`
		}
		if hr.StatusCode != http.StatusOK || json.Unmarshal(raw, &tr) != nil || tr.AccessToken == "" {
			t.Fatalf("held request: %d %s, want 200 with a token", hr.StatusCode, raw)
		}
		issued++

		// Only the served requests have ledger rows.
		rows, err := s.App.Store().Tokens().List(context.Background(), "shop", store.TokenFilter{ClientID: "svc", Page: store.Page{Limit: 1000}})
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) != issued {
			t.Errorf("%d ledger rows for svc, want %d (one per token served, none for the shed requests)", len(rows), issued)
		}
		mresp, err := http.Get(s.URL + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		m, _ := io.ReadAll(mresp.Body)
		mresp.Body.Close()
		if want := fmt.Sprintf("tokend_http_shed_total %d\n", extra+1); !strings.Contains(string(m), want) {
			t.Errorf("/metrics lacks %q", want)
		}
	})
}
