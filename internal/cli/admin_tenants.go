package cli

// tenantsResource is "tokend tenants".
var tenantsResource = resource{
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
}
