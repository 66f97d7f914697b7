package cli

// rolesResource is "tokend roles".
var rolesResource = resource{
	name: "roles", singular: "role", aliases: []string{"role"},
	short:        "Manage a tenant's roles (scopes and resources)",
	long:         "Manage a tenant's roles. A role grants scopes on resources to the users,\ndevices and groups that have it.",
	tenantScoped: true,
	idArg:        "NAME", idKey: "name", sample: "billing-reader", createID: idRequired,
	columns:       []column{{"NAME", "name"}, {"DESCRIPTION", "description"}, {"SCOPES", "scopes"}, {"RESOURCES", "resources"}},
	detail:        []string{"name", "description", "scopes", "resources", "created_at", "updated_at"},
	fields:        []field{fScopes, {flag: "resources", key: "resources", kind: fieldList, usage: "resources, comma separated"}, fDescription},
	createExample: `  tokend roles create billing-reader -t acme --scopes invoices:read --resources billing --description "Read invoices"`,
	updateExample: `  tokend roles update billing-reader -t acme --scopes invoices:read,invoices:export`,
}

// groupsResource is "tokend groups".
var groupsResource = resource{
	name: "groups", singular: "group", aliases: []string{"group"},
	short:        "Manage a tenant's groups (sets of roles)",
	long:         "Manage a tenant's groups. A user in a group has the group's roles.",
	tenantScoped: true,
	idArg:        "NAME", idKey: "name", sample: "finance", createID: idRequired,
	columns:       []column{{"NAME", "name"}, {"DESCRIPTION", "description"}, {"ROLES", "roles"}},
	detail:        []string{"name", "description", "roles", "created_at", "updated_at"},
	fields:        []field{fRoles, fDescription},
	createExample: `  tokend groups create finance -t acme --roles billing-reader --description "Finance team"`,
	updateExample: `  tokend groups update finance -t acme --roles billing-reader,billing-admin`,
}
