package cli

// projectsResource is "tokend projects".
var projectsResource = resource{
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
}
