package cli

import (
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// accessTokenNote is printed with an access token shown once.
const accessTokenNote = "the access token is shown only this once; tokend keeps only its ledger row."

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
