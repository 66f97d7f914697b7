package cli

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"reflect"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

// apiCall is one request the fake admin API received.
type apiCall struct {
	Method string
	Path   string
	Query  string
	Body   string // canonical JSON, "" when none
}

type cannedReply struct {
	status int
	body   string
}

// fakeAPI records requests and answers canned replies keyed by
// "METHOD /path" or "METHOD /path?query".
type fakeAPI struct {
	t       *testing.T
	mu      sync.Mutex
	calls   []apiCall
	auth    []string
	ctype   []string
	replies map[string]cannedReply
}

func (f *fakeAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	raw, _ := io.ReadAll(r.Body)
	body := ""
	if len(raw) > 0 {
		body = canonicalJSON(f.t, string(raw))
	}
	f.mu.Lock()
	f.calls = append(f.calls, apiCall{Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery, Body: body})
	f.auth = append(f.auth, r.Header.Get("Authorization"))
	f.ctype = append(f.ctype, r.Header.Get("Content-Type"))
	f.mu.Unlock()
	key := r.Method + " " + r.URL.Path
	if r.URL.RawQuery != "" {
		key += "?" + r.URL.RawQuery
	}
	rep, ok := f.replies[key]
	if !ok {
		rep = cannedReply{404, `{"error":"not_found","error_description":"no canned reply for ` + key + `"}`}
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(rep.status)
	_, _ = io.WriteString(w, rep.body)
}

func canonicalJSON(t *testing.T, s string) string {
	t.Helper()
	var v any
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		t.Fatalf("invalid JSON %q: %v", s, err)
	}
	b, _ := json.Marshal(v)
	return string(b)
}

const (
	tenantAcme = `{"id":"acme","display_name":"Acme","issuer":"http://127.0.0.1:8080/t/acme",
		"policy":{"signing_alg":"EdDSA","access_ttl":600},
		"created_at":"2024-05-01T10:00:00Z","updated_at":"2024-05-01T10:00:00Z"}`
	clientWeb = `{"id":"web","display_name":"Web","grant_types":["client_credentials"],"scopes":["read","write"],
		"audiences":[],"kinds":[],"policy":{},"disabled":false,"public":false,"secret_alg":"argon2id",
		"created_at":"2024-05-01T10:00:00Z","updated_at":"2024-05-01T10:00:00Z"%s}`
	userAlice = `{"id":"usr_1","login":"alice@example.com","display_name":"","roles":["admin"],"groups":[],
		"disabled":false,"has_password":true,"created_at":"2024-05-01T10:00:00Z","updated_at":"2024-05-01T10:00:00Z"}`
	userBob = `{"id":"usr_2","login":"bob@example.com","display_name":"Bob","roles":[],"groups":["ops","dev"],
		"disabled":true,"has_password":false,"created_at":"2024-05-01T10:00:00Z","updated_at":"2024-05-01T10:00:00Z"}`
)

func TestAdminCommands(t *testing.T) {
	clientDetail := `id:            web
display_name:  Web
grant_types:   client_credentials
scopes:        read,write
audiences:     -
kinds:         -
policy:        {}
public:        false
disabled:      false
secret_alg:    argon2id
created_at:    2024-05-01T10:00:00Z
updated_at:    2024-05-01T10:00:00Z
`
	usersTable := `ID     LOGIN              DISPLAY NAME  ROLES  GROUPS   DISABLED
usr_1  alice@example.com  -             admin  -        false
usr_2  bob@example.com    Bob           -      ops,dev  true
`

	tests := []struct {
		name       string
		args       []string
		env        map[string]string // on top of TOKEND_ENDPOINT={URL}, TOKEND_TOKEN=tok
		stdin      string
		replies    map[string]cannedReply
		wantCalls  []apiCall
		wantAuth   string // default "Bearer tok"
		wantCode   int
		wantStdout string
		wantStderr string // exact unless stderrHas is set
		stderrHas  string
		secret     string    // must appear in neither stdout nor stderr
		now        time.Time // fixes the clock of relative --expires-at values when set
	}{
		{
			name: "tenants create with policy, flags override env",
			args: []string{"tenants", "create", "acme", "--display-name", "Acme",
				"--policy", `{"signing_alg":"EdDSA","access_ttl":600}`, "--endpoint", "{URL}", "--token", "flag-tok"},
			env:      map[string]string{"TOKEND_ENDPOINT": "http://127.0.0.1:1", "TOKEND_TOKEN": "env-tok"},
			replies:  map[string]cannedReply{"POST /v1/tenants": {201, tenantAcme}},
			wantAuth: "Bearer flag-tok",
			wantCalls: []apiCall{{Method: "POST", Path: "/v1/tenants",
				Body: `{"display_name":"Acme","id":"acme","policy":{"access_ttl":600,"signing_alg":"EdDSA"}}`}},
			wantStdout: `id:            acme
display_name:  Acme
issuer:        http://127.0.0.1:8080/t/acme
policy:        {"access_ttl":600,"signing_alg":"EdDSA"}
created_at:    2024-05-01T10:00:00Z
updated_at:    2024-05-01T10:00:00Z
`,
		},
		{
			name:      "surfaces set sends the settings as they are",
			args:      []string{"surfaces", "set", "storetoken", "-t", "acme", "--settings", `{"lifetime":3600}`},
			replies:   map[string]cannedReply{"PUT /v1/tenants/acme/surfaces/storetoken": {200, `{"name":"storetoken","settings":{"lifetime":3600},"created_at":"2024-05-01T10:00:00Z","updated_at":"2024-05-01T10:00:00Z"}`}},
			wantCalls: []apiCall{{Method: "PUT", Path: "/v1/tenants/acme/surfaces/storetoken", Body: `{"lifetime":3600}`}},
			wantStdout: `name:        storetoken
settings:    {"lifetime":3600}
created_at:  2024-05-01T10:00:00Z
updated_at:  2024-05-01T10:00:00Z
`,
		},
		{
			name: "trusted-issuers create sends the settings from flags",
			args: []string{"trusted-issuers", "create", "corp", "-t", "acme", "--issuer", "https://id.example.com/", "--audience", "tokend",
				"--alg", "ES256", "--user-claim", "email", "--require-email-verified"},
			replies: map[string]cannedReply{"POST /v1/tenants/acme/trusted-issuers": {201, `{"id":"corp","issuer":"https://id.example.com/","audiences":["tokend"],"algorithms":["ES256"],"user_claim":"email"}`}},
			wantCalls: []apiCall{{Method: "POST", Path: "/v1/tenants/acme/trusted-issuers",
				Body: `{"algorithms":["ES256"],"audiences":["tokend"],"create_users":false,"default_groups":null,"default_roles":null,"disabled":false,"id":"corp","issuer":"https://id.example.com/","max_age":0,"require_email_verified":true,"user_claim":"email"}`}},
			wantStdout: `id:          corp
issuer:      https://id.example.com/
audiences:   tokend
algorithms:  ES256
user_claim:  email
`,
		},
		{
			name:      "surfaces set refuses settings that are not an object",
			args:      []string{"surfaces", "set", "storetoken", "-t", "acme", "--settings", `[1]`},
			wantCode:  1,
			stderrHas: "--settings must be a JSON object",
		},
		{
			name: "clients create prints the secret once",
			args: []string{"clients", "create", "web", "-t", "acme", "--grant-types", "client_credentials", "--scopes", "read,write"},
			replies: map[string]cannedReply{"POST /v1/tenants/acme/clients": {201,
				strings.Replace(clientWeb, "%s", `,"client_secret":"tkd_cs_s3cr3t"`, 1)}},
			wantCalls: []apiCall{{Method: "POST", Path: "/v1/tenants/acme/clients",
				Body: `{"grant_types":["client_credentials"],"id":"web","scopes":["read","write"]}`}},
			wantStdout: clientDetail + `
client_secret: tkd_cs_s3cr3t
Note: the client secret is shown only this once: store it now. It cannot be read back;
      "tokend clients rotate-secret ID" replaces it with a new one.
`,
		},
		{
			name: "clients create with a secret held in Vault sends the reference and prints no secret",
			args: []string{"clients", "create", "billing", "-t", "acme", "--secret-ref",
				`{"backend":"vault","mount":"kv","path":"secret/{tenant}/{project}/{client}","field":"secret_id","project":"api"}`},
			replies: map[string]cannedReply{"POST /v1/tenants/acme/clients": {201, `{"id":"billing","display_name":"","grant_types":["client_credentials"],` +
				`"scopes":[],"audiences":[],"kinds":["access"],"policy":{},"disabled":false,"public":false,` +
				`"secret_ref":{"backend":"vault","mount":"kv","path":"secret/{tenant}/{project}/{client}","field":"secret_id","project":"api"},` +
				`"created_at":"2024-05-01T10:00:00Z","updated_at":"2024-05-01T10:00:00Z"}`}},
			wantCalls: []apiCall{{Method: "POST", Path: "/v1/tenants/acme/clients",
				Body: `{"id":"billing","secret_ref":{"backend":"vault","field":"secret_id","mount":"kv","path":"secret/{tenant}/{project}/{client}","project":"api"}}`}},
			wantStdout: `id:            billing
display_name:  -
grant_types:   client_credentials
scopes:        -
audiences:     -
kinds:         access
policy:        {}
public:        false
disabled:      false
secret_ref:    {"backend":"vault","field":"secret_id","mount":"kv","path":"secret/{tenant}/{project}/{client}","project":"api"}
created_at:    2024-05-01T10:00:00Z
updated_at:    2024-05-01T10:00:00Z
`,
		},
		{
			name:    "users create reads the password from stdin and never prints it",
			args:    []string{"users", "create", "--login", "alice@example.com", "--roles", "admin", "--password-stdin"},
			env:     map[string]string{"TOKEND_TENANT": "acme"},
			stdin:   "correct horse battery\nignored second line\n",
			replies: map[string]cannedReply{"POST /v1/tenants/acme/users": {201, userAlice}},
			wantCalls: []apiCall{{Method: "POST", Path: "/v1/tenants/acme/users",
				Body: `{"login":"alice@example.com","password":"correct horse battery","roles":["admin"]}`}},
			secret: "correct horse battery",
			wantStdout: `id:            usr_1
login:         alice@example.com
display_name:  -
roles:         admin
groups:        -
disabled:      false
has_password:  true
created_at:    2024-05-01T10:00:00Z
updated_at:    2024-05-01T10:00:00Z
`,
		},
		{
			name:       "devices legacy-secret sends the apstrata password from stdin and never prints it",
			args:       []string{"devices", "legacy-secret", "kiosk-7", "-t", "acme", "--password-stdin"},
			stdin:      "r2d2 secret\n",
			replies:    map[string]cannedReply{"PUT /v1/tenants/acme/devices/kiosk-7/legacy-secret": {204, ""}},
			wantCalls:  []apiCall{{Method: "PUT", Path: "/v1/tenants/acme/devices/kiosk-7/legacy-secret", Body: `{"password":"r2d2 secret"}`}},
			secret:     "r2d2 secret",
			wantStdout: "set the apstrata credential of device \"kiosk-7\"\n",
		},
		{
			name:       "users legacy-secret imports the hex MD5 exported from apstrata",
			args:       []string{"users", "legacy-secret", "usr_1", "-t", "acme", "--password-md5-stdin"},
			stdin:      "5F4DCC3B5AA765D61D8327DEB882CF99\n",
			replies:    map[string]cannedReply{"PUT /v1/tenants/acme/users/usr_1/legacy-secret": {204, ""}},
			wantCalls:  []apiCall{{Method: "PUT", Path: "/v1/tenants/acme/users/usr_1/legacy-secret", Body: `{"password_md5":"5F4DCC3B5AA765D61D8327DEB882CF99"}`}},
			secret:     "5F4DCC3B5AA765D61D8327DEB882CF99",
			wantStdout: "set the apstrata credential of user \"usr_1\"\n",
		},
		{
			name:       "clients legacy-secret sends the account secret",
			args:       []string{"clients", "legacy-secret", "owner", "-t", "acme", "--secret-stdin"},
			stdin:      "owner-secret\n",
			replies:    map[string]cannedReply{"PUT /v1/tenants/acme/clients/owner/legacy-secret": {204, ""}},
			wantCalls:  []apiCall{{Method: "PUT", Path: "/v1/tenants/acme/clients/owner/legacy-secret", Body: `{"secret":"owner-secret"}`}},
			secret:     "owner-secret",
			wantStdout: "set the apstrata credential of client \"owner\"\n",
		},
		{
			name:       "devices legacy-secret needs exactly one source",
			args:       []string{"devices", "legacy-secret", "kiosk-7", "-t", "acme", "--password-stdin", "--password-md5-stdin"},
			wantCode:   1,
			wantStderr: "error: give one of --password-stdin or --password-md5-stdin, and the value on stdin\n",
		},
		{
			name:       "users legacy-secret with empty stdin fails before any request",
			args:       []string{"users", "legacy-secret", "usr_1", "-t", "acme", "--password-md5-stdin"},
			wantCode:   1,
			wantStderr: "error: no password MD5 on stdin: pipe it in, e.g. printf '%s' \"$SECRET\" | tokend ...\n",
		},
		{
			name:      "clients legacy-secret offers no password flag",
			args:      []string{"clients", "legacy-secret", "owner", "-t", "acme", "--password-stdin"},
			wantCode:  1,
			stderrHas: "unknown flag: --password-stdin",
		},
		{
			name:       "users create --password-stdin with empty stdin fails before any request",
			args:       []string{"users", "create", "-t", "acme", "--login", "alice", "--password-stdin"},
			wantCode:   1,
			wantStderr: "error: no password on stdin: pipe it in, e.g. printf '%s' \"$SECRET\" | tokend ...\n",
		},
		{
			name: "list --all follows the next cursor across two pages",
			args: []string{"users", "list", "-t", "acme", "--all", "--limit", "1"},
			replies: map[string]cannedReply{
				"GET /v1/tenants/acme/users?limit=1":          {200, `{"items":[` + userAlice + `],"next":"c1"}`},
				"GET /v1/tenants/acme/users?after=c1&limit=1": {200, `{"items":[` + userBob + `]}`},
			},
			wantCalls: []apiCall{
				{Method: "GET", Path: "/v1/tenants/acme/users", Query: "limit=1"},
				{Method: "GET", Path: "/v1/tenants/acme/users", Query: "after=c1&limit=1"},
			},
			wantStdout: usersTable,
		},
		{
			name: "list --all -o json merges the pages",
			args: []string{"users", "list", "-t", "acme", "--all", "-o", "json"},
			replies: map[string]cannedReply{
				"GET /v1/tenants/acme/users":          {200, `{"items":[{"id":"usr_1"}],"next":"c1"}`},
				"GET /v1/tenants/acme/users?after=c1": {200, `{"items":[{"id":"usr_2"}]}`},
			},
			wantCalls: []apiCall{
				{Method: "GET", Path: "/v1/tenants/acme/users"},
				{Method: "GET", Path: "/v1/tenants/acme/users", Query: "after=c1"},
			},
			wantStdout: "{\n  \"items\": [\n    {\n      \"id\": \"usr_1\"\n    },\n    {\n      \"id\": \"usr_2\"\n    }\n  ]\n}\n",
		},
		{
			name: "list without --all prints one page and says how to get more",
			args: []string{"users", "list", "-t", "acme", "--login", "alice@example.com"},
			replies: map[string]cannedReply{
				"GET /v1/tenants/acme/users?login=alice%40example.com": {200, `{"items":[` + userAlice + `],"next":"c1"}`},
			},
			wantCalls:  []apiCall{{Method: "GET", Path: "/v1/tenants/acme/users", Query: "login=alice%40example.com"}},
			wantStdout: "ID     LOGIN              DISPLAY NAME  ROLES  GROUPS  DISABLED\nusr_1  alice@example.com  -             admin  -       false\n",
			wantStderr: "(more results: add --all, or --after c1)\n",
		},
		{
			name: "tokens list passes filters as query parameters",
			args: []string{"tokens", "list", "-t", "acme", "--subject", "usr_1", "--client-id", "web", "--active"},
			replies: map[string]cannedReply{
				"GET /v1/tenants/acme/tokens?active=true&client_id=web&subject=usr_1": {200, `{"items":[{"id":"tok_1","kind":"access",
					"subject":"usr_1","client_id":"web","scope":["read"],"expires_at":"2024-05-01T11:00:00Z","revoked_at":null}]}`},
			},
			wantCalls: []apiCall{{Method: "GET", Path: "/v1/tenants/acme/tokens", Query: "active=true&client_id=web&subject=usr_1"}},
			wantStdout: "ID     KIND    SUBJECT  CLIENT  SCOPE  EXPIRES               REVOKED\n" +
				"tok_1  access  usr_1    web     read   2024-05-01T11:00:00Z  -\n",
		},
		{
			name: "update sends only the flags that were set",
			args: []string{"clients", "update", "web", "-t", "acme", "--display-name", "Web", "--scopes", ""},
			replies: map[string]cannedReply{"PATCH /v1/tenants/acme/clients/web": {200,
				strings.Replace(clientWeb, "%s", "", 1)}},
			wantCalls:  []apiCall{{Method: "PATCH", Path: "/v1/tenants/acme/clients/web", Body: `{"display_name":"Web","scopes":[]}`}},
			wantStdout: clientDetail,
		},
		{
			name: "revoke-all names a subject by type and id",
			args: []string{"tokens", "revoke-all", "-t", "acme", "--subject", "kiosk-1", "--subject-type", "device"},
			replies: map[string]cannedReply{"POST /v1/tenants/acme/revocations": {201,
				`{"seq":7,"scope":"subject","subject_type":"device","key":"kiosk-1","cutoff":"2024-05-01T10:00:00.000001Z","until":null}`}},
			wantCalls: []apiCall{{Method: "POST", Path: "/v1/tenants/acme/revocations",
				Body: `{"key":"kiosk-1","scope":"subject","subject_type":"device"}`}},
			wantStdout: "seq:           7\nscope:         subject\nsubject_type:  device\nkey:           kiosk-1\n" +
				"cutoff:        2024-05-01T10:00:00.000001Z\nuntil:         -\n",
		},
		{
			name:       "revoke-all --subject without --subject-type fails before any request",
			args:       []string{"tokens", "revoke-all", "-t", "acme", "--subject", "kiosk-1"},
			wantCode:   1,
			wantStderr: "error: --subject and --subject-type go together (user, client, device or customer)\n",
		},
		{
			name:       "update without flags fails before any request",
			args:       []string{"groups", "update", "finance", "-t", "acme"},
			wantCode:   1,
			wantStderr: "error: nothing to update: pass at least one of --roles, --description\n",
		},
		{
			name: "keys rotate sends the algorithm",
			args: []string{"keys", "rotate", "-t", "acme", "--alg", "EdDSA"},
			replies: map[string]cannedReply{"POST /v1/tenants/acme/keys/rotate": {201,
				`{"kid":"k2","alg":"EdDSA","state":"active","created_at":"2024-05-01T10:00:00Z","retired_at":null,"publish_until":null}`}},
			wantCalls: []apiCall{{Method: "POST", Path: "/v1/tenants/acme/keys/rotate", Body: `{"alg":"EdDSA"}`}},
			wantStdout: "kid:            k2\nalg:            EdDSA\nstate:          active\ncreated_at:     2024-05-01T10:00:00Z\n" +
				"retired_at:     -\npublish_until:  -\n",
		},
		{
			name: "keys rotate --now asks for the emergency rotation",
			args: []string{"keys", "rotate", "-t", "acme", "--now"},
			replies: map[string]cannedReply{"POST /v1/tenants/acme/keys/rotate": {201,
				`{"kid":"k3","alg":"ES256","state":"active","created_at":"2024-05-01T10:00:00Z"}`}},
			wantCalls:  []apiCall{{Method: "POST", Path: "/v1/tenants/acme/keys/rotate", Body: `{"now":true}`}},
			wantStdout: "kid:         k3\nalg:         ES256\nstate:       active\ncreated_at:  2024-05-01T10:00:00Z\n",
		},
		{
			name: "keys rotate shows when the staged key signs",
			args: []string{"keys", "rotate", "-t", "acme"},
			replies: map[string]cannedReply{"POST /v1/tenants/acme/keys/rotate": {201,
				`{"kid":"k4","alg":"ES256","state":"next","created_at":"2024-05-01T10:00:00Z","activate_at":"2024-05-01T10:10:00Z"}`}},
			wantCalls:  []apiCall{{Method: "POST", Path: "/v1/tenants/acme/keys/rotate", Body: `{}`}},
			wantStdout: "kid:          k4\nalg:          ES256\nstate:        next\nactivate_at:  2024-05-01T10:10:00Z\ncreated_at:   2024-05-01T10:00:00Z\n",
		},
		{
			name:       "delete prints what was deleted",
			args:       []string{"roles", "delete", "billing-reader", "-t", "acme"},
			replies:    map[string]cannedReply{"DELETE /v1/tenants/acme/roles/billing-reader": {204, ""}},
			wantCalls:  []apiCall{{Method: "DELETE", Path: "/v1/tenants/acme/roles/billing-reader"}},
			wantStdout: "deleted role \"billing-reader\"\n",
		},
		{
			name: "API error becomes the command error",
			args: []string{"tenants", "create", "acme"},
			replies: map[string]cannedReply{"POST /v1/tenants": {409,
				`{"error":"conflict","error_description":"tenant \"acme\" already exists"}`}},
			wantCalls:  []apiCall{{Method: "POST", Path: "/v1/tenants", Body: `{"id":"acme"}`}},
			wantCode:   1,
			wantStderr: "error: 409 conflict: tenant \"acme\" already exists\n",
		},
		{
			name: "validation error names the field",
			args: []string{"projects", "update", "web", "-t", "acme", "--audience", "x"},
			replies: map[string]cannedReply{"PATCH /v1/tenants/acme/projects/web": {422,
				`{"error":"validation_failed","error_description":"must be a URL","field":"audience"}`}},
			wantCalls:  []apiCall{{Method: "PATCH", Path: "/v1/tenants/acme/projects/web", Body: `{"audience":"x"}`}},
			wantCode:   1,
			wantStderr: "error: 422 validation_failed: must be a URL (field audience)\n",
		},
		{
			name:       "missing token is a clear error and sends nothing",
			args:       []string{"whoami"},
			env:        map[string]string{"TOKEND_TOKEN": ""},
			wantCode:   1,
			wantStderr: "error: no admin token: pass --token or set TOKEND_TOKEN (tokend bootstrap prints one)\n",
		},
		{
			name:       "missing tenant is a clear error and sends nothing",
			args:       []string{"projects", "list"},
			wantCode:   1,
			wantStderr: "error: no tenant: pass --tenant/-t or set TOKEND_TENANT\n",
		},
		{
			name:       "bad --from is rejected before any request",
			args:       []string{"audit", "list", "-t", "acme", "--from", "yesterday"},
			wantCode:   1,
			wantStderr: "error: invalid --from \"yesterday\": want an RFC 3339 time such as 2024-05-01T00:00:00Z\n",
		},
		{
			name:      "unreachable endpoint names the endpoint",
			args:      []string{"whoami"},
			env:       map[string]string{"TOKEND_ENDPOINT": "{DEAD}"},
			wantCode:  1,
			stderrHas: "error: cannot reach tokend at {DEAD}: ",
		},
		{
			name: "audit verify broken chain exits 1",
			args: []string{"audit", "verify", "-t", "acme"},
			replies: map[string]cannedReply{"GET /v1/tenants/acme/audit/verify": {200,
				`{"ok":false,"events":42,"broken_at":17,"reason":"hash mismatch"}`}},
			wantCalls:  []apiCall{{Method: "GET", Path: "/v1/tenants/acme/audit/verify"}},
			wantCode:   1,
			wantStderr: "error: audit chain of tenant \"acme\" is broken at seq 17: hash mismatch (42 events checked)\n",
		},
		{
			name:       "audit verify intact chain exits 0",
			args:       []string{"audit", "verify", "-t", "acme"},
			replies:    map[string]cannedReply{"GET /v1/tenants/acme/audit/verify": {200, `{"ok":true,"events":42}`}},
			wantCalls:  []apiCall{{Method: "GET", Path: "/v1/tenants/acme/audit/verify"}},
			wantStdout: "audit chain of tenant \"acme\" is intact: 42 events verified\n",
		},
		{
			name:      "-o json prints the raw response pretty-printed",
			args:      []string{"tenants", "get", "acme", "-o", "json"},
			replies:   map[string]cannedReply{"GET /v1/tenants/acme": {200, `{"id":"acme","policy":{"access_ttl":600},"display_name":"Acme"}`}},
			wantCalls: []apiCall{{Method: "GET", Path: "/v1/tenants/acme"}},
			wantStdout: `{
  "id": "acme",
  "policy": {
    "access_ttl": 600
  },
  "display_name": "Acme"
}
`,
		},
		{
			name: "devices token sends every flag given and prints the token once",
			args: []string{"devices", "token", "kiosk-7", "-t", "acme", "--expires-in", "600", "--lifetime", "3600",
				"--eternal", "--rotate", "--scope", "orders:read orders:write", "--audience", "billing", "--format", "opaque"},
			replies: map[string]cannedReply{"POST /v1/tenants/acme/devices/kiosk-7/tokens": {201,
				`{"id":"tok_1","access_token":"tkd_at_s3cr3t","token_type":"Bearer","expires_in":600,
				"scope":"orders:read orders:write","lifetime_end":1767229200}`}},
			wantCalls: []apiCall{{Method: "POST", Path: "/v1/tenants/acme/devices/kiosk-7/tokens",
				Body: `{"expires_in":600,"lifetime":3600,"eternal":true,"rotate":true,"scope":"orders:read orders:write",
				"audience":"billing","format":"opaque"}`}},
			wantStdout: `id:            tok_1
token_type:    Bearer
expires_in:    600
lifetime_end:  1767229200 (2026-01-01T01:00:00Z)
scope:         orders:read orders:write

access_token: tkd_at_s3cr3t
Note: the access token is shown only this once; tokend keeps only its ledger row.
`,
		},
		{
			name:    "users token sends only the flags given",
			args:    []string{"users", "token", "usr_1", "--scope", "read", "--rotate=false"},
			env:     map[string]string{"TOKEND_TENANT": "acme"},
			replies: map[string]cannedReply{"POST /v1/tenants/acme/users/usr_1/tokens": {201, `{"id":"tok_2","access_token":"eyJhbGc","token_type":"Bearer","expires_in":1800,"scope":"read"}`}},
			wantCalls: []apiCall{{Method: "POST", Path: "/v1/tenants/acme/users/usr_1/tokens",
				Body: `{"scope":"read","rotate":false}`}},
			wantStdout: "id:          tok_2\ntoken_type:  Bearer\nexpires_in:  1800\nscope:       read\n\n" +
				"access_token: eyJhbGc\nNote: the access token is shown only this once; tokend keeps only its ledger row.\n",
		},
		{
			name:       "users token without flags sends an empty object",
			args:       []string{"users", "token", "usr_1", "-t", "acme", "-o", "json"},
			replies:    map[string]cannedReply{"POST /v1/tenants/acme/users/usr_1/tokens": {201, `{"id":"tok_3","access_token":"eyJx","lifetime_end":1767229200}`}},
			wantCalls:  []apiCall{{Method: "POST", Path: "/v1/tenants/acme/users/usr_1/tokens", Body: `{}`}},
			wantStdout: "{\n  \"id\": \"tok_3\",\n  \"access_token\": \"eyJx\",\n  \"lifetime_end\": 1767229200\n}\n",
			wantStderr: "Note: the access token is shown only this once; tokend keeps only its ledger row.\n",
		},
		{
			name:      "users token offers no --cookie",
			args:      []string{"users", "token", "usr_1", "-t", "acme", "--cookie"},
			wantCode:  1,
			stderrHas: "unknown flag: --cookie",
		},
		{
			name:       "devices token --expires-in 0 fails before any request",
			args:       []string{"devices", "token", "kiosk-7", "-t", "acme", "--expires-in", "0"},
			wantCode:   1,
			wantStderr: "error: invalid --expires-in 0: want seconds > 0\n",
		},
		{
			name:       "devices token bad --format fails before any request",
			args:       []string{"devices", "token", "kiosk-7", "-t", "acme", "--format", "paseto"},
			wantCode:   1,
			wantStderr: "error: invalid --format \"paseto\": want jwt or opaque\n",
		},
		{
			name: "devices signing-secret prints the secret once",
			args: []string{"devices", "signing-secret", "kiosk-7", "-t", "acme"},
			replies: map[string]cannedReply{"POST /v1/tenants/acme/devices/kiosk-7/signing-secret": {200,
				`{"device_id":"kiosk-7","signing_secret":"tkd_ss_s3cr3t"}`}},
			wantCalls: []apiCall{{Method: "POST", Path: "/v1/tenants/acme/devices/kiosk-7/signing-secret"}},
			wantStdout: `device_id:  kiosk-7

signing_secret: tkd_ss_s3cr3t
Note: the signing secret is shown only this once: store it now. It cannot be read back.
      It signs token requests (docs/tokens.md, "Signed token requests");
      "tokend devices signing-secret ID" replaces it with a new one.
`,
		},
		{
			name: "users signing-secret -o json prints the answer and the note on stderr",
			args: []string{"users", "signing-secret", "usr_1", "-t", "acme", "-o", "json"},
			replies: map[string]cannedReply{"POST /v1/tenants/acme/users/usr_1/signing-secret": {200,
				`{"user_id":"usr_1","signing_secret":"tkd_ss_u"}`}},
			wantCalls:  []apiCall{{Method: "POST", Path: "/v1/tenants/acme/users/usr_1/signing-secret"}},
			wantStdout: "{\n  \"user_id\": \"usr_1\",\n  \"signing_secret\": \"tkd_ss_u\"\n}\n",
			stderrHas:  "Note: the signing secret is shown only this once",
		},
		{
			name: "clients signing-secret",
			args: []string{"clients", "signing-secret", "web", "-t", "acme"},
			replies: map[string]cannedReply{"POST /v1/tenants/acme/clients/web/signing-secret": {200,
				`{"client_id":"web","signing_secret":"tkd_ss_c"}`}},
			wantCalls: []apiCall{{Method: "POST", Path: "/v1/tenants/acme/clients/web/signing-secret"}},
			wantStdout: `client_id:  web

signing_secret: tkd_ss_c
Note: the signing secret is shown only this once: store it now. It cannot be read back.
      It signs token requests (docs/tokens.md, "Signed token requests");
      "tokend clients signing-secret ID" replaces it with a new one.
`,
		},
		{
			name: "clients token sends kind, expiry, channels, origins and format",
			args: []string{"clients", "token", "shop", "-t", "acme", "--kind", "storefront", "--expires-at", "2100-01-01T01:00:00+01:00",
				"--channel-ids", "1,2", "--origins", "https://a.example,https://b.example", "--format", "jwt"},
			replies: map[string]cannedReply{"POST /v1/tenants/acme/clients/shop/tokens": {201,
				`{"id":"tok_4","token":"eyJzdG9yZQ","kind":"storefront","expires_at":4102444800}`}},
			wantCalls: []apiCall{{Method: "POST", Path: "/v1/tenants/acme/clients/shop/tokens",
				Body: `{"kind":"storefront","expires_at":4102444800,"channel_ids":[1,2],
				"allowed_cors_origins":["https://a.example","https://b.example"],"format":"jwt"}`}},
			wantStdout: `id:          tok_4
kind:        storefront
expires_at:  4102444800 (2100-01-01T00:00:00Z)

token: eyJzdG9yZQ
Note: the token is shown only this once; tokend keeps only its ledger row.
`,
		},
		{
			name:    "clients token +DURATION is relative to now; only given flags are sent",
			args:    []string{"clients", "token", "worker", "-t", "acme", "--kind", "private", "--expires-at", "+2h"},
			now:     time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC),
			replies: map[string]cannedReply{"POST /v1/tenants/acme/clients/worker/tokens": {201, `{"id":"tok_5","token":"tkd_at_p","kind":"private","expires_at":1893463200}`}},
			wantCalls: []apiCall{{Method: "POST", Path: "/v1/tenants/acme/clients/worker/tokens",
				Body: `{"kind":"private","expires_at":1893463200}`}},
			wantStdout: "id:          tok_5\nkind:        private\nexpires_at:  1893463200 (2030-01-01T02:00:00Z)\n\n" +
				"token: tkd_at_p\nNote: the token is shown only this once; tokend keeps only its ledger row.\n",
		},
		{
			name:    "clients token takes unix seconds",
			args:    []string{"clients", "token", "support", "-t", "acme", "--kind", "impersonation", "--expires-at", "1893456000", "-o", "json"},
			replies: map[string]cannedReply{"POST /v1/tenants/acme/clients/support/tokens": {201, `{"id":"tok_6","token":"t","kind":"impersonation","expires_at":1893456000}`}},
			wantCalls: []apiCall{{Method: "POST", Path: "/v1/tenants/acme/clients/support/tokens",
				Body: `{"kind":"impersonation","expires_at":1893456000}`}},
			wantStdout: "{\n  \"id\": \"tok_6\",\n  \"token\": \"t\",\n  \"kind\": \"impersonation\",\n  \"expires_at\": 1893456000\n}\n",
			wantStderr: "Note: the token is shown only this once; tokend keeps only its ledger row.\n",
		},
		{
			name:       "clients token bad --expires-at fails before any request",
			args:       []string{"clients", "token", "shop", "-t", "acme", "--kind", "storefront", "--expires-at", "tomorrow"},
			wantCode:   1,
			wantStderr: "error: invalid --expires-at \"tomorrow\": want unix seconds, an RFC 3339 time such as 2030-01-01T00:00:00Z, or +DURATION such as +2h\n",
		},
		{
			name:       "clients token negative --expires-at duration fails before any request",
			args:       []string{"clients", "token", "shop", "-t", "acme", "--kind", "storefront", "--expires-at", "+-1h"},
			wantCode:   1,
			wantStderr: "error: invalid --expires-at \"+-1h\": the duration must be positive\n",
		},
		{
			name:      "clients token without --expires-at fails before any request",
			args:      []string{"clients", "token", "shop", "-t", "acme", "--kind", "storefront"},
			wantCode:  1,
			stderrHas: `"expires-at" not set`,
		},
		{
			name: "clients token zero channel id fails before any request",
			args: []string{"clients", "token", "shop", "-t", "acme", "--kind", "storefront", "--expires-at", "+1h",
				"--channel-ids", "1,0"},
			wantCode:   1,
			wantStderr: "error: invalid --channel-ids: \"0\" is not a positive integer\n",
		},
		{
			name: "clients token non-numeric channel id fails before any request",
			args: []string{"clients", "token", "shop", "-t", "acme", "--kind", "storefront", "--expires-at", "+1h",
				"--channel-ids", "main"},
			wantCode:   1,
			wantStderr: "error: invalid --channel-ids: \"main\" is not a positive integer\n",
		},
		{
			name:       "clients token bad --kind fails before any request",
			args:       []string{"clients", "token", "shop", "-t", "acme", "--kind", "access", "--expires-at", "+1h"},
			wantCode:   1,
			wantStderr: "error: invalid --kind \"access\": want storefront, private or impersonation\n",
		},
		{
			name:       "invalid --output is rejected",
			args:       []string{"whoami", "-o", "yaml"},
			wantCode:   1,
			wantStderr: "error: invalid --output \"yaml\": want table or json\n",
		},
	}

	dead := httptest.NewServer(http.NotFoundHandler())
	deadURL := dead.URL
	dead.Close()

	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			api := &fakeAPI{t: t, replies: tc.replies}
			srv := httptest.NewServer(api)
			defer srv.Close()
			expand := func(s string) string {
				return strings.NewReplacer("{URL}", srv.URL, "{DEAD}", deadURL).Replace(s)
			}

			if !tc.now.IsZero() {
				old := timeNow
				timeNow = func() time.Time { return tc.now }
				t.Cleanup(func() { timeNow = old })
			}
			t.Setenv("TOKEND_ENDPOINT", srv.URL)
			t.Setenv("TOKEND_TOKEN", "tok")
			t.Setenv("TOKEND_TENANT", "")
			for k, v := range tc.env {
				t.Setenv(k, expand(v))
			}
			setStdin(t, tc.stdin)
			args := make([]string, len(tc.args))
			for i, a := range tc.args {
				args[i] = expand(a)
			}

			var stdout, stderr bytes.Buffer
			code := Main(args, &stdout, &stderr)

			if code != tc.wantCode {
				t.Errorf("exit code = %d, want %d (stderr %q)", code, tc.wantCode, stderr.String())
			}
			if got := stdout.String(); got != expand(tc.wantStdout) {
				t.Errorf("stdout:\n%s\nwant:\n%s", got, expand(tc.wantStdout))
			}
			if tc.stderrHas != "" {
				if !strings.Contains(stderr.String(), expand(tc.stderrHas)) {
					t.Errorf("stderr = %q, want it to contain %q", stderr.String(), expand(tc.stderrHas))
				}
			} else if got := stderr.String(); got != tc.wantStderr {
				t.Errorf("stderr = %q, want %q", got, tc.wantStderr)
			}
			if tc.secret != "" && (strings.Contains(stdout.String(), tc.secret) || strings.Contains(stderr.String(), tc.secret)) {
				t.Errorf("the secret %q was printed", tc.secret)
			}

			for i := range tc.wantCalls {
				if tc.wantCalls[i].Body != "" {
					tc.wantCalls[i].Body = canonicalJSON(t, tc.wantCalls[i].Body)
				}
			}
			if len(api.calls) != len(tc.wantCalls) || (len(tc.wantCalls) > 0 && !reflect.DeepEqual(api.calls, tc.wantCalls)) {
				t.Errorf("requests:\n%+v\nwant:\n%+v", api.calls, tc.wantCalls)
			}
			wantAuth := tc.wantAuth
			if wantAuth == "" {
				wantAuth = "Bearer tok"
			}
			for i, a := range api.auth {
				if a != wantAuth {
					t.Errorf("request %d: Authorization = %q, want %q", i, a, wantAuth)
				}
				if api.calls[i].Body != "" && api.ctype[i] != "application/json" {
					t.Errorf("request %d: Content-Type = %q, want application/json", i, api.ctype[i])
				}
			}
		})
	}
}

// setStdin makes os.Stdin read content for the rest of the test.
func setStdin(t *testing.T, content string) {
	t.Helper()
	f, err := os.CreateTemp(t.TempDir(), "stdin")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString(content); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		t.Fatal(err)
	}
	old := os.Stdin
	os.Stdin = f
	t.Cleanup(func() {
		os.Stdin = old
		f.Close()
	})
}

// TestAdminHelp checks that every admin command documents itself.
func TestAdminHelp(t *testing.T) {
	root := newRoot()
	var names []string
	for _, c := range root.Commands() {
		if c.GroupID != "admin" {
			continue
		}
		names = append(names, c.Name())
		cmds := append(c.Commands(), c)
		for _, sc := range cmds {
			if sc.Hidden || sc.Name() == "help" {
				continue
			}
			if sc.Short == "" {
				t.Errorf("%s: no Short", sc.CommandPath())
			}
			if sc.Example == "" {
				t.Errorf("%s: no Example", sc.CommandPath())
			}
			if sc.Runnable() && sc.Parent() != root && sc.Parent().PersistentFlags().Lookup("tenant") != nil &&
				!strings.Contains(sc.Long, "TOKEND_TENANT") {
				t.Errorf("%s: Long does not say where the tenant comes from", sc.CommandPath())
			}
		}
	}
	want := "audit clients devices groups keys projects roles surfaces tenants tokens trusted-issuers users whoami"
	sort.Strings(names)
	if got := strings.Join(names, " "); got != want {
		t.Errorf("admin commands = %q, want %q", got, want)
	}
}
