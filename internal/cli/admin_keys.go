package cli

import (
	"encoding/json"
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
	cmd.AddCommand(listCommand(o, listSpec{
		what: "signing keys", tenant: true, example: "  tokend keys list -t acme",
		columns: []column{{"KID", "kid"}, {"ALG", "alg"}, {"STATE", "state"}, {"CREATED", "created_at"},
			{"RETIRED", "retired_at"}, {"PUBLISH UNTIL", "publish_until"}},
		path: func(s *session) string { return s.tenantPath("keys") },
	}), rotate)
	return cmd
}
