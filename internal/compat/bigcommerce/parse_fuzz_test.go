package bigcommerce

import (
	"net/url"
	"testing"
)

// FuzzParseCreate: the REST body parser never panics, and what it accepts
// is within the spec's bounds.
func FuzzParseCreate(f *testing.F) {
	for _, s := range []string{
		`{"allowed_cors_origins":["https://www.yourstorefront.com/"],"channel_id":1,"expires_at":1885635176,"dev_mode":false}`,
		`{"channel_ids":[1,2,3],"expires_at":1602288000,"scopes":["Customer"]}`,
		`{"expires_at":1e3,"channel_id":"1"}`, `[]`, `null`, `{"expires_at":-1}`, `{"channel_ids":[],"expires_at":1}`,
		`{"expires_at":1,"channel_id":1}{}`, `{"allowed_cors_origins":["","",""]}`,
	} {
		for _, fam := range []string{famStorefront, famPrivate, famImpersonation} {
			f.Add(fam, []byte(s))
		}
	}
	f.Fuzz(func(t *testing.T, fam string, body []byte) {
		r, err := parseCreate(fam, body)
		if err != nil {
			return
		}
		if r.ExpiresAt < 0 || len(r.Channels) == 0 || len(r.Origins) > 2 {
			t.Fatalf("accepted %q as %+v", body, r)
		}
		for _, c := range r.Channels {
			if c < 1 {
				t.Fatalf("channel %d accepted", c)
			}
		}
		if fam == famPrivate && len(r.Scopes) == 0 {
			t.Fatalf("private token without scopes accepted: %q", body)
		}
		if fam != famStorefront && len(r.Origins) > 0 {
			t.Fatalf("origins accepted for %s", fam)
		}
	})
}

// FuzzParseEnvelope: the GraphQL request envelope parser and the JWT
// peek never panic; an accepted envelope has a bounded, non-empty query.
func FuzzParseEnvelope(f *testing.F) {
	for _, s := range []string{
		`{"query":"{ __typename }"}`, `{"query":"query A { customer { email } }","operationName":"A","variables":{"x":1}}`,
		`{"query":"x","variables":null,"operationName":null,"extensions":{}}`, `{"query":1}`, `{"query":"x","foo":1}`, `{}`, `[`,
	} {
		f.Add("application/json", []byte(s), "eyJhbGciOiJFUzI1NiJ9.eyJmb28iOjF9.c2ln")
	}
	f.Fuzz(func(t *testing.T, ct string, body []byte, tok string) {
		_ = peekJWT(tok)
		e, err := parseEnvelope(ct, body, url.Values{})
		if err != nil {
			return
		}
		if e.Query == "" || len(e.Query) > maxQuery {
			t.Fatalf("accepted query of %d bytes", len(e.Query))
		}
	})
}
