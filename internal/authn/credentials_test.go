package authn

import (
	"encoding/base64"
	"errors"
	"net/http"
	"net/url"
	"testing"

	"github.com/tokend/tokend/internal/fault"
)

// FuzzParseCredentials: any Authorization value and form body parse
// without panicking; HTTP Basic is read exactly as net/http reads it; a
// failure is invalid_client or invalid_request; a success names one
// method that matches what was sent.
func FuzzParseCredentials(f *testing.F) {
	basic := func(s string) string { return "Basic " + base64.StdEncoding.EncodeToString([]byte(s)) }
	f.Add(basic("svc:s3cret"), "grant_type=client_credentials")
	f.Add(basic("svc%3Aa:s%25"), "client_id=svc%3Aa")
	f.Add(basic("svc:x"), "client_secret=y")
	f.Add("bAsIc "+base64.StdEncoding.EncodeToString([]byte("a:b")), "")
	f.Add("Basic !!", "")
	f.Add("Bearer abc", "")
	f.Add("", "client_id=svc&client_secret=s")
	f.Add("", "client_id=pub")
	f.Add("", "client_assertion_type=urn%3Aietf%3Aparams%3Aoauth%3Aclient-assertion-type%3Ajwt-bearer&client_assertion=a.b.c")
	f.Add("", "client_assertion_type=other&client_assertion=a.b.c")
	f.Add("", "client_assertion=a.b.c&client_secret=s")
	f.Fuzz(func(t *testing.T, authorization, body string) {
		form, err := url.ParseQuery(body)
		if err != nil {
			return
		}
		r := &http.Request{Header: http.Header{"Authorization": {authorization}}}
		hu, hp, hok := r.BasicAuth()
		u, p, ok := parseBasic(authorization)
		if ok != hok || (ok && (u != hu || p != hp)) {
			t.Fatalf("parseBasic(%q) = %q %q %v, net/http %q %q %v", authorization, u, p, ok, hu, hp, hok)
		}
		ca, err := ParseCredentials(authorization, form)
		if err != nil {
			var fe *fault.Error
			if !errors.As(err, &fe) || (fe.Code != fault.CodeInvalidClient && fe.Code != fault.CodeInvalidRequest) {
				t.Fatalf("ParseCredentials error %v is not invalid_client or invalid_request", err)
			}
			return
		}
		switch {
		case authorization != "":
			if ca.Method != "client_secret_basic" || ca.Assertion != "" {
				t.Fatalf("an Authorization header gave %+v", ca)
			}
		case ca.Assertion != "":
			if ca.Method != "private_key_jwt" || ca.Secret != "" {
				t.Fatalf("an assertion gave %+v", ca)
			}
		case ca.Secret == "":
			if ca.Method != "none" {
				t.Fatalf("no secret gave %+v", ca)
			}
		default:
			if ca.Method != "client_secret_post" || ca.Secret != form.Get("client_secret") {
				t.Fatalf("a form secret gave %+v", ca)
			}
		}
	})
}

// TestParseCredentials pins the answer to each way of authenticating.
func TestParseCredentials(t *testing.T) {
	t.Parallel()
	basic := "Basic " + base64.StdEncoding.EncodeToString([]byte("svc%3Aa:p%25w"))
	for _, tc := range []struct {
		name          string
		authorization string
		form          url.Values
		want          Credentials
		code          fault.Code
	}{
		{name: "basic, form-urlencoded", authorization: basic, want: Credentials{ID: "svc:a", Secret: "p%w", Method: "client_secret_basic"}},
		{name: "basic and client_id agree", authorization: basic, form: url.Values{"client_id": {"svc:a"}}, want: Credentials{ID: "svc:a", Secret: "p%w", Method: "client_secret_basic"}},
		{name: "basic and client_id differ", authorization: basic, form: url.Values{"client_id": {"other"}}, code: fault.CodeInvalidRequest},
		{name: "basic and a form secret", authorization: basic, form: url.Values{"client_secret": {"x"}}, code: fault.CodeInvalidRequest},
		{name: "not basic", authorization: "Bearer x", code: fault.CodeInvalidClient},
		{name: "bad escape", authorization: "Basic " + base64.StdEncoding.EncodeToString([]byte("%zz:x")), code: fault.CodeInvalidClient},
		{name: "post", form: url.Values{"client_id": {"svc"}, "client_secret": {"s"}}, want: Credentials{ID: "svc", Secret: "s", Method: "client_secret_post"}},
		{name: "public", form: url.Values{"client_id": {"pub"}}, want: Credentials{ID: "pub", Method: "none"}},
		{name: "assertion", form: url.Values{"client_assertion_type": {AssertionType}, "client_assertion": {"a.b.c"}}, want: Credentials{Assertion: "a.b.c", Method: "private_key_jwt"}},
		{name: "assertion of another type", form: url.Values{"client_assertion_type": {"x"}, "client_assertion": {"a.b.c"}}, code: fault.CodeInvalidClient},
		{name: "assertion and secret", form: url.Values{"client_assertion_type": {AssertionType}, "client_assertion": {"a.b.c"}, "client_secret": {"s"}}, code: fault.CodeInvalidRequest},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseCredentials(tc.authorization, tc.form)
			if tc.code != "" {
				if fault.CodeOf(err) != tc.code {
					t.Fatalf("error %v, want %s", err, tc.code)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("got %+v, %v; want %+v", got, err, tc.want)
			}
		})
	}
}
