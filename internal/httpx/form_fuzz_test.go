package httpx

import (
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/tokend/tokend/internal/fault"
)

// FuzzParseForm: a form body is accepted only when it parses as a query
// string and repeats no parameter but the ones allowed to repeat; anything
// else is a client error, never a panic.
func FuzzParseForm(f *testing.F) {
	for _, s := range []string{
		"grant_type=client_credentials&scope=read+write",
		"audience=a&audience=b",
		"scope=a&scope=b",
		"a=%zz",
		"=&&=",
		"grant_type=password&username=al%C3%A9&password=x",
	} {
		f.Add(s, "application/x-www-form-urlencoded", "")
	}
	f.Add("a=b", "application/json", "")
	f.Add("a=b", "application/x-www-form-urlencoded", "x=1")
	f.Fuzz(func(t *testing.T, body, ct, query string) {
		r := httptest.NewRequest("POST", "/t/x/oauth2/token", strings.NewReader(body))
		r.URL.RawQuery = query
		r.Header.Set("Content-Type", ct)
		form, err := ParseForm(r, 512, "audience", "resource")
		if err != nil {
			if c := fault.CodeOf(err); c != fault.CodeInvalidRequest && c != fault.CodeTooLarge {
				t.Fatalf("error code %q (%v)", c, err)
			}
			return
		}
		if query != "" {
			t.Fatal("accepted parameters in the URL")
		}
		want, err := url.ParseQuery(body)
		if err != nil {
			t.Fatalf("accepted a body url.ParseQuery refuses: %v", err)
		}
		for k, v := range form {
			if len(v) > 1 && !slices.Contains([]string{"audience", "resource"}, k) {
				t.Fatalf("parameter %q accepted %d times", k, len(v))
			}
			if !slices.Equal(v, want[k]) {
				t.Fatalf("%q = %q, want %q", k, v, want[k])
			}
		}
	})
}
