package cli

import (
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/spf13/cobra"
)

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
	importLegacy := &cobra.Command{
		Use:   "import-legacy",
		Short: "Import the HMAC secret of a legacy application's HS256 tokens",
		Long: "Read a secret from stdin (its first line, at least 32 bytes) and make it the tenant's\n" +
			"legacy HMAC secret: the store-token surface signs its Knock-style HS256 tokens with\n" +
			"it, and accepts the legacy application's tokens signed with it. For a Rails/Knock\n" +
			"application, it is the secret_key_base (the string as it is). It never signs\n" +
			"tokend's own tokens and never appears in the JWKS; an earlier one stops working.\n\n" + tenantHelp,
		Example: "  printf '%s' \"$SECRET_KEY_BASE\" | tokend keys import-legacy -t acme",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			secret, err := readSecretLine(cmd.InOrStdin(), "secret")
			if err != nil {
				return err
			}
			s, err := o.connect(cmd, true)
			if err != nil {
				return err
			}
			if err := s.c.do(http.MethodPost, s.tenantPath("keys", "legacy"), nil, map[string]any{"secret": secret}, nil); err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), "legacy HMAC secret imported")
			return nil
		},
	}
	cmd.AddCommand(listCommand(o, listSpec{
		what: "signing keys", tenant: true, example: "  tokend keys list -t acme",
		columns: []column{{"KID", "kid"}, {"ALG", "alg"}, {"STATE", "state"}, {"CREATED", "created_at"},
			{"RETIRED", "retired_at"}, {"PUBLISH UNTIL", "publish_until"}},
		path: func(s *session) string { return s.tenantPath("keys") },
	}), rotate, importLegacy)
	return cmd
}
