package cli

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
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
	return append(cmds, keysCommand(), tokensCommand(), auditCommand(), whoamiCommand())
}

// ---------------------------------------------------------------------------
// HTTP client

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

// ---------------------------------------------------------------------------
// Connection flags and output

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

// ---------------------------------------------------------------------------
// Listing

// filter is a list flag passed on as a query parameter.
type filter struct {
	flag, param, usage string
	kind               filterKind
}

type filterKind int

const (
	filterString filterKind = iota
	filterBool              // sent as "true" when set
	filterTime              // an RFC 3339 time
)

// listSpec describes a list command.
type listSpec struct {
	what     string // plural noun for help texts
	path     func(s *session) string
	columns  []column
	filters  []filter
	tenant   bool
	example  string
	extraDoc string
}

func listCommand(o *adminOptions, ls listSpec) *cobra.Command {
	var limit int
	var after string
	var all bool
	long := "List " + ls.what + ". Results come a page at a time (--limit, default 100 per page);\n" +
		"--all follows the pages to the end, --after CURSOR starts after a page."
	if ls.extraDoc != "" {
		long += "\n\n" + ls.extraDoc
	}
	if ls.tenant {
		long += "\n\n" + tenantHelp
	}
	cmd := &cobra.Command{
		Use:     "list",
		Aliases: []string{"ls"},
		Short:   "List " + ls.what,
		Long:    long,
		Example: ls.example,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			s, err := o.connect(cmd, ls.tenant)
			if err != nil {
				return err
			}
			q := url.Values{}
			if cmd.Flags().Changed("limit") {
				if limit < 1 || limit > 1000 {
					return fmt.Errorf("invalid --limit %d: want 1 to 1000", limit)
				}
				q.Set("limit", strconv.Itoa(limit))
			}
			if after != "" {
				q.Set("after", after)
			}
			for _, f := range ls.filters {
				if !cmd.Flags().Changed(f.flag) {
					continue
				}
				switch f.kind {
				case filterBool:
					if v, _ := cmd.Flags().GetBool(f.flag); v {
						q.Set(f.param, "true")
					}
				case filterTime:
					v, _ := cmd.Flags().GetString(f.flag)
					if _, err := time.Parse(time.RFC3339, v); err != nil {
						return fmt.Errorf("invalid --%s %q: want an RFC 3339 time such as 2024-05-01T00:00:00Z", f.flag, v)
					}
					q.Set(f.param, v)
				default:
					v, _ := cmd.Flags().GetString(f.flag)
					q.Set(f.param, v)
				}
			}
			return s.list(ls.path(s), q, all, ls.columns)
		},
	}
	fs := cmd.Flags()
	fs.IntVar(&limit, "limit", 100, "items per page (1-1000)")
	fs.StringVar(&after, "after", "", "start after this cursor (the \"next\" of a previous page)")
	fs.BoolVar(&all, "all", false, "follow the pages until the last one")
	for _, f := range ls.filters {
		if f.kind == filterBool {
			fs.Bool(f.flag, false, f.usage)
		} else {
			fs.String(f.flag, "", f.usage)
		}
	}
	return cmd
}

// list gets path with q, following "next" when all is set, and prints the items.
func (s *session) list(path string, q url.Values, all bool, cols []column) error {
	var items []json.RawMessage
	var next string
	for {
		var raw json.RawMessage
		if err := s.c.do(http.MethodGet, path, q, nil, &raw); err != nil {
			return err
		}
		var page struct {
			Items []json.RawMessage `json:"items"`
			Next  string            `json:"next"`
		}
		if err := json.Unmarshal(raw, &page); err != nil {
			return fmt.Errorf("unexpected answer from GET %s: %w", path, err)
		}
		if !all && s.json {
			return s.printJSON(raw)
		}
		items = append(items, page.Items...)
		next = page.Next
		if !all || next == "" {
			break
		}
		if next == q.Get("after") {
			return fmt.Errorf("server returned the same cursor %q twice", next)
		}
		q.Set("after", next)
	}
	if s.json {
		if items == nil {
			items = []json.RawMessage{}
		}
		b, err := json.Marshal(map[string]any{"items": items})
		if err != nil {
			return err
		}
		return s.printJSON(b)
	}
	if err := s.printTable(items, cols); err != nil {
		return err
	}
	if next != "" {
		fmt.Fprintf(s.errOut, "(more results: add --all, or --after %s)\n", next)
	}
	return nil
}

// ---------------------------------------------------------------------------
// CRUD resources

// field is a writable field of a resource, set by a flag.
type field struct {
	flag, key, usage string
	kind             fieldKind
	createOnly       bool
	required         bool // on create
}

type fieldKind int

const (
	fieldString fieldKind = iota
	fieldList             // comma separated; "" sends an empty list
	fieldBool
	fieldJSON  // a JSON object
	fieldStdin // a bool flag: read the value's first line from stdin
)

type idMode int

const (
	idRequired idMode = iota
	idOptional        // generated by the server when absent
	idNone            // always generated by the server
)

// resource describes a resource with list, get, create, update and delete.
type resource struct {
	name, singular string
	aliases        []string
	short, long    string
	tenantScoped   bool
	idArg, idKey   string // "ID"/"id" or "NAME"/"name"
	sample         string // a sample id for examples
	createID       idMode
	columns        []column
	detail         []string // field order of get/create/update output
	fields         []field
	filters        []filter
	createExample  string
	updateExample  string
	listExample    string
	secretKey      string // shown-once secret in the create answer
	rotate         bool   // has rotate-secret (POST .../{id}/secret)
	signingSecret  bool   // has signing-secret (POST .../{id}/signing-secret)
	subjectTokens  bool   // has token: a device or user token (POST .../{id}/tokens)
	kindTokens     bool   // has token: a storefront, private or impersonation token (POST .../{id}/tokens)
}

func (r resource) path(s *session, id string) string {
	var p string
	if r.tenantScoped {
		p = s.tenantPath(r.name)
	} else {
		p = "/v1/" + r.name
	}
	if id != "" {
		p += "/" + url.PathEscape(id)
	}
	return p
}

func (r resource) example(sub, args string) string {
	t := ""
	if r.tenantScoped {
		t = " -t acme"
	}
	return "  tokend " + r.name + " " + sub + " " + args + t
}

func (r resource) secretNote() string {
	return "the " + strings.ReplaceAll(r.secretKey, "_", " ") + " is shown only this once: store it now. It cannot be read back;\n" +
		"      \"tokend " + r.name + " rotate-secret " + r.idArg + "\" replaces it with a new one."
}

func crudCommand(r resource) *cobra.Command {
	o := &adminOptions{}
	long := r.long + "\n\n" + connectionHelp
	if r.tenantScoped {
		long += "\n\n" + tenantHelp
	}
	cmd := &cobra.Command{
		Use:     r.name,
		Aliases: r.aliases,
		Short:   r.short,
		Long:    long,
		Example: r.example("list", "") + "\n" + r.example("get", r.sample),
	}
	addAdminFlags(cmd, o, r.tenantScoped)
	listEx := r.listExample
	if listEx == "" {
		listEx = r.example("list", "") + "\n" + r.example("list", "--all -o json")
	}
	cmd.AddCommand(
		listCommand(o, listSpec{
			what: r.name, columns: r.columns, filters: r.filters, tenant: r.tenantScoped, example: listEx,
			path: func(s *session) string { return r.path(s, "") },
		}),
		r.getCommand(o), r.createCommand(o), r.updateCommand(o), r.deleteCommand(o))
	if r.rotate {
		cmd.AddCommand(r.rotateCommand(o))
	}
	if r.signingSecret {
		cmd.AddCommand(r.signingSecretCommand(o))
	}
	if r.subjectTokens {
		cmd.AddCommand(r.subjectTokenCommand(o))
	}
	if r.kindTokens {
		cmd.AddCommand(r.kindTokenCommand(o))
	}
	return cmd
}

func (r resource) scopedLong(text string) string {
	if r.tenantScoped {
		return text + "\n\n" + tenantHelp
	}
	return text
}

func (r resource) getCommand(o *adminOptions) *cobra.Command {
	return &cobra.Command{
		Use:     "get " + r.idArg,
		Aliases: []string{"show"},
		Short:   "Show one " + r.singular,
		Long:    r.scopedLong("Show one " + r.singular + " by its " + strings.ToLower(r.idArg) + "."),
		Example: r.example("get", r.sample) + "\n" + r.example("get", r.sample+" -o json"),
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			s, err := o.connect(cmd, r.tenantScoped)
			if err != nil {
				return err
			}
			var raw json.RawMessage
			if err := s.c.do(http.MethodGet, r.path(s, args[0]), nil, nil, &raw); err != nil {
				return err
			}
			return s.printObject(raw, r.detail, "", "")
		},
	}
}

func (r resource) createCommand(o *adminOptions) *cobra.Command {
	use := "create"
	args := cobra.NoArgs
	text := "Create a " + r.singular + "."
	switch r.createID {
	case idRequired:
		use += " " + r.idArg
		args = cobra.ExactArgs(1)
	case idOptional:
		use += " [" + r.idArg + "]"
		args = cobra.MaximumNArgs(1)
		text += " Without " + r.idArg + ", the server generates one."
	case idNone:
		text += " The server generates its id."
	}
	text += " Only the flags you pass are sent; the server fills in defaults."
	if r.secretKey != "" {
		text += "\n\nThe answer carries a generated " + strings.ReplaceAll(r.secretKey, "_", " ") +
			", printed this once: store it."
	}
	cmd := &cobra.Command{
		Use:     use,
		Aliases: []string{"add"},
		Short:   "Create a " + r.singular,
		Long:    r.scopedLong(text),
		Example: r.createExample,
		Args:    args,
		RunE: func(cmd *cobra.Command, args []string) error {
			s, err := o.connect(cmd, r.tenantScoped)
			if err != nil {
				return err
			}
			body, err := buildBody(cmd, r.fields, true)
			if err != nil {
				return err
			}
			if len(args) == 1 {
				body[r.idKey] = args[0]
			}
			var raw json.RawMessage
			if err := s.c.do(http.MethodPost, r.path(s, ""), nil, body, &raw); err != nil {
				return err
			}
			return s.printObject(raw, r.detail, r.secretKey, r.secretNote())
		},
	}
	addFieldFlags(cmd, r.fields, true)
	return cmd
}

func (r resource) updateCommand(o *adminOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:     "update " + r.idArg,
		Aliases: []string{"set"},
		Short:   "Change a " + r.singular,
		Long: r.scopedLong("Change a " + r.singular + ". Only the flags you pass are sent and changed; a list\n" +
			"flag replaces the whole list (--flag \"\" empties it)."),
		Example: r.updateExample,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			s, err := o.connect(cmd, r.tenantScoped)
			if err != nil {
				return err
			}
			body, err := buildBody(cmd, r.fields, false)
			if err != nil {
				return err
			}
			if len(body) == 0 {
				var names []string
				for _, f := range r.fields {
					if !f.createOnly {
						names = append(names, "--"+f.flag)
					}
				}
				return fmt.Errorf("nothing to update: pass at least one of %s", strings.Join(names, ", "))
			}
			var raw json.RawMessage
			if err := s.c.do(http.MethodPatch, r.path(s, args[0]), nil, body, &raw); err != nil {
				return err
			}
			return s.printObject(raw, r.detail, "", "")
		},
	}
	addFieldFlags(cmd, r.fields, false)
	return cmd
}

func (r resource) deleteCommand(o *adminOptions) *cobra.Command {
	text := "Delete a " + r.singular + "."
	if !r.tenantScoped {
		text += " This deletes everything in it."
	}
	return &cobra.Command{
		Use:     "delete " + r.idArg,
		Aliases: []string{"rm"},
		Short:   "Delete a " + r.singular,
		Long:    r.scopedLong(text),
		Example: r.example("delete", r.sample),
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			s, err := o.connect(cmd, r.tenantScoped)
			if err != nil {
				return err
			}
			if err := s.c.do(http.MethodDelete, r.path(s, args[0]), nil, nil, nil); err != nil {
				return err
			}
			if !s.json {
				fmt.Fprintf(s.out, "deleted %s %q\n", r.singular, args[0])
			}
			return nil
		},
	}
}

func (r resource) rotateCommand(o *adminOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "rotate-secret " + r.idArg,
		Short: "Replace a " + r.singular + "'s secret with a new generated one",
		Long: r.scopedLong("Generate a new secret for a " + r.singular + " and print it once. The old secret\n" +
			"stops working at once."),
		Example: r.example("rotate-secret", r.sample),
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			s, err := o.connect(cmd, r.tenantScoped)
			if err != nil {
				return err
			}
			var raw json.RawMessage
			if err := s.c.do(http.MethodPost, r.path(s, args[0])+"/secret", nil, nil, &raw); err != nil {
				return err
			}
			return s.printObject(raw, nil, r.secretKey, r.secretNote())
		},
	}
}

// accessTokenNote is printed with an access token shown once.
const accessTokenNote = "the access token is shown only this once; tokend keeps only its ledger row."

// checkFormat checks a --format value.
// setFormat puts --format in body when it was given, after checking it.
func setFormat(fs *pflag.FlagSet, body map[string]any, format string) error {
	if !fs.Changed("format") {
		return nil
	}
	if format != "jwt" && format != "opaque" {
		return fmt.Errorf("invalid --format %q: want jwt or opaque", format)
	}
	body["format"] = format
	return nil
}

// postIssued posts body to the /tokens endpoint of one resource and prints
// the token it answers with, shown once.
func (o *adminOptions) postIssued(cmd *cobra.Command, r resource, id string, body map[string]any, fields, unixKeys []string, valueKey, note string) error {
	s, err := o.connect(cmd, r.tenantScoped)
	if err != nil {
		return err
	}
	var raw json.RawMessage
	if err := s.c.do(http.MethodPost, r.path(s, id)+"/tokens", nil, body, &raw); err != nil {
		return err
	}
	return s.printIssued(raw, fields, unixKeys, valueKey, note)
}

// printIssued prints an answer that carries a token or secret shown once. In
// a table, the unixKeys (unix seconds) are followed by their RFC 3339 time;
// -o json prints the answer as it came.
func (s *session) printIssued(raw []byte, order, unixKeys []string, secretKey, note string) error {
	if !s.json && len(unixKeys) > 0 {
		m, err := decodeObject(raw)
		if err != nil {
			return err
		}
		for _, k := range unixKeys {
			n, ok := m[k].(json.Number)
			if !ok {
				continue
			}
			if sec, err := n.Int64(); err == nil {
				m[k] = n.String() + " (" + time.Unix(sec, 0).UTC().Format(time.RFC3339) + ")"
			}
		}
		if raw, err = json.Marshal(m); err != nil {
			return err
		}
	}
	return s.printObject(raw, order, secretKey, note)
}

func (r resource) signingSecretCommand(o *adminOptions) *cobra.Command {
	text := "Generate a signing secret for a " + r.singular + " and print it once. With it, the " + r.singular + "\n" +
		"signs its own token requests (an HMAC-SHA256 of POST /t/TENANT/tokens/generate;\n" +
		"see \"Signed token requests\" in docs/tokens.md) instead of sending a password\n" +
		"or secret. tokend stores it encrypted; a previous signing secret stops working\n" +
		"at once."
	if r.name == "clients" {
		text += "\n\nA tenant owner (a client allowed tokend:admin) signs with its own signing secret\n" +
			"and names the device or user in run_as."
	}
	return &cobra.Command{
		Use:     "signing-secret " + r.idArg,
		Short:   "Give a " + r.singular + " a new signing secret for signed token requests",
		Long:    r.scopedLong(text),
		Example: r.example("signing-secret", r.sample) + "\n" + r.example("signing-secret", r.sample+" -o json"),
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			s, err := o.connect(cmd, r.tenantScoped)
			if err != nil {
				return err
			}
			var raw json.RawMessage
			if err := s.c.do(http.MethodPost, r.path(s, args[0])+"/signing-secret", nil, nil, &raw); err != nil {
				return err
			}
			return s.printObject(raw, []string{r.singular + "_id"}, "signing_secret",
				"the signing secret is shown only this once: store it now. It cannot be read back.\n"+
					"      It signs token requests (docs/tokens.md, \"Signed token requests\");\n"+
					"      \"tokend "+r.name+" signing-secret "+r.idArg+"\" replaces it with a new one.")
		},
	}
}

// subjectTokenCommand is "token ID" of devices and users: an access token
// whose subject is the device or user, issued by the admin.
func (r resource) subjectTokenCommand(o *adminOptions) *cobra.Command {
	var expiresIn, lifetime int64
	var eternal, rotate bool
	var scope, audience, format string
	cmd := &cobra.Command{
		Use:   "token " + r.idArg,
		Short: "Issue an access token for a " + r.singular,
		Long: r.scopedLong("Issue an access token for a " + r.singular + ", within the scopes it has and the tenant's\n" +
			"policy; the token records you, the admin, as its actor. Only the flags you pass\n" +
			"are sent; the server fills in the rest from the policy. A token has an expiry\n" +
			"(--expires-in seconds, default access_ttl) and a lifetime (--lifetime seconds,\n" +
			"default lifetime): it can be renewed until lifetime_end. --eternal asks for a\n" +
			"token without expiry, where the policy sets allow_eternal. --rotate revokes every\n" +
			"earlier token of the " + r.singular + " first. The token is printed once."),
		Example: "  tokend " + r.name + " token " + r.sample + " -t acme --expires-in 600 --lifetime 3600\n" +
			"  tokend " + r.name + " token " + r.sample + " -t acme --scope \"orders:read orders:write\" --audience billing --rotate\n" +
			"  tokend " + r.name + " token " + r.sample + " -t acme --eternal --format opaque -o json",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			fs := cmd.Flags()
			body := map[string]any{}
			if fs.Changed("expires-in") {
				if expiresIn <= 0 {
					return fmt.Errorf("invalid --expires-in %d: want seconds > 0", expiresIn)
				}
				body["expires_in"] = expiresIn
			}
			if fs.Changed("lifetime") {
				if lifetime <= 0 {
					return fmt.Errorf("invalid --lifetime %d: want seconds > 0", lifetime)
				}
				body["lifetime"] = lifetime
			}
			if fs.Changed("eternal") {
				body["eternal"] = eternal
			}
			if fs.Changed("rotate") {
				body["rotate"] = rotate
			}
			if fs.Changed("scope") {
				body["scope"] = scope
			}
			if fs.Changed("audience") {
				body["audience"] = audience
			}
			if err := setFormat(fs, body, format); err != nil {
				return err
			}
			return o.postIssued(cmd, r, args[0], body, []string{"id", "token_type", "expires_in", "lifetime_end", "scope"},
				[]string{"lifetime_end"}, "access_token", accessTokenNote)
		},
	}
	f := cmd.Flags()
	f.Int64Var(&expiresIn, "expires-in", 0, "expiry in seconds (default: the tenant's access_ttl)")
	f.Int64Var(&lifetime, "lifetime", 0, "seconds from now until which the token can be renewed (default: the tenant's lifetime)")
	f.BoolVar(&eternal, "eternal", false, "a token without expiry (where the policy sets allow_eternal)")
	f.BoolVar(&rotate, "rotate", false, "revoke every earlier token of the "+r.singular+" first")
	f.StringVar(&scope, "scope", "", `space separated scopes, e.g. "a b"`)
	f.StringVar(&audience, "audience", "", "audience of the token")
	f.StringVar(&format, "format", "", "jwt or opaque (default: the tenant's policy)")
	return cmd
}

// mintKinds are the token kinds "clients token" issues.
var mintKinds = []string{"storefront", "private", "impersonation"}

// kindTokenCommand is "clients token ID": a storefront, private or
// impersonation token for a client.
func (r resource) kindTokenCommand(o *adminOptions) *cobra.Command {
	var kind, expiresAt, format string
	var channelIDs, origins []string
	cmd := &cobra.Command{
		Use:   "token " + r.idArg,
		Short: "Issue a storefront, private or impersonation token for a client",
		Long: r.scopedLong("Issue a storefront, private or impersonation token for a client (see \"Token\n" +
			"kinds\" in docs/tokens.md), as the client itself could with the scope\n" +
			"tokend:mint:<kind>. --expires-at is required: unix seconds, an RFC 3339 time, or\n" +
			"+DURATION from now (Go duration syntax: +2h, +90m, +24h). --channel-ids are the\n" +
			"channels the token may be used on (positive integers, comma separated);\n" +
			"--origins are the browser origins (scheme://host[:port]) a storefront token may\n" +
			"be used from. Only the flags you pass are sent. The token is printed once."),
		Example: `  tokend clients token shop -t acme --kind storefront --expires-at +24h --channel-ids 1,2 --origins https://shop.example.com
  tokend clients token billing-worker -t acme --kind private --expires-at 2030-01-01T00:00:00Z --format opaque
  tokend clients token support -t acme --kind impersonation --expires-at 1893456000 -o json`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			fs := cmd.Flags()
			if !slices.Contains(mintKinds, kind) {
				return fmt.Errorf("invalid --kind %q: want storefront, private or impersonation", kind)
			}
			exp, err := parseExpiresAt(expiresAt, timeNow())
			if err != nil {
				return err
			}
			body := map[string]any{"kind": kind, "expires_at": exp}
			if fs.Changed("channel-ids") {
				ids := make([]int64, 0, len(channelIDs))
				for _, c := range channelIDs {
					id, err := strconv.ParseInt(strings.TrimSpace(c), 10, 64)
					if err != nil || id <= 0 {
						return fmt.Errorf("invalid --channel-ids: %q is not a positive integer", c)
					}
					ids = append(ids, id)
				}
				body["channel_ids"] = ids
			}
			if fs.Changed("origins") {
				if origins == nil {
					origins = []string{}
				}
				body["allowed_cors_origins"] = origins
			}
			if err := setFormat(fs, body, format); err != nil {
				return err
			}
			return o.postIssued(cmd, r, args[0], body, []string{"id", "kind", "expires_at"}, []string{"expires_at"}, "token",
				"the token is shown only this once; tokend keeps only its ledger row.")
		},
	}
	f := cmd.Flags()
	f.StringVar(&kind, "kind", "", "storefront, private or impersonation (required)")
	f.StringVar(&expiresAt, "expires-at", "", "when the token expires: unix seconds, RFC 3339, or +DURATION such as +2h (required)")
	f.StringSliceVar(&channelIDs, "channel-ids", nil, "channels the token may be used on, comma separated positive integers")
	f.StringSliceVar(&origins, "origins", nil, "browser origins a storefront token may be used from, comma separated")
	f.StringVar(&format, "format", "", "jwt or opaque (default: the tenant's policy)")
	_ = cmd.MarkFlagRequired("kind")
	_ = cmd.MarkFlagRequired("expires-at")
	return cmd
}

// timeNow is the clock of relative --expires-at values (tests fix it).
var timeNow = time.Now

// maxUnixSeconds is 9999-12-31T23:59:59Z: larger values are likely
// milliseconds.
const maxUnixSeconds = 253402300799

// parseExpiresAt parses --expires-at: unix seconds, an RFC 3339 time, or
// +DURATION after now. It returns unix seconds.
func parseExpiresAt(v string, now time.Time) (int64, error) {
	bad := func(why string) error {
		return fmt.Errorf("invalid --expires-at %q: %s", v, why)
	}
	const want = "want unix seconds, an RFC 3339 time such as 2030-01-01T00:00:00Z, or +DURATION such as +2h"
	switch {
	case strings.HasPrefix(v, "+"):
		d, err := time.ParseDuration(v[1:])
		if err != nil {
			return 0, bad(want)
		}
		if d <= 0 {
			return 0, bad("the duration must be positive")
		}
		t := now.Add(d)
		sec := t.Unix()
		if t.Nanosecond() > 0 {
			sec++ // round up: never earlier than asked
		}
		return sec, nil
	case v != "" && strings.Trim(v, "0123456789") == "":
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n > maxUnixSeconds {
			return 0, bad("too large for unix seconds (milliseconds?)")
		}
		if n == 0 {
			return 0, bad(want)
		}
		return n, nil
	default:
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			return 0, bad(want)
		}
		return t.Unix(), nil
	}
}

func addFieldFlags(cmd *cobra.Command, fields []field, create bool) {
	fs := cmd.Flags()
	for _, f := range fields {
		if f.createOnly && !create {
			continue
		}
		switch f.kind {
		case fieldList:
			fs.StringSlice(f.flag, nil, f.usage)
		case fieldBool, fieldStdin:
			fs.Bool(f.flag, false, f.usage)
		default:
			fs.String(f.flag, "", f.usage)
		}
		if create && f.required {
			_ = cmd.MarkFlagRequired(f.flag)
		}
	}
}

// buildBody returns the JSON body of the fields whose flags were set.
func buildBody(cmd *cobra.Command, fields []field, create bool) (map[string]any, error) {
	fs := cmd.Flags()
	body := map[string]any{}
	for _, f := range fields {
		if (f.createOnly && !create) || !fs.Changed(f.flag) {
			continue
		}
		switch f.kind {
		case fieldString:
			body[f.key], _ = fs.GetString(f.flag)
		case fieldList:
			v, _ := fs.GetStringSlice(f.flag)
			if v == nil {
				v = []string{}
			}
			body[f.key] = v
		case fieldBool:
			body[f.key], _ = fs.GetBool(f.flag)
		case fieldJSON:
			v, _ := fs.GetString(f.flag)
			if !json.Valid([]byte(v)) || !strings.HasPrefix(strings.TrimSpace(v), "{") {
				return nil, fmt.Errorf("invalid --%s: want a JSON object such as '{\"key\":\"value\"}'", f.flag)
			}
			body[f.key] = json.RawMessage(v)
		case fieldStdin:
			if v, _ := fs.GetBool(f.flag); v {
				secret, err := readSecretLine(cmd.InOrStdin(), f.key)
				if err != nil {
					return nil, err
				}
				body[f.key] = secret
			}
		}
	}
	return body, nil
}

// readSecretLine reads the first line of r, without its line ending.
func readSecretLine(r io.Reader, what string) (string, error) {
	line, err := bufio.NewReader(r).ReadString('\n')
	if err != nil && err != io.EOF {
		return "", fmt.Errorf("reading the %s from stdin: %w", what, err)
	}
	line = strings.TrimRight(line, "\r\n")
	if line == "" {
		return "", fmt.Errorf("no %s on stdin: pipe it in, e.g. printf '%%s' \"$SECRET\" | tokend ...", what)
	}
	return line, nil
}

var (
	fDisplayName = field{flag: "display-name", key: "display_name", usage: "human readable name"}
	fDescription = field{flag: "description", key: "description", usage: "what it is for"}
	fDisabled    = field{flag: "disabled", key: "disabled", kind: fieldBool, usage: "disable it (--disabled=false enables it again)"}
	fRoles       = field{flag: "roles", key: "roles", kind: fieldList, usage: "role names, comma separated"}
	fScopes      = field{flag: "scopes", key: "scopes", kind: fieldList, usage: "scopes, comma separated"}
)

var resources = []resource{
	{
		name: "tenants", singular: "tenant", aliases: []string{"tenant"},
		short: "Manage tenants (system admin)",
		long:  "Manage tenants. Every tenant has its own issuer, signing keys, clients, users\nand policy. A tenant admin may only read its own tenant.",
		idArg: "ID", idKey: "id", sample: "acme", createID: idRequired,
		columns: []column{{"ID", "id"}, {"DISPLAY NAME", "display_name"}, {"ISSUER", "issuer"}, {"CREATED", "created_at"}},
		detail:  []string{"id", "display_name", "issuer", "policy", "created_at", "updated_at"},
		fields: []field{fDisplayName, {flag: "policy", key: "policy", kind: fieldJSON,
			usage: `policy as a JSON object, e.g. '{"signing_alg":"EdDSA","access_ttl":900}'`}},
		createExample: `  tokend tenants create acme --display-name "Acme Inc."
  tokend tenants create acme --policy '{"signing_alg":"EdDSA","access_ttl":900,"format":"jwt"}'`,
		updateExample: `  tokend tenants update acme --display-name "Acme Corp"
  tokend tenants update acme --policy '{"access_ttl":600,"password_grant":true}'`,
	},
	{
		name: "projects", singular: "project", aliases: []string{"project"},
		short:        "Manage a tenant's projects (token audiences)",
		long:         "Manage a tenant's projects. A project's audience (default: its id) is the\n\"aud\" of tokens issued for it and is unique in the tenant.",
		tenantScoped: true,
		idArg:        "ID", idKey: "id", sample: "billing", createID: idRequired,
		columns:       []column{{"ID", "id"}, {"AUDIENCE", "audience"}, {"DISPLAY NAME", "display_name"}, {"CREATED", "created_at"}},
		detail:        []string{"id", "display_name", "audience", "created_at", "updated_at"},
		fields:        []field{fDisplayName, {flag: "audience", key: "audience", usage: "token audience (default: the id)"}},
		createExample: `  tokend projects create billing -t acme --audience https://billing.acme.example --display-name Billing`,
		updateExample: `  tokend projects update billing -t acme --display-name "Billing API"`,
	},
	{
		name: "clients", singular: "client", aliases: []string{"client"},
		short:        "Manage a tenant's OAuth clients",
		long:         "Manage a tenant's OAuth clients: who may ask for tokens, with which grant types,\nscopes and audiences.",
		tenantScoped: true,
		idArg:        "ID", idKey: "id", sample: "web", createID: idOptional,
		columns: []column{{"ID", "id"}, {"DISPLAY NAME", "display_name"}, {"GRANT TYPES", "grant_types"},
			{"SCOPES", "scopes"}, {"PUBLIC", "public"}, {"DISABLED", "disabled"}},
		detail: []string{"id", "display_name", "grant_types", "scopes", "audiences", "kinds", "policy",
			"public", "disabled", "secret_alg", "created_at", "updated_at"},
		fields: []field{
			fDisplayName,
			{flag: "grant-types", key: "grant_types", kind: fieldList, usage: "grant types, comma separated (e.g. client_credentials,refresh_token)"},
			fScopes,
			{flag: "audiences", key: "audiences", kind: fieldList, usage: "audiences it may ask for, comma separated"},
			{flag: "kinds", key: "kinds", kind: fieldList, usage: "token kinds it may ask for, comma separated"},
			{flag: "policy", key: "policy", kind: fieldJSON, usage: "client policy as a JSON object"},
			{flag: "public", key: "public", kind: fieldBool, usage: "a public client, without secret"},
			fDisabled,
			{flag: "secret-stdin", key: "secret", kind: fieldStdin, createOnly: true,
				usage: "read a chosen secret (at least 8 characters) from stdin instead of generating one"},
		},
		createExample: `  # generated secret, printed once:
  tokend clients create billing-worker -t acme --grant-types client_credentials --scopes invoices:read
  # a secret you chose, read from stdin:
  printf '%s' "$SECRET" | tokend clients create web -t acme --secret-stdin --grant-types authorization_code
  # a public client (no secret):
  tokend clients create spa -t acme --public --grant-types authorization_code`,
		updateExample: `  tokend clients update web -t acme --scopes openid,profile,email
  tokend clients update web -t acme --disabled`,
		secretKey: "client_secret", rotate: true, signingSecret: true, kindTokens: true,
	},
	{
		name: "users", singular: "user", aliases: []string{"user"},
		short:        "Manage a tenant's users",
		long:         "Manage a tenant's users. Logins are normalised (trimmed, lowercased) and unique\nin the tenant. Passwords are read from stdin, never from a flag.",
		tenantScoped: true,
		idArg:        "ID", idKey: "id", sample: "usr_123", createID: idNone,
		columns: []column{{"ID", "id"}, {"LOGIN", "login"}, {"DISPLAY NAME", "display_name"},
			{"ROLES", "roles"}, {"GROUPS", "groups"}, {"DISABLED", "disabled"}},
		detail: []string{"id", "login", "display_name", "roles", "groups", "disabled", "has_password", "created_at", "updated_at"},
		fields: []field{
			{flag: "login", key: "login", required: true, usage: "login name, e.g. an email address"},
			fDisplayName, fRoles,
			{flag: "groups", key: "groups", kind: fieldList, usage: "group names, comma separated"},
			fDisabled,
			{flag: "password-stdin", key: "password", kind: fieldStdin, usage: "read the password (at least 8 characters) from stdin"},
		},
		filters:     []filter{{flag: "login", param: "login", usage: "find the user with this login"}},
		listExample: "  tokend users list -t acme\n  tokend users list -t acme --login alice@example.com",
		createExample: `  tokend users create -t acme --login alice@example.com --display-name Alice --roles admin
  printf '%s' "$PASSWORD" | tokend users create -t acme --login bob@example.com --password-stdin`,
		updateExample: `  tokend users update usr_123 -t acme --roles admin,billing
  printf '%s' "$PASSWORD" | tokend users update usr_123 -t acme --password-stdin`,
		signingSecret: true, subjectTokens: true,
	},
	{
		name: "devices", singular: "device", aliases: []string{"device"},
		short:        "Manage a tenant's devices (stores, kiosks, services)",
		long:         "Manage a tenant's devices: machines that get tokens with their own secret.",
		tenantScoped: true,
		idArg:        "ID", idKey: "id", sample: "kiosk-7", createID: idOptional,
		columns: []column{{"ID", "id"}, {"TYPE", "type"}, {"DISPLAY NAME", "display_name"},
			{"ROLES", "roles"}, {"DISABLED", "disabled"}},
		detail: []string{"id", "display_name", "type", "roles", "metadata", "disabled", "created_at", "updated_at"},
		fields: []field{
			{flag: "type", key: "type", required: true, usage: "store, kiosk, device or service"},
			fDisplayName, fRoles,
			{flag: "metadata", key: "metadata", kind: fieldJSON, usage: `metadata as a JSON object, e.g. '{"site":"berlin"}'`},
			fDisabled,
		},
		createExample: `  tokend devices create kiosk-7 -t acme --type kiosk --roles checkout --metadata '{"site":"berlin"}'`,
		updateExample: `  tokend devices update kiosk-7 -t acme --disabled`,
		secretKey:     "device_secret", rotate: true, signingSecret: true, subjectTokens: true,
	},
	{
		name: "roles", singular: "role", aliases: []string{"role"},
		short:        "Manage a tenant's roles (scopes and resources)",
		long:         "Manage a tenant's roles. A role grants scopes on resources to the users,\ndevices and groups that have it.",
		tenantScoped: true,
		idArg:        "NAME", idKey: "name", sample: "billing-reader", createID: idRequired,
		columns:       []column{{"NAME", "name"}, {"DESCRIPTION", "description"}, {"SCOPES", "scopes"}, {"RESOURCES", "resources"}},
		detail:        []string{"name", "description", "scopes", "resources", "created_at", "updated_at"},
		fields:        []field{fScopes, {flag: "resources", key: "resources", kind: fieldList, usage: "resources, comma separated"}, fDescription},
		createExample: `  tokend roles create billing-reader -t acme --scopes invoices:read --resources billing --description "Read invoices"`,
		updateExample: `  tokend roles update billing-reader -t acme --scopes invoices:read,invoices:export`,
	},
	{
		name: "groups", singular: "group", aliases: []string{"group"},
		short:        "Manage a tenant's groups (sets of roles)",
		long:         "Manage a tenant's groups. A user in a group has the group's roles.",
		tenantScoped: true,
		idArg:        "NAME", idKey: "name", sample: "finance", createID: idRequired,
		columns:       []column{{"NAME", "name"}, {"DESCRIPTION", "description"}, {"ROLES", "roles"}},
		detail:        []string{"name", "description", "roles", "created_at", "updated_at"},
		fields:        []field{fRoles, fDescription},
		createExample: `  tokend groups create finance -t acme --roles billing-reader --description "Finance team"`,
		updateExample: `  tokend groups update finance -t acme --roles billing-reader,billing-admin`,
	},
}

// ---------------------------------------------------------------------------
// Keys, tokens, audit, whoami

func keysCommand() *cobra.Command {
	o := &adminOptions{}
	cmd := &cobra.Command{
		Use:     "keys",
		Aliases: []string{"key"},
		Short:   "List and rotate a tenant's signing keys",
		Long:    "List and rotate a tenant's token signing keys (never key material).\n\n" + connectionHelp + "\n\n" + tenantHelp,
		Example: "  tokend keys list -t acme\n  tokend keys rotate -t acme --alg EdDSA",
	}
	addAdminFlags(cmd, o, true)
	var alg string
	rotate := &cobra.Command{
		Use:   "rotate",
		Short: "Create a new signing key and retire the current one",
		Long: "Create a new signing key; the previous key is retired and stays published until\n" +
			"every token it signed has expired. --alg defaults to the tenant's signing_alg.\n\n" + tenantHelp,
		Example: "  tokend keys rotate -t acme\n  tokend keys rotate -t acme --alg EdDSA",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			s, err := o.connect(cmd, true)
			if err != nil {
				return err
			}
			body := map[string]any{}
			if cmd.Flags().Changed("alg") {
				body["alg"] = alg
			}
			var raw json.RawMessage
			if err := s.c.do(http.MethodPost, s.tenantPath("keys", "rotate"), nil, body, &raw); err != nil {
				return err
			}
			return s.printObject(raw, []string{"kid", "alg", "state", "created_at", "retired_at", "publish_until"}, "", "")
		},
	}
	rotate.Flags().StringVar(&alg, "alg", "", "signing algorithm: ES256, EdDSA, RS256 or HS256")
	cmd.AddCommand(listCommand(o, listSpec{
		what: "signing keys", tenant: true, example: "  tokend keys list -t acme",
		columns: []column{{"KID", "kid"}, {"ALG", "alg"}, {"STATE", "state"}, {"CREATED", "created_at"},
			{"RETIRED", "retired_at"}, {"PUBLISH UNTIL", "publish_until"}},
		path: func(s *session) string { return s.tenantPath("keys") },
	}), rotate)
	return cmd
}

var tokenRowFields = []string{"id", "kind", "format", "subject_type", "subject", "client_id", "session_id",
	"actor", "audience", "scope", "issued_at", "expires_at", "revoked_at"}

func tokensCommand() *cobra.Command {
	o := &adminOptions{}
	cmd := &cobra.Command{
		Use:     "tokens",
		Aliases: []string{"token"},
		Short:   "List, inspect, create and revoke a tenant's tokens",
		Long: "Work with a tenant's token ledger: every issued token has a row (never the token\nvalue).\n\n" +
			connectionHelp + "\n\n" + tenantHelp,
		Example: "  tokend tokens list -t acme --active\n  tokend tokens create -t acme --client-id admin --scope tokend:admin",
	}
	addAdminFlags(cmd, o, true)

	oneRow := func(use, short, long, example, method, suffix string) *cobra.Command {
		return &cobra.Command{
			Use: use, Short: short, Long: long + "\n\n" + tenantHelp, Example: example,
			Args: cobra.ExactArgs(1),
			RunE: func(cmd *cobra.Command, args []string) error {
				s, err := o.connect(cmd, true)
				if err != nil {
					return err
				}
				p := s.tenantPath("tokens", url.PathEscape(args[0])) + suffix
				var raw json.RawMessage
				if err := s.c.do(method, p, nil, nil, &raw); err != nil {
					return err
				}
				return s.printObject(raw, tokenRowFields, "", "")
			},
		}
	}

	var clientID, scope, audience, format string
	var expiresIn int
	create := &cobra.Command{
		Use:   "create",
		Short: "Issue an access token for a client",
		Long: "Issue an access token for a client, with scopes within the client's allowed\n" +
			"scopes. This is how a tenant admin token is made: a client allowed\n" +
			"tokend:admin, and --scope tokend:admin. The token is printed once.\n\n" + tenantHelp,
		Example: `  tokend tokens create -t acme --client-id admin --scope tokend:admin --format opaque
  tokend tokens create -t acme --client-id billing-worker --scope "invoices:read invoices:write" --audience billing --expires-in 3600`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			s, err := o.connect(cmd, true)
			if err != nil {
				return err
			}
			fs := cmd.Flags()
			body := map[string]any{"client_id": clientID}
			if fs.Changed("scope") {
				body["scope"] = scope
			}
			if fs.Changed("audience") {
				body["audience"] = audience
			}
			if fs.Changed("expires-in") {
				if expiresIn <= 0 {
					return fmt.Errorf("invalid --expires-in %d: want seconds > 0", expiresIn)
				}
				body["expires_in"] = expiresIn
			}
			if err := setFormat(fs, body, format); err != nil {
				return err
			}
			var raw json.RawMessage
			if err := s.c.do(http.MethodPost, s.tenantPath("tokens"), nil, body, &raw); err != nil {
				return err
			}
			return s.printObject(raw, []string{"id", "token_type", "expires_in", "scope"}, "access_token", accessTokenNote)
		},
	}
	cf := create.Flags()
	cf.StringVar(&clientID, "client-id", "", "client the token is for (required)")
	cf.StringVar(&scope, "scope", "", `space separated scopes, e.g. "a b"`)
	cf.StringVar(&audience, "audience", "", "audience of the token")
	cf.IntVar(&expiresIn, "expires-in", 0, "lifetime in seconds (default: the tenant's policy)")
	cf.StringVar(&format, "format", "", "jwt or opaque (default: the tenant's policy)")
	_ = create.MarkFlagRequired("client-id")

	var bySubject, bySession, byClient string
	var wholeTenant bool
	revokeBefore := &cobra.Command{
		Use:   "revoke-all",
		Short: "Revoke every token of a subject, session, client or tenant issued before now",
		Long: "Revoke, in one step, every token issued before this instant to one subject,\n" +
			"one session (a login and its refresh family), one client, or the whole\n" +
			"tenant. Tokens issued after the instant stay valid, even within the same\n" +
			"second. Give exactly one of the flags.\n\n" + tenantHelp,
		Example: "  tokend tokens revoke-all -t acme --subject usr_123\n  tokend tokens revoke-all -t acme --client billing\n  tokend tokens revoke-all -t acme --tenant-wide",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var body []map[string]any
			for _, c := range []struct {
				scope, key string
				set        bool
			}{
				{"subject", bySubject, bySubject != ""}, {"session", bySession, bySession != ""},
				{"client", byClient, byClient != ""}, {"tenant", "", wholeTenant},
			} {
				if c.set {
					body = append(body, map[string]any{"scope": c.scope, "key": c.key})
				}
			}
			if len(body) != 1 {
				return fmt.Errorf("give exactly one of --subject, --session, --client or --tenant-wide")
			}
			s, err := o.connect(cmd, true)
			if err != nil {
				return err
			}
			var raw json.RawMessage
			if err := s.c.do(http.MethodPost, s.tenantPath("revocations"), nil, body[0], &raw); err != nil {
				return err
			}
			return s.printObject(raw, []string{"seq", "scope", "key", "cutoff", "until"}, "", "")
		},
	}
	rf := revokeBefore.Flags()
	rf.StringVar(&bySubject, "subject", "", "revoke every token of this subject (user, client or device id)")
	rf.StringVar(&bySession, "session", "", "revoke every token of this session (sid)")
	rf.StringVar(&byClient, "client", "", "revoke every token issued to this client")
	rf.BoolVar(&wholeTenant, "tenant-wide", false, "revoke every token of the tenant")

	cmd.AddCommand(
		revokeBefore,
		listCommand(o, listSpec{
			what: "ledger rows of issued tokens", tenant: true,
			example: "  tokend tokens list -t acme --active\n  tokend tokens list -t acme --subject usr_123 --all",
			columns: []column{{"ID", "id"}, {"KIND", "kind"}, {"SUBJECT", "subject"}, {"CLIENT", "client_id"},
				{"SCOPE", "scope"}, {"EXPIRES", "expires_at"}, {"REVOKED", "revoked_at"}},
			filters: []filter{
				{flag: "subject", param: "subject", usage: "only tokens of this subject"},
				{flag: "client-id", param: "client_id", usage: "only tokens of this client"},
				{flag: "kind", param: "kind", usage: "only tokens of this kind (e.g. access, refresh)"},
				{flag: "active", param: "active", kind: filterBool, usage: "only tokens neither expired nor revoked"},
			},
			path: func(s *session) string { return s.tenantPath("tokens") },
		}),
		oneRow("inspect ID", "Show one token's ledger row", "Show the ledger row of one token by its id.",
			"  tokend tokens inspect tok_123 -t acme", http.MethodGet, ""),
		create,
		oneRow("revoke ID", "Revoke a token", "Revoke a token by its id and show its revoked row.",
			"  tokend tokens revoke tok_123 -t acme", http.MethodPost, "/revoke"),
	)
	return cmd
}

func auditCommand() *cobra.Command {
	o := &adminOptions{}
	cmd := &cobra.Command{
		Use:   "audit",
		Short: "Read and verify a tenant's audit log",
		Long: "Read a tenant's audit log and verify its hash chain.\n\n" +
			connectionHelp + "\n\n" + tenantHelp,
		Example: "  tokend audit list -t acme --from 2024-05-01T00:00:00Z --action token.issue\n  tokend audit verify -t acme",
	}
	addAdminFlags(cmd, o, true)
	verify := &cobra.Command{
		Use:   "verify",
		Short: "Check the audit log's hash chain",
		Long: "Check that the audit log's hash chain is unbroken. Exits 1 with the first\n" +
			"broken event when it is not, so it can run in monitoring.\n\n" + tenantHelp,
		Example: "  tokend audit verify -t acme",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			s, err := o.connect(cmd, true)
			if err != nil {
				return err
			}
			var raw json.RawMessage
			if err := s.c.do(http.MethodGet, s.tenantPath("audit", "verify"), nil, nil, &raw); err != nil {
				return err
			}
			m, err := decodeObject(raw)
			if err != nil {
				return err
			}
			if s.json {
				if err := s.printJSON(raw); err != nil {
					return err
				}
			}
			if ok, _ := m["ok"].(bool); !ok {
				return &exitError{code: 1, err: fmt.Errorf("audit chain of tenant %q is broken at seq %s: %s (%s events checked)",
					s.tenant, cell(m["broken_at"]), cell(m["reason"]), cell(m["events"]))}
			}
			if !s.json {
				fmt.Fprintf(s.out, "audit chain of tenant %q is intact: %s events verified\n", s.tenant, cell(m["events"]))
			}
			return nil
		},
	}
	cmd.AddCommand(listCommand(o, listSpec{
		what: "audit events", tenant: true,
		extraDoc: "Events come oldest first (by seq); --from and --to are RFC 3339 times.",
		example:  "  tokend audit list -t acme --from 2024-05-01T00:00:00Z --to 2024-05-02T00:00:00Z\n  tokend audit list -t acme --actor usr_123 --all -o json",
		columns: []column{{"SEQ", "seq"}, {"TIME", "time"}, {"ACTION", "action"}, {"OUTCOME", "outcome"},
			{"ACTOR", "actor"}, {"SUBJECT", "subject"}, {"CLIENT", "client_id"}},
		filters: []filter{
			{flag: "from", param: "from", kind: filterTime, usage: "events at or after this RFC 3339 time"},
			{flag: "to", param: "to", kind: filterTime, usage: "events before this RFC 3339 time"},
			{flag: "action", param: "action", usage: "only this action"},
			{flag: "actor", param: "actor", usage: "only events by this actor"},
			{flag: "subject", param: "subject", usage: "only events about this subject"},
			{flag: "client-id", param: "client_id", usage: "only events of this client"},
		},
		path: func(s *session) string { return s.tenantPath("audit") },
	}), verify)
	return cmd
}

func whoamiCommand() *cobra.Command {
	o := &adminOptions{}
	cmd := &cobra.Command{
		Use:     "whoami",
		Short:   "Show who the admin token belongs to",
		Long:    "Show the tenant, subject and scope of the admin token.\n\n" + connectionHelp,
		Example: "  tokend whoami --token \"$TOKEND_TOKEN\"\n  tokend whoami -o json",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			s, err := o.connect(cmd, false)
			if err != nil {
				return err
			}
			var raw json.RawMessage
			if err := s.c.do(http.MethodGet, "/v1/whoami", nil, nil, &raw); err != nil {
				return err
			}
			return s.printObject(raw, []string{"tenant", "subject", "subject_type", "client_id", "scope", "system_admin", "token_id"}, "", "")
		},
	}
	addAdminFlags(cmd, o, false)
	return cmd
}
