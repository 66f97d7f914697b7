package cli

// devicesResource is "tokend devices".
var devicesResource = resource{
	name: "devices", singular: "device", aliases: []string{"device"},
	short:        "Manage a tenant's devices (stores, kiosks, services)",
	long:         "Manage a tenant's devices: machines that get tokens with their own secret.",
	tenantScoped: true,
	idArg:        "ID", idKey: "id", sample: "kiosk-7", createID: idOptional,
	columns: []column{{"ID", "id"}, {"TYPE", "type"}, {"DISPLAY NAME", "display_name"},
		{"ROLES", "roles"}, {"DISABLED", "disabled"}},
	detail: []string{"id", "display_name", "type", "roles", "metadata", "disabled", "jti", "created_at", "updated_at"},
	fields: []field{
		{flag: "type", key: "type", required: true, usage: "store, kiosk, device or service"},
		fDisplayName, fRoles,
		{flag: "metadata", key: "metadata", kind: fieldJSON, usage: `metadata as a JSON object, e.g. '{"site":"berlin"}'`},
		fDisabled,
	},
	createExample: `  tokend devices create kiosk-7 -t acme --type kiosk --roles checkout --metadata '{"site":"berlin"}'`,
	updateExample: `  tokend devices update kiosk-7 -t acme --disabled`,
	secretKey:     "device_secret", rotate: true, signingSecret: true, subjectTokens: true,
	importJTI: true,
}
