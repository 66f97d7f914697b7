package dotkernel_test

import (
	"os/exec"
	"strings"
	"testing"
)

// pythonWithJWT returns a Python 3 that has PyJWT (Debian python3-jwt),
// or skips the test.
func pythonWithJWT(t *testing.T) string {
	t.Helper()
	for _, py := range []string{"python3", "/usr/bin/python3"} {
		if exec.Command(py, "-c", "import jwt").Run() == nil {
			return py
		}
	}
	t.Skip("no python3 with PyJWT (Debian python3-jwt)")
	return ""
}

// TestPythonClient: a real third-party client, Python's urllib and PyJWT,
// logs in with the seed's body, verifies the RS256 access token against
// the published key, reads its account and refreshes.
func TestPythonClient(t *testing.T) {
	t.Parallel()
	py := pythonWithJWT(t)
	s := dev(t, "")
	out, err := exec.Command(py, "testdata/python/client.py", s.URL).CombinedOutput()
	if err != nil {
		t.Fatalf("client: %v\n%s", err, out)
	}
	want := `{"aud": "admin", "content_type": "application/hal+json", "header": {"alg": "RS256", "typ": "JWT"}, "identity": "admin", "refreshed": true, "roles": ["admin", "superuser"], "scopes": ["api"], "sub": "admin"}`
	if got := strings.TrimSpace(string(out)); got != want {
		t.Fatalf("client saw\n%s\nwant\n%s", got, want)
	}
}
