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
	var now bool
	rotate := &cobra.Command{
		Use:   "rotate",
		Short: "Replace the tenant's signing key, staged (default) or at once (--now)",
		Long: "Create a new signing key. The rotation is staged: the new key is published in the\n" +
			"JWKS at once (state next) and signs only after the server's --key-rotation-stage\n" +
			"(10 minutes by default; activate_at tells when), when the current key retires.\n" +
			"Verifiers that cache the JWKS for its max-age therefore never meet a token signed\n" +
			"by a key they have not fetched. A retired key stays published until every token\n" +
			"it signed has expired. --alg defaults to the tenant's signing_alg.\n\n" +
			"--now is the emergency rotation, for a key that may be compromised: the new key\n" +
			"signs at once and the current key retires now (any pending one too). Verifiers\n" +
			"holding a cached JWKS refuse the new tokens until they fetch it again (those that\n" +
			"refetch on an unknown kid, most libraries, right away).\n\n" + tenantHelp,
		Example: "  tokend keys rotate -t acme\n  tokend keys rotate -t acme --alg EdDSA\n  tokend keys rotate -t acme --now",
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
			if now {
				body["now"] = true
			}
			var raw json.RawMessage
			if err := s.c.do(http.MethodPost, s.tenantPath("keys", "rotate"), nil, body, &raw); err != nil {
				return err
			}
			return s.printObject(raw, []string{"kid", "alg", "state", "activate_at", "created_at", "retired_at", "publish_until"}, "", "")
		},
	}
	rotate.Flags().StringVar(&alg, "alg", "", "signing algorithm: ES256, EdDSA, RS256 or HS256")
	rotate.Flags().BoolVar(&now, "now", false, "emergency rotation: sign with the new key at once (see above)")
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
	var name string
	importNamed := &cobra.Command{
		Use:   "import-named",
		Short: "Import a named HMAC secret of a legacy product's HS256 tokens (header kid = the name)",
		Long: "Read a secret from stdin (its first line, at least 32 bytes) and make it the tenant's\n" +
			"HMAC secret named --name: HS256 tokens whose header kid is that name are signed and\n" +
			"verified with it. For AuthSec's auth-manager (the tenantauth surface), import\n" +
			"JWT_DEF_SECRET as \"default\" and JWT_SDK_SECRET as \"sdk-agent\". It never signs\n" +
			"tokend's own tokens and never appears in the JWKS; an earlier one of that name stops\n" +
			"working.\n\n" + tenantHelp,
		Example: "  printf '%s' \"$JWT_DEF_SECRET\" | tokend keys import-named -t acme --name default\n" +
			"  printf '%s' \"$JWT_SDK_SECRET\" | tokend keys import-named -t acme --name sdk-agent",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			secret, err := readSecretLine(cmd.InOrStdin(), "secret")
			if err != nil {
				return err
			}
			s, err := o.connect(cmd, true)
			if err != nil {
				return err
			}
			if err := s.c.do(http.MethodPost, s.tenantPath("keys", "named"), nil, map[string]any{"name": name, "secret": secret}, nil); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "HMAC secret %q imported\n", name)
			return nil
		},
	}
	importNamed.Flags().StringVar(&name, "name", "", "the secret's name, the kid of its tokens (default, sdk-agent, oidc)")
	_ = importNamed.MarkFlagRequired("name")
	cmd.AddCommand(listCommand(o, listSpec{
		what: "signing keys", tenant: true, example: "  tokend keys list -t acme",
		columns: []column{{"KID", "kid"}, {"ALG", "alg"}, {"STATE", "state"}, {"CREATED", "created_at"},
			{"RETIRED", "retired_at"}, {"PUBLISH UNTIL", "publish_until"}},
		path: func(s *session) string { return s.tenantPath("keys") },
	}), rotate, importLegacy, importNamed)
	return cmd
}
