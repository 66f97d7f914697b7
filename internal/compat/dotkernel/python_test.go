package dotkernel_test

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/tokend/tokend/internal/testenv"
)

// TestPythonClient: a real third-party client, Python's urllib and PyJWT,
// logs in with the seed's body, verifies the RS256 access token against
// the published key, reads its account and refreshes.
func TestPythonClient(t *testing.T) {
	t.Parallel()
	py := testenv.PyJWT(t)
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
