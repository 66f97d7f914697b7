package auditsink

import (
	"encoding/json"

	"github.com/tokend/tokend/internal/audit"
	"github.com/tokend/tokend/internal/store"
)

// LineOf returns e's line in a webhook batch or a syslog message: the
// fields of GET /v1/tenants/{tenant}/audit/export, and the tenant.
func LineOf(e store.AuditEvent) audit.View {
	v := audit.ViewOf(e)
	v.Tenant = e.Tenant
	return v
}

// marshal returns e's line as JSON, without a newline.
func marshal(e store.AuditEvent) []byte {
	b, err := json.Marshal(LineOf(e))
	if err != nil {
		// A Line holds only strings, numbers and a string map.
		panic("auditsink: " + err.Error())
	}
	return b
}
