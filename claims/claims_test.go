package claims

import (
	"encoding/base64"
	"encoding/json"
	"testing"
)

func TestAudience(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]int{`"a"`: 1, `["a","b"]`: 2, `[]`: 0} {
		var a Audience
		if err := json.Unmarshal([]byte(in), &a); err != nil || len(a) != want {
			t.Errorf("Unmarshal(%s) = %v, %v", in, a, err)
		}
	}
	var a Audience
	if err := json.Unmarshal([]byte(`3`), &a); err == nil {
		t.Error("number accepted as audience")
	}
	b, _ := json.Marshal(Audience{"x"})
	if string(b) != `"x"` {
		t.Errorf("single audience marshalled as %s", b)
	}
	b, _ = json.Marshal(Audience{"x", "y"})
	if string(b) != `["x","y"]` {
		t.Errorf("two audiences marshalled as %s", b)
	}
}

func TestScopes(t *testing.T) {
	t.Parallel()
	c := Claims{Scope: "read  write tokend:admin"}
	if !c.HasScope(ScopeAdmin) || c.HasScope("rea") || len(c.Scopes()) != 3 {
		t.Fatalf("scopes: %v", c.Scopes())
	}
}

func TestCheckHeader(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		header string
		ok     bool
	}{
		{`{"alg":"ES256","typ":"at+jwt","kid":"k"}`, true},
		{`{"alg":"ES256","crit":["exp"]}`, false},
		{`{"alg":"ES256","crit":["unknown"],"unknown":1}`, false},
		{`{"alg":"ES256","crit":"b64"}`, false},
		{`{"alg":"ES256","crit":[]}`, false},
		{`{"alg":"ES256","crit":null}`, false},
		{`{"alg":"ES256","b64":false,"crit":["b64"]}`, false},
		{`{"alg":"ES256","b64":false}`, false},
		{`{"alg":"ES256","b64":true}`, false},
	} {
		var h map[string]any
		if err := json.Unmarshal([]byte(tc.header), &h); err != nil {
			t.Fatal(err)
		}
		if err := CheckHeader(h); (err == nil) != tc.ok {
			t.Errorf("CheckHeader(%s) = %v, want ok %v", tc.header, err, tc.ok)
		}
	}
}

// TestIsCompactHS256: an HS256 header without kid, spelled plainly or
// with a JSON escape, is a compact legacy token's; any other is not.
func TestIsCompactHS256(t *testing.T) {
	t.Parallel()
	for header, want := range map[string]bool{
		`{"alg":"HS256"}`:                      true,
		`{"alg":"HS256","typ":"JWT"}`:          true,
		`{"alg":"HS\u0032\u0035\u0036"}`:       true,
		`{"alg":"HS256","kid":"a"}`:            false,
		`{"alg":"ES256","typ":"at+jwt"}`:       false,
		`{"alg":"ES256","kid":"HS256"}`:        false,
		`{"alg":"EdDSA","typ":"at+jwt","x":1}`: false,
	} {
		raw := base64.RawURLEncoding.EncodeToString([]byte(header)) + ".e30.sig"
		if got := IsCompactHS256(raw); got != want {
			t.Errorf("IsCompactHS256(%s) = %v, want %v", header, got, want)
		}
	}
}
