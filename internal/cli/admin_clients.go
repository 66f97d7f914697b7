package cli

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
)

// clientsResource is "tokend clients".
var clientsResource = resource{
	name: "clients", singular: "client", aliases: []string{"client"},
	short:        "Manage a tenant's OAuth clients",
	long:         "Manage a tenant's OAuth clients: who may ask for tokens, with which grant types,\nscopes and audiences.",
	tenantScoped: true,
	idArg:        "ID", idKey: "id", sample: "web", createID: idOptional,
	columns: []column{{"ID", "id"}, {"DISPLAY NAME", "display_name"}, {"GRANT TYPES", "grant_types"},
		{"SCOPES", "scopes"}, {"PUBLIC", "public"}, {"DISABLED", "disabled"}},
	detail: []string{"id", "display_name", "grant_types", "scopes", "audiences", "kinds", "policy",
		"public", "disabled", "secret_alg", "secret_ref", "created_at", "updated_at"},
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
		{flag: "secret-hash-stdin", key: "secret_hash", kind: fieldStdin, createOnly: true,
			usage: "read the hash of the client's secret imported from another system (argon2id, or bcrypt as PHP's password_hash makes it) from stdin"},
		{flag: "secret-ref", key: "secret_ref", kind: fieldJSON,
			usage: "where the secret lives instead (docs/vault.md), as JSON: backend, mount, path, field, version, project"},
	},
	createExample: `  # generated secret, printed once:
  tokend clients create billing-worker -t acme --grant-types client_credentials --scopes invoices:read
  # a secret you chose, read from stdin:
  printf '%s' "$SECRET" | tokend clients create web -t acme --secret-stdin --grant-types authorization_code
  # a public client (no secret):
  tokend clients create spa -t acme --public --grant-types authorization_code
  # a secret held in Vault (seed 002's layout; see docs/vault.md):
  tokend clients create billing -t acme --secret-ref '{"backend":"vault","mount":"kv","path":"secret/{tenant}/{project}/{client}","field":"secret_id","project":"api"}'`,
	updateExample: `  tokend clients update web -t acme --scopes openid,profile,email
  tokend clients update web -t acme --disabled`,
	secretKey: "client_secret", rotate: true, signingSecret: true, kindTokens: true,
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
