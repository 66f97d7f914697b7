package audit

import (
	"encoding/hex"
	"time"

	"github.com/tokend/tokend/internal/store"
)

// View is the JSON form of an audit event that clients and receivers read:
// an item of GET /v1/tenants/{tenant}/audit, a line of its NDJSON export,
// and, with Tenant set, a line of the audit sinks (which carry every
// tenant's events).
type View struct {
	Tenant     string            `json:"tenant,omitempty"`
	Seq        int64             `json:"seq"`
	Time       string            `json:"time"`
	Action     string            `json:"action"`
	Outcome    string            `json:"outcome"`
	Actor      string            `json:"actor"`
	Subject    string            `json:"subject,omitempty"`
	ClientID   string            `json:"client_id,omitempty"`
	RemoteAddr string            `json:"remote_addr,omitempty"`
	UserAgent  string            `json:"user_agent,omitempty"`
	RequestID  string            `json:"request_id,omitempty"`
	Detail     map[string]string `json:"detail,omitempty"`
	PrevHash   string            `json:"prev_hash"`
	Hash       string            `json:"hash"`
}

// ViewOf returns e's view, without its tenant (the admin API's routes name
// it).
func ViewOf(e store.AuditEvent) View {
	return View{"", e.Seq, e.Time.UTC().Format(time.RFC3339Nano), e.Action, e.Outcome, e.Actor, e.Subject, e.ClientID,
		e.RemoteAddr, e.UserAgent, e.RequestID, e.Detail, hex.EncodeToString(e.PrevHash), hex.EncodeToString(e.Hash)}
}
