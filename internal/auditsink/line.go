package auditsink

import (
	"encoding/hex"
	"encoding/json"
	"time"

	"github.com/tokend/tokend/internal/store"
)

// Line is the JSON form of one event in a webhook batch and a syslog
// message: the fields of GET /v1/tenants/{tenant}/audit/export, and the
// tenant, since a sink carries every tenant's events.
type Line struct {
	Tenant     string            `json:"tenant"`
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

// LineOf returns e's line.
func LineOf(e store.AuditEvent) Line {
	return Line{e.Tenant, e.Seq, e.Time.UTC().Format(time.RFC3339Nano), e.Action, e.Outcome, e.Actor, e.Subject, e.ClientID,
		e.RemoteAddr, e.UserAgent, e.RequestID, e.Detail, hex.EncodeToString(e.PrevHash), hex.EncodeToString(e.Hash)}
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
