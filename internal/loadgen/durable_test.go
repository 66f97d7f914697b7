package loadgen

import (
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tokend/tokend/internal/store/postgres/pgtest"
)

// durableBackends are the durable floor's databases under test: the floor
// URL and how a second, independent connection opens it.
func durableBackends(t *testing.T) map[string]func(t *testing.T) (floor string, open func() (*sql.DB, error)) {
	return map[string]func(t *testing.T) (string, func() (*sql.DB, error)){
		"sqlite": func(t *testing.T) (string, func() (*sql.DB, error)) {
			path := filepath.Join(t.TempDir(), "floor.db")
			return "sqlite:" + path, func() (*sql.DB, error) { return sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(10000)") }
		},
		"postgres": func(t *testing.T) (string, func() (*sql.DB, error)) {
			u := pgtest.NewDatabase(t)
			return u, func() (*sql.DB, error) { return sql.Open("pgx", u) }
		},
	}
}

// TestDurableFloorCommitsBeforeAnswer: every token the durable floor
// answers has its row committed already (a second connection sees it the
// moment the answer arrives), concurrent requests share commits, a wrong
// secret or grant type gets its RFC 6749 error and writes nothing.
func TestDurableFloorCommitsBeforeAnswer(t *testing.T) {
	for name, backend := range durableBackends(t) {
		t.Run(name, func(t *testing.T) {
			floorDB, open := backend(t)
			base, stop, err := StartBaselineWith(BaselineDurable, BaselineOptions{Database: floorDB})
			if err != nil {
				t.Fatal(err)
			}
			defer stop()
			check, err := open()
			if err != nil {
				t.Fatal(err)
			}
			defer check.Close()
			if name == "sqlite" {
				var mode string
				if err := check.QueryRow("PRAGMA journal_mode").Scan(&mode); err != nil || mode != "wal" {
					t.Errorf("journal_mode %q (%v), want wal", mode, err)
				}
			}
			ph := "?"
			if name == "postgres" {
				ph = "$1"
			}
			committed := func(jti string) bool {
				var n int
				if err := check.QueryRow("SELECT count(*) FROM tokend_floor_tokens WHERE jti = "+ph, jti).Scan(&n); err != nil {
					t.Error(err)
				}
				return n == 1
			}
			count := func() int {
				var n int
				if err := check.QueryRow("SELECT count(*) FROM tokend_floor_tokens").Scan(&n); err != nil {
					t.Fatal(err)
				}
				return n
			}
			post := func(form url.Values, id, secret string) (int, []byte) {
				req, _ := http.NewRequest(http.MethodPost, base+baselineDurablePath, strings.NewReader(form.Encode()))
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				if id != "" {
					req.SetBasicAuth(url.QueryEscape(id), url.QueryEscape(secret))
				}
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Error(err)
					return 0, nil
				}
				defer resp.Body.Close()
				b, _ := io.ReadAll(resp.Body)
				return resp.StatusCode, b
			}
			cc := url.Values{"grant_type": {"client_credentials"}}
			const workers, each = 16, 20
			var wg sync.WaitGroup
			for range workers {
				wg.Go(func() {
					for range each {
						status, body := post(cc, BaselineClientID, BaselineClientSecret)
						var tr struct {
							AccessToken string `json:"access_token"`
							TokenType   string `json:"token_type"`
							ExpiresIn   int    `json:"expires_in"`
						}
						if status != http.StatusOK || json.Unmarshal(body, &tr) != nil || tr.TokenType != "Bearer" || tr.ExpiresIn <= 0 {
							t.Errorf("token request: %d %s", status, body)
							return
						}
						jti := jwtID(t, tr.AccessToken)
						if !committed(jti) {
							t.Errorf("token %s answered before its row was committed", jti)
						}
					}
				})
			}
			wg.Wait()
			if got := count(); got != workers*each {
				t.Errorf("%d rows, want %d", got, workers*each)
			}
			// Client credentials in the body work too.
			status, body := post(url.Values{"grant_type": {"client_credentials"}, "client_id": {BaselineClientID},
				"client_secret": {BaselineClientSecret}}, "", "")
			if status != http.StatusOK {
				t.Errorf("client_secret_post: %d %s", status, body)
			}
			before := count()
			for _, tc := range []struct {
				name       string
				form       url.Values
				id, secret string
				status     int
				code       string
			}{
				{"wrong secret", cc, BaselineClientID, BaselineClientSecret + "x", http.StatusUnauthorized, "invalid_client"},
				{"unknown client", cc, "other", BaselineClientSecret, http.StatusUnauthorized, "invalid_client"},
				{"no credentials", cc, "", "", http.StatusUnauthorized, "invalid_client"},
				{"password grant", url.Values{"grant_type": {"password"}}, BaselineClientID, BaselineClientSecret, http.StatusBadRequest, "unsupported_grant_type"},
			} {
				status, body := post(tc.form, tc.id, tc.secret)
				var e struct{ Error string }
				_ = json.Unmarshal(body, &e)
				if status != tc.status || e.Error != tc.code {
					t.Errorf("%s: %d %s, want %d %s", tc.name, status, body, tc.status, tc.code)
				}
			}
			if got := count(); got != before {
				t.Errorf("refused requests wrote %d rows", got-before)
			}
			// And loadgen drives it.
			r, err := Run(context.Background(), Config{Mode: ModeBaselineDurable, Endpoint: base, Concurrency: 8,
				Duration: 300 * time.Millisecond, Warmup: 50 * time.Millisecond})
			if err != nil {
				t.Fatal(err)
			}
			checkResult(t, r)
			if got := count(); int64(got) < int64(before)+r.Requests {
				t.Errorf("%d rows after %d more requests, want at least %d", got, r.Requests, int64(before)+r.Requests)
			}
		})
	}
}

// TestDurableFloorRefusesBadDatabase: a database that is neither SQLite
// nor PostgreSQL is an error, not a silent default.
func TestDurableFloorRefusesBadDatabase(t *testing.T) {
	if _, _, err := StartBaselineWith(BaselineDurable, BaselineOptions{Database: "mysql://x"}); err == nil {
		t.Fatal("mysql:// accepted")
	}
}

// jwtID returns the jti claim of a JWT (unverified: the floor signed it).
func jwtID(t *testing.T, tok string) string {
	t.Helper()
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %q", tok)
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var c struct {
		ID string `json:"jti"`
	}
	if err := json.Unmarshal(b, &c); err != nil || c.ID == "" {
		t.Fatalf("no jti in %s", b)
	}
	return c.ID
}
