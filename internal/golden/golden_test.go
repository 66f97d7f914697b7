package golden

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
)

func TestNormalize(t *testing.T) {
	jwt := "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJzdmMifQ.c2lnbmF0dXJl-_"
	opaque := "tkd_rt_" + strings.Repeat("Ab9_-", 8) + "xyz" + "0aZ9bc"
	for _, tc := range []struct {
		name, in, want string
	}{
		{"jwt", `{"access_token":"` + jwt + `"}`, `{"access_token":"<jwt>"}`},
		{"opaque keeps its tag", `{"refresh_token":"` + opaque + `"}`, `{"refresh_token":"tkd_rt_<opaque>"}`},
		{"short tkd_ value stays", `tkd_rt_abc`, `tkd_rt_abc`},
		{"volatile number", `{"exp":1767225600,"iat": -3}`, `{"exp":<exp>,"iat": <iat>}`},
		{"volatile string", `{"kid" : "01h\"x","x":"AbC"}`, `{"kid" : "<kid>","x":"<x>"}`},
		{"other members stay", `{"expires_in":3600,"next":"0","e":"AQAB"}`, `{"expires_in":3600,"next":"0","e":"AQAB"}`},
		{"id", `{"sub":"0123456789abcdefghijklmnop","client_id":"svc"}`, `{"sub":"<id>","client_id":"svc"}`},
		{"id in text", `token 0123456789abcdefghijklmnop not found`, `token <id> not found`},
		{"longer run is no id", strings.Repeat("a", 27), strings.Repeat("a", 27)},
		{"letters past v are no id", "0123456789abcdefghijklmnoz", "0123456789abcdefghijklmnoz"},
		{"time", `"created_at":"2026-01-02T15:04:05.123456Z","to":"2026-01-02T15:04:05+02:00"`, `"created_at":"<time>","to":"<time>"`},
		{"time in a text stays", `"e.g. 2026-01-02T15:04:05Z"`, `"e.g. 2026-01-02T15:04:05Z"`},
		{"http date", `Expires=Fri, 02 Jan 2026 15:04:05 GMT; Path=/`, `Expires=<http-date>; Path=/`},
		{"port", `"issuer":"http://127.0.0.1:41234/t/shop"`, `"issuer":"http://127.0.0.1:<port>/t/shop"`},
		{"other hosts keep their port", `https://shop.example.com:8443`, `https://shop.example.com:8443`},
		{"spacing and newline stay", "{ \"a\" : 1 }\n\n", "{ \"a\" : 1 }\n\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := string(Normalize([]byte(tc.in)))
			if got != tc.want {
				t.Fatalf("Normalize(%q) = %q, want %q", tc.in, got, tc.want)
			}
			if again := string(Normalize([]byte(got))); again != got {
				t.Fatalf("not idempotent: %q, then %q", got, again)
			}
		})
	}
}

func TestDiff(t *testing.T) {
	want := "1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n"
	got := "1\n2\n3\nfour\n5\n6\n7\n8\n9\n10\n11"
	d := Diff([]byte(want), []byte(got))
	exp := "  ...\n  2\n  3\n- 4\n+ four\n  5\n  6\n  ...\n  9\n  10\n+ 11  (no newline at end)\n"
	if d != exp {
		t.Fatalf("Diff:\n%s\nwant:\n%s", d, exp)
	}
	if d := Diff([]byte("x \n"), []byte("x\n")); d != "- \"x \"\n+ x\n" {
		t.Fatalf("trailing space not shown: %q", d)
	}
}

func TestRender(t *testing.T) {
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	h.Set("Date", "Fri, 02 Jan 2026 15:04:05 GMT")
	h.Set("X-Request-Id", "abc")
	h.Set("WWW-Authenticate", `Basic realm="tokend"`)
	h.Add("Set-Cookie", "b=2")
	h.Add("Set-Cookie", "a=1")
	h.Set("X-Tokend-Kind", "access")
	resp := &http.Response{Proto: "HTTP/1.1", Status: "401 Unauthorized", Header: h,
		Body: io.NopCloser(strings.NewReader("{\"error\":\"invalid_client\"}\n"))}
	got, err := Render(resp)
	if err != nil {
		t.Fatal(err)
	}
	want := "HTTP/1.1 401 Unauthorized\nContent-Type: application/json\nSet-Cookie: b=2\nSet-Cookie: a=1\n" +
		"WWW-Authenticate: Basic realm=\"tokend\"\nX-Tokend-Kind: access\n\n{\"error\":\"invalid_client\"}\n"
	if string(got) != want {
		t.Fatalf("Render:\n%s\nwant:\n%s", got, want)
	}
}

// recorder is a testing.TB that records failures instead of failing.
type recorder struct {
	testing.TB
	errors []string
}

func (r *recorder) Helper() {}
func (r *recorder) Errorf(format string, args ...any) {
	r.errors = append(r.errors, fmt.Sprintf(format, args...))
}
func (r *recorder) Logf(string, ...any) {}

func TestAssert(t *testing.T) {
	t.Chdir(t.TempDir())
	body := []byte(`{"exp":1767225600,"scope":"read"}` + "\n")
	rec := &recorder{TB: t}
	check(rec, "case", body, true)
	b, err := os.ReadFile("testdata/case.golden")
	if err != nil || string(b) != `{"exp":<exp>,"scope":"read"}`+"\n" || len(rec.errors) != 0 {
		t.Fatalf("update wrote %q (%v), errors %v", b, err, rec.errors)
	}
	check(rec, "case", []byte(`{"exp":1767229999,"scope":"read"}`+"\n"), false)
	if len(rec.errors) != 0 {
		t.Fatalf("a new exp is a difference: %v", rec.errors)
	}
	check(rec, "case", []byte(`{"exp":1767225600,"scope":"write"}`+"\n"), false)
	if len(rec.errors) != 1 || !strings.Contains(rec.errors[0], `+ {"exp":<exp>,"scope":"write"}`) {
		t.Fatalf("a changed byte must fail with a diff: %v", rec.errors)
	}
	if b2, _ := os.ReadFile("testdata/case.golden"); string(b2) != string(b) {
		t.Fatalf("a comparison rewrote the file: %q", b2)
	}
}

func TestPath(t *testing.T) {
	if p := Path("token.ok"); p != "testdata/token.ok.golden" {
		t.Fatalf("Path = %q", p)
	}
	for _, bad := range []string{"", "a/b", `a\b`, ".hidden", "../x"} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("Path(%q) did not panic", bad)
				}
			}()
			Path(bad)
		}()
	}
}
