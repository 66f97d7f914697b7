package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
)

const defaultEndpoint = "http://127.0.0.1:8080"

// connectionHelp is appended to the Long text of every admin command.
const connectionHelp = `Connection: --endpoint (or TOKEND_ENDPOINT; default ` + defaultEndpoint + `)
is the server's base URL, and --token (or TOKEND_TOKEN) is required: an admin
token, such as the tkd_adm_... key printed by "tokend bootstrap" or by
"tokend serve --dev". -o json prints the API's JSON response instead of a table.`

// tenantHelp is appended to the Long text of tenant-scoped commands.
const tenantHelp = `The tenant is required: pass --tenant/-t or set TOKEND_TENANT.`

// adminCommands returns the commands that call the admin API.
func adminCommands() []*cobra.Command {
	cmds := make([]*cobra.Command, 0, len(resources)+5)
	for _, r := range resources {
		cmds = append(cmds, crudCommand(r))
	}
	return append(cmds, keysCommand(), tokensCommand(), auditCommand(), surfacesCommand(), issuersCommand(), whoamiCommand())
}

// resources are the admin API's CRUD resources, one command each, in the
// order adminCommands adds them.
var resources = []resource{
	tenantsResource, projectsResource, clientsResource, usersResource,
	devicesResource, rolesResource, groupsResource,
}

// adminClient calls the admin API.
type adminClient struct {
	ctx      context.Context
	endpoint string
	token    string
	http     *http.Client
}

// apiError is an error answer of the admin API.
type apiError struct {
	Status      int    `json:"-"`
	Code        string `json:"error"`
	Description string `json:"error_description"`
	Field       string `json:"field"`
}

func (e *apiError) Error() string {
	msg := strconv.Itoa(e.Status) + " " + e.Code
	if e.Description != "" {
		msg += ": " + e.Description
	}
	if e.Field != "" && !strings.Contains(e.Description, e.Field) {
		msg += " (field " + e.Field + ")"
	}
	return msg
}

// do sends a request to path (below the endpoint) with query and body (JSON
// encoded when not nil) and decodes a successful answer into out (when not
// nil; a *json.RawMessage keeps the answer as is).
func (c *adminClient) do(method, path string, query url.Values, body, out any) error {
	u := strings.TrimRight(c.endpoint, "/") + path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	ctx := c.ctx
	if ctx == nil {
		ctx = context.Background()
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	hc := c.http
	if hc == nil {
		hc = &http.Client{Timeout: 60 * time.Second}
	}
	resp, err := hc.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return fmt.Errorf("cannot reach tokend at %s: %w", c.endpoint, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return fmt.Errorf("reading answer from %s: %w", c.endpoint, err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		ae := &apiError{}
		if json.Unmarshal(data, ae) != nil || ae.Code == "" {
			ae = &apiError{Code: strings.ToLower(http.StatusText(resp.StatusCode))}
			if s := strings.TrimSpace(string(data)); s != "" && len(s) < 300 {
				ae.Description = s
			}
		}
		ae.Status = resp.StatusCode
		return ae
	}
	if out == nil || len(bytes.TrimSpace(data)) == 0 {
		return nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("unexpected answer from %s %s: %w", method, path, err)
	}
	return nil
}

// adminOptions are the connection flags of one admin command tree.
type adminOptions struct {
	endpoint string
	token    string
	output   string
	tenant   string
}

func addAdminFlags(cmd *cobra.Command, o *adminOptions, tenantScoped bool) {
	pf := cmd.PersistentFlags()
	pf.StringVar(&o.endpoint, "endpoint", defaultEndpoint, "admin API base URL (env TOKEND_ENDPOINT)")
	pf.StringVar(&o.token, "token", "", "admin bearer token (env TOKEND_TOKEN; required)")
	pf.StringVarP(&o.output, "output", "o", "table", "output format: table or json")
	if tenantScoped {
		pf.StringVarP(&o.tenant, "tenant", "t", "", "tenant to act on (env TOKEND_TENANT; required)")
	}
}

// flagOrEnv returns the flag's value when it was set, else the environment
// variable when not empty, else the flag's default.
func flagOrEnv(cmd *cobra.Command, name, val, env string) string {
	if cmd.Flags().Changed(name) {
		return val
	}
	if v := os.Getenv(env); v != "" {
		return v
	}
	return val
}

// session is what a running admin command works with.
type session struct {
	c      *adminClient
	out    io.Writer
	errOut io.Writer
	json   bool
	tenant string
}

func (o *adminOptions) connect(cmd *cobra.Command, needTenant bool) (*session, error) {
	endpoint := flagOrEnv(cmd, "endpoint", o.endpoint, "TOKEND_ENDPOINT")
	u, err := url.Parse(endpoint)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("invalid endpoint %q: want a URL such as %s", endpoint, defaultEndpoint)
	}
	token := flagOrEnv(cmd, "token", o.token, "TOKEND_TOKEN")
	if token == "" {
		return nil, errors.New("no admin token: pass --token or set TOKEND_TOKEN (tokend bootstrap prints one)")
	}
	if o.output != "table" && o.output != "json" {
		return nil, fmt.Errorf("invalid --output %q: want table or json", o.output)
	}
	s := &session{
		c:      &adminClient{ctx: cmd.Context(), endpoint: endpoint, token: token},
		out:    cmd.OutOrStdout(),
		errOut: cmd.ErrOrStderr(),
		json:   o.output == "json",
	}
	if needTenant {
		s.tenant = flagOrEnv(cmd, "tenant", o.tenant, "TOKEND_TENANT")
		if s.tenant == "" {
			return nil, errors.New("no tenant: pass --tenant/-t or set TOKEND_TENANT")
		}
	}
	return s, nil
}

// tenantPath is /v1/tenants/{tenant}/{rest}.
func (s *session) tenantPath(rest ...string) string {
	p := "/v1/tenants/" + url.PathEscape(s.tenant)
	for _, r := range rest {
		p += "/" + r
	}
	return p
}

func (s *session) printJSON(raw []byte) error {
	var buf bytes.Buffer
	if err := json.Indent(&buf, raw, "", "  "); err != nil {
		return err
	}
	buf.WriteByte('\n')
	_, err := s.out.Write(buf.Bytes())
	return err
}

// column is one column of a list table.
type column struct {
	header string
	key    string
}

// decodeObject decodes a JSON object keeping numbers as written.
func decodeObject(raw []byte) (map[string]any, error) {
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	var m map[string]any
	if err := d.Decode(&m); err != nil {
		return nil, fmt.Errorf("unexpected answer: %w", err)
	}
	return m, nil
}

// cell renders a JSON value for a table.
func cell(v any) string {
	var s string
	switch x := v.(type) {
	case nil:
		return "-"
	case string:
		s = x
	case bool:
		s = strconv.FormatBool(x)
	case json.Number:
		s = x.String()
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = cell(e)
		}
		s = strings.Join(parts, ",")
	default:
		b, _ := json.Marshal(x)
		s = string(b)
	}
	if s == "" {
		return "-"
	}
	return strings.NewReplacer("\t", " ", "\n", " ", "\r", " ").Replace(s)
}

func newTable(w io.Writer) *tabwriter.Writer { return tabwriter.NewWriter(w, 0, 0, 2, ' ', 0) }

// printTable prints items as a table of cols.
func (s *session) printTable(items []json.RawMessage, cols []column) error {
	tw := newTable(s.out)
	h := make([]string, len(cols))
	for i, c := range cols {
		h[i] = c.header
	}
	fmt.Fprintln(tw, strings.Join(h, "\t"))
	for _, it := range items {
		m, err := decodeObject(it)
		if err != nil {
			return err
		}
		row := make([]string, len(cols))
		for i, c := range cols {
			row[i] = cell(m[c.key])
		}
		fmt.Fprintln(tw, strings.Join(row, "\t"))
	}
	return tw.Flush()
}

// printObject prints one object: in JSON, or as "key: value" lines (the keys
// of order first, then any others sorted). secretKey, when present in the
// answer, is printed last with a note that it is shown only once.
func (s *session) printObject(raw []byte, order []string, secretKey, secretNote string) error {
	m, err := decodeObject(raw)
	if err != nil {
		return err
	}
	_, hasSecret := m[secretKey]
	hasSecret = hasSecret && secretKey != ""
	if s.json {
		if err := s.printJSON(raw); err != nil {
			return err
		}
		if hasSecret {
			fmt.Fprintln(s.errOut, "Note:", secretNote)
		}
		return nil
	}
	seen := map[string]bool{secretKey: true}
	keys := make([]string, 0, len(m))
	for _, k := range order {
		if _, ok := m[k]; ok && !seen[k] {
			keys = append(keys, k)
			seen[k] = true
		}
	}
	var rest []string
	for k := range m {
		if !seen[k] {
			rest = append(rest, k)
		}
	}
	sort.Strings(rest)
	keys = append(keys, rest...)
	tw := newTable(s.out)
	for _, k := range keys {
		fmt.Fprintf(tw, "%s:\t%s\n", k, cell(m[k]))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if hasSecret {
		fmt.Fprintf(s.out, "\n%s: %s\nNote: %s\n", secretKey, cell(m[secretKey]), secretNote)
	}
	return nil
}
