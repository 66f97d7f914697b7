package cli

// usersResource is "tokend users".
var usersResource = resource{
	name: "users", singular: "user", aliases: []string{"user"},
	short:        "Manage a tenant's users",
	long:         "Manage a tenant's users. Logins are normalised (trimmed, lowercased) and unique\nin the tenant. Passwords are read from stdin, never from a flag.",
	tenantScoped: true,
	idArg:        "ID", idKey: "id", sample: "usr_123", createID: idOptional,
	columns: []column{{"ID", "id"}, {"LOGIN", "login"}, {"DISPLAY NAME", "display_name"},
		{"ROLES", "roles"}, {"GROUPS", "groups"}, {"DISABLED", "disabled"}},
	detail: []string{"id", "login", "display_name", "roles", "groups", "disabled", "has_password", "created_at", "updated_at"},
	fields: []field{
		{flag: "login", key: "login", required: true, usage: "login name, e.g. an email address"},
		fDisplayName, fRoles,
		{flag: "groups", key: "groups", kind: fieldList, usage: "group names, comma separated"},
		fDisabled,
		{flag: "password-stdin", key: "password", kind: fieldStdin, usage: "read the password (at least 8 characters) from stdin"},
		{flag: "password-hash-stdin", key: "password_hash", kind: fieldStdin, usage: "read a password hash imported from another system (argon2id, or bcrypt as PHP's password_hash makes it) from stdin"},
	},
	filters:     []filter{{flag: "login", param: "login", usage: "find the user with this login"}},
	listExample: "  tokend users list -t acme\n  tokend users list -t acme --login alice@example.com",
	createExample: `  tokend users create -t acme --login alice@example.com --display-name Alice --roles admin
  printf '%s' "$PASSWORD" | tokend users create -t acme --login bob@example.com --password-stdin
  printf '%s' '$2y$10$...' | tokend users create -t acme --login carol@example.com --password-hash-stdin
  tokend users create 42 -t store --login jane@example.com   # a chosen id (an imported customer id)`,
	updateExample: `  tokend users update usr_123 -t acme --roles admin,billing
  printf '%s' "$PASSWORD" | tokend users update usr_123 -t acme --password-stdin`,
	signingSecret: true, subjectTokens: true,
}
