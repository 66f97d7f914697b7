package cli

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"

	"github.com/spf13/cobra"
)

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

	var bySubject, subjectType, bySession, byClient string
	var wholeTenant bool
	revokeBefore := &cobra.Command{
		Use:   "revoke-all",
		Short: "Revoke every token of a subject, session, client or tenant issued before now",
		Long: "Revoke, in one step, every token issued before this instant to one subject,\n" +
			"one session (a login and its refresh family), one client, or the whole\n" +
			"tenant. Tokens issued after the instant stay valid, even within the same\n" +
			"second. Give exactly one of the flags; a subject is named by its type and\n" +
			"id (device kiosk-1 and client kiosk-1 are two subjects).\n\n" + tenantHelp,
		Example: "  tokend tokens revoke-all -t acme --subject-type user --subject usr_123\n" +
			"  tokend tokens revoke-all -t acme --client billing\n  tokend tokens revoke-all -t acme --tenant-wide",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if (bySubject != "") != (subjectType != "") {
				return fmt.Errorf("--subject and --subject-type go together (user, client, device or customer)")
			}
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
			if bySubject != "" {
				body[0]["subject_type"] = subjectType
			}
			s, err := o.connect(cmd, true)
			if err != nil {
				return err
			}
			var raw json.RawMessage
			if err := s.c.do(http.MethodPost, s.tenantPath("revocations"), nil, body[0], &raw); err != nil {
				return err
			}
			return s.printObject(raw, []string{"seq", "scope", "subject_type", "key", "cutoff", "until"}, "", "")
		},
	}
	rf := revokeBefore.Flags()
	rf.StringVar(&bySubject, "subject", "", "revoke every token of this subject (a user, client, device or customer id; with --subject-type)")
	rf.StringVar(&subjectType, "subject-type", "", "type of the --subject: user, client, device or customer")
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
				{flag: "subject-type", param: "subject_type", usage: "only tokens of subjects of this type (user, client, device, customer)"},
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
