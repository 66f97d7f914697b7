package cli

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strings"

	"github.com/spf13/cobra"
)

// issuersCommand is "tokend trusted-issuers": the external OpenID Connect
// issuers a tenant accepts tokens of (RFC 8693 token exchange, RFC 7523
// jwt-bearer).
func issuersCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:     "trusted-issuers",
		Aliases: []string{"trusted-issuer", "issuers"},
		Short:   "Manage the external issuers a tenant trusts for token exchange",
		Long: `A trusted issuer is another OpenID Connect or OAuth 2.0 provider whose ID
tokens, JWT access tokens (checked with its published keys) or opaque
tokens (checked by RFC 7662 introspection) a tenant exchanges for its own
tokens. Each names the accepted audiences (compared exactly), the allowed
signing algorithms (never none or HS*), which claim names the tenant user,
and how external groups and roles map to the tenant's. See
docs/federation.md.

` + tenantHelp + "\n\n" + connectionHelp,
		Example: "  tokend trusted-issuers create corp -t acme --issuer https://id.example.com/ --audience tokend --alg RS256\n  tokend trusted-issuers list -t acme",
	}
	list := &cobra.Command{Use: "list", Short: "List a tenant's trusted issuers", Args: cobra.NoArgs, Example: "  tokend trusted-issuers list -t acme"}
	lo := &adminOptions{}
	list.RunE = func(cmd *cobra.Command, _ []string) error {
		s, err := lo.connect(cmd, true)
		if err != nil {
			return err
		}
		var raw json.RawMessage
		if err := s.c.do(http.MethodGet, s.tenantPath("trusted-issuers"), nil, nil, &raw); err != nil {
			return err
		}
		if s.json {
			return s.printJSON(raw)
		}
		var page struct {
			Items []json.RawMessage `json:"items"`
		}
		if err := json.Unmarshal(raw, &page); err != nil {
			return err
		}
		return s.printTable(page.Items, []column{{"ID", "id"}, {"ISSUER", "issuer"}, {"AUDIENCES", "audiences"}, {"ALGORITHMS", "algorithms"}, {"USER CLAIM", "user_claim"}})
	}
	addAdminFlags(list, lo, true)

	get := &cobra.Command{Use: "get ID", Short: "Show one trusted issuer", Args: cobra.ExactArgs(1), Example: "  tokend trusted-issuers get corp -t acme"}
	gopt := &adminOptions{}
	get.RunE = func(cmd *cobra.Command, args []string) error {
		s, err := gopt.connect(cmd, true)
		if err != nil {
			return err
		}
		var raw json.RawMessage
		if err := s.c.do(http.MethodGet, s.tenantPath("trusted-issuers", url.PathEscape(args[0])), nil, nil, &raw); err != nil {
			return err
		}
		return s.printObject(raw, issuerOrder, "", "")
	}
	addAdminFlags(get, gopt, true)

	create := issuerWrite("create", "Trust an external issuer", http.MethodPost)
	replace := issuerWrite("replace", "Replace every setting of a trusted issuer", http.MethodPut)

	del := &cobra.Command{Use: "delete ID", Short: "Stop trusting an issuer (tokens exchanged stay valid until they expire or are revoked)", Args: cobra.ExactArgs(1),
		Example: "  tokend trusted-issuers delete corp -t acme"}
	do := &adminOptions{}
	del.RunE = func(cmd *cobra.Command, args []string) error {
		s, err := do.connect(cmd, true)
		if err != nil {
			return err
		}
		if err := s.c.do(http.MethodDelete, s.tenantPath("trusted-issuers", url.PathEscape(args[0])), nil, nil, nil); err != nil {
			return err
		}
		fmt.Fprintf(s.out, "trusted issuer %s deleted from tenant %s\n", args[0], s.tenant)
		return nil
	}
	addAdminFlags(del, do, true)
	cmd.AddCommand(list, get, create, replace, del)
	return cmd
}

var issuerOrder = []string{"id", "issuer", "audiences", "algorithms", "user_claim", "require_email_verified", "create_users",
	"default_roles", "default_groups", "groups_claim", "group_map", "roles_claim", "role_map", "max_age", "introspection_url",
	"introspection_client_id", "has_introspection_secret", "disabled", "created_at", "updated_at"}

// issuerWrite is "create ID" or "replace ID": the settings from flags, or
// the whole object from --spec (inline JSON or @FILE).
func issuerWrite(use, short, method string) *cobra.Command {
	c := &cobra.Command{Use: use + " ID", Short: short, Args: cobra.ExactArgs(1),
		Example: "  tokend trusted-issuers " + use + " corp -t acme --issuer https://id.example.com/ --audience tokend --alg RS256 --user-claim email --require-email-verified\n" +
			"  tokend trusted-issuers " + use + " corp -t acme --spec @corp.json",
		Long: short + `. Flags give the common settings; --spec gives the whole
object as the admin API takes it (JSON, or @FILE), e.g. with group_map.
The introspection secret is read from --introspection-secret-file, never
from the command line.`}
	o := &adminOptions{}
	var (
		spec, issuer, userClaim, introURL, introClient, introSecretFile string
		auds, algs, roles, groups                                       []string
		emailVerified, createUsers, disabled                            bool
		maxAge                                                          int64
	)
	f := c.Flags()
	f.StringVar(&spec, "spec", "", "the whole trusted issuer as JSON, or @FILE (other setting flags are then ignored)")
	f.StringVar(&issuer, "issuer", "", "issuer URL, exactly as its tokens' iss")
	f.StringSliceVar(&auds, "audience", nil, "accepted audience (repeatable; at least one)")
	f.StringSliceVar(&algs, "alg", []string{"RS256"}, "allowed signing algorithm (repeatable; never none or HS*)")
	f.StringVar(&userClaim, "user-claim", "sub", "claim naming the tenant user's login: sub, email or another")
	f.BoolVar(&emailVerified, "require-email-verified", false, "refuse tokens whose email_verified is not true")
	f.BoolVar(&createUsers, "create-users", false, "create unknown users on first exchange")
	f.StringSliceVar(&roles, "default-role", nil, "role of users created on first exchange (repeatable)")
	f.StringSliceVar(&groups, "default-group", nil, "group of users created on first exchange (repeatable)")
	f.Int64Var(&maxAge, "max-age", 0, "maximum age in seconds of a presented token (iat, auth_time); 0: none")
	f.StringVar(&introURL, "introspection-url", "", "RFC 7662 introspection endpoint for the issuer's opaque tokens")
	f.StringVar(&introClient, "introspection-client-id", "", "client id tokend introspects as")
	f.StringVar(&introSecretFile, "introspection-secret-file", "", "file holding the introspection client secret")
	f.BoolVar(&disabled, "disabled", false, "store the issuer disabled")
	c.RunE = func(cmd *cobra.Command, args []string) error {
		s, err := o.connect(cmd, true)
		if err != nil {
			return err
		}
		var body json.RawMessage
		if spec != "" {
			if body, err = settingsArg(spec); err != nil {
				return fmt.Errorf("--spec: %w", err)
			}
			var m map[string]any
			_ = json.Unmarshal(body, &m)
			m["id"] = args[0]
			body, _ = json.Marshal(m)
		} else {
			m := map[string]any{"id": args[0], "issuer": issuer, "audiences": auds, "algorithms": algs, "user_claim": userClaim,
				"require_email_verified": emailVerified, "create_users": createUsers, "default_roles": roles, "default_groups": groups,
				"max_age": maxAge, "disabled": disabled}
			if introURL != "" {
				m["introspection_url"], m["introspection_client_id"] = introURL, introClient
			}
			if introSecretFile != "" {
				b, err := os.ReadFile(introSecretFile)
				if err != nil {
					return fmt.Errorf("--introspection-secret-file: %w", err)
				}
				m["introspection_secret"] = strings.TrimRight(string(b), "\r\n")
			}
			body, _ = json.Marshal(m)
		}
		path := s.tenantPath("trusted-issuers")
		if method == http.MethodPut {
			path = s.tenantPath("trusted-issuers", url.PathEscape(args[0]))
		}
		var raw json.RawMessage
		if err := s.c.do(method, path, nil, body, &raw); err != nil {
			return err
		}
		return s.printObject(raw, issuerOrder, "", "")
	}
	addAdminFlags(c, o, true)
	return c
}
