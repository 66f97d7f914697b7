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
		secretKey: "client_secret", rotate: true,
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
		secretKey:     "device_secret", rotate: true,
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
			if fs.Changed("format") {
				if format != "jwt" && format != "opaque" {
					return fmt.Errorf("invalid --format %q: want jwt or opaque", format)
				}
				body["format"] = format
			}
			var raw json.RawMessage
			if err := s.c.do(http.MethodPost, s.tenantPath("tokens"), nil, body, &raw); err != nil {
				return err
			}
			return s.printObject(raw, []string{"id", "token_type", "expires_in", "scope"}, "access_token",
				"the access token is shown only this once; tokend keeps only its ledger row.")
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
