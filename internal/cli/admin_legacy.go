package cli

import (
	"fmt"
	"net/http"

	"github.com/spf13/cobra"
)

// legacySecretCommand is "tokend devices|users|clients legacy-secret ID":
// it imports seed 004's (apstrata's) credential of a principal, read from
// stdin so that it shows in no process list or shell history.
func (r resource) legacySecretCommand(o *adminOptions) *cobra.Command {
	var text, example string
	if r.name == "clients" {
		text = "Set the apstrata account secret of a tenant owner (a client), with which it\n" +
			"signs apstrata requests (docs/compat/apstrata.md). The secret is read from the\n" +
			"first line of stdin, kept encrypted under the master key and never shown back;\n" +
			"the previous one stops working at once."
		example = "  printf '%s' \"$OWNER_SECRET\" | tokend clients legacy-secret owner -t acme --secret-stdin"
	} else {
		text = "Set the apstrata password of a " + r.singular + ", with which it signs apstrata\n" +
			"requests (docs/compat/apstrata.md). Give the password itself (--password-stdin)\n" +
			"or, as exported from apstrata, the hex MD5 of it (--password-md5-stdin), on the\n" +
			"first line of stdin. Only the MD5 is kept, encrypted under the master key, and\n" +
			"never shown back: apstrata's signatures are built on it, so it is kept apart from\n" +
			"the " + r.singular + "'s tokend credentials, which it never replaces. The previous one\n" +
			"stops working at once."
		example = "  printf '%s' \"$PASSWORD\" | tokend " + r.name + " legacy-secret " + r.sample + " -t acme --password-stdin\n" +
			"  printf '%s' \"$MD5_HEX\" | tokend " + r.name + " legacy-secret " + r.sample + " -t acme --password-md5-stdin"
	}
	var secret, password, passwordMD5 bool
	cmd := &cobra.Command{
		Use:     "legacy-secret " + r.idArg,
		Short:   "Import a " + r.singular + "'s apstrata credential (read from stdin)",
		Long:    r.scopedLong(text),
		Example: example,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var key, what string
			n := 0
			for _, c := range []struct {
				set       bool
				key, what string
			}{{secret, "secret", "secret"}, {password, "password", "password"}, {passwordMD5, "password_md5", "password MD5"}} {
				if c.set {
					n++
					key, what = c.key, c.what
				}
			}
			if n != 1 {
				if r.name == "clients" {
					return fmt.Errorf("give --secret-stdin and the secret on stdin")
				}
				return fmt.Errorf("give one of --password-stdin or --password-md5-stdin, and the value on stdin")
			}
			value, err := readSecretLine(cmd.InOrStdin(), what)
			if err != nil {
				return err
			}
			s, err := o.connect(cmd, r.tenantScoped)
			if err != nil {
				return err
			}
			if err := s.c.do(http.MethodPut, r.path(s, args[0])+"/legacy-secret", nil, map[string]string{key: value}, nil); err != nil {
				return err
			}
			if !s.json {
				fmt.Fprintf(s.out, "set the apstrata credential of %s %q\n", r.singular, args[0])
			}
			return nil
		},
	}
	fs := cmd.Flags()
	if r.name == "clients" {
		fs.BoolVar(&secret, "secret-stdin", false, "read the account secret from stdin")
	} else {
		fs.BoolVar(&password, "password-stdin", false, "read the apstrata password from stdin")
		fs.BoolVar(&passwordMD5, "password-md5-stdin", false, "read the hex MD5 of the apstrata password from stdin")
	}
	return cmd
}
