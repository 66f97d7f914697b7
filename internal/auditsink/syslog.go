package auditsink

import (
	"context"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/tokend/tokend/internal/store"
)

// RFC 5424 fields of tokend's messages.
const (
	// facilityAuthPriv is the facility of security and authorization
	// messages (RFC 5424 §6.2.1, code 10).
	facilityAuthPriv = 10
	severityNotice   = 5
	severityInfo     = 6
	appName          = "tokend"
	// SDID is the structured-data element of every message. 32473 is the
	// enterprise number RFC 5612 sets aside for examples: tokend has none
	// of its own.
	SDID = "tokend@32473"
	// syslogTimeout bounds a dial and the write of a batch.
	syslogTimeout = 5 * time.Second
)

// Syslog sends each event as an RFC 5424 message: one datagram per
// message over UDP and unix datagram sockets (RFC 5426), octet-counted
// framing (RFC 6587 §3.4.1) over TCP and unix stream sockets. A write
// that went through counts as delivered: over UDP nothing acknowledges
// it.
type Syslog struct {
	network, addr string
	host          string
	pid           int
	conn          net.Conn
}

// NewSyslog returns a syslog sink sending to address over network, as
// net.Dial takes them ("udp", "tcp", "unixgram", "unix").
func NewSyslog(network, address string) *Syslog {
	h, err := os.Hostname()
	if err != nil {
		h = ""
	}
	return &Syslog{network: network, addr: address, host: h, pid: os.Getpid()}
}

// Name implements [Sink].
func (s *Syslog) Name() string { return "syslog" }

func (s *Syslog) stream() bool { return s.network == "tcp" || s.network == "unix" }

// Send implements [Sink]. A failed write closes the connection; the next
// Send dials again.
func (s *Syslog) Send(ctx context.Context, _ string, events []store.AuditEvent) error {
	if s.conn == nil {
		d := net.Dialer{Timeout: syslogTimeout}
		c, err := d.DialContext(ctx, s.network, s.addr)
		if err != nil {
			return fmt.Errorf("syslog: %w", err)
		}
		s.conn = c
	}
	_ = s.conn.SetWriteDeadline(time.Now().Add(syslogTimeout))
	for _, e := range events {
		msg := Format(e, s.host, s.pid)
		if s.stream() {
			msg = append([]byte(strconv.Itoa(len(msg))+" "), msg...)
		}
		if _, err := s.conn.Write(msg); err != nil {
			s.Close()
			return fmt.Errorf("syslog: %w", err)
		}
	}
	return nil
}

// Close implements [Sink]: it closes the connection, if any.
func (s *Syslog) Close() {
	if s.conn != nil {
		s.conn.Close()
		s.conn = nil
	}
}

// Format returns e as an RFC 5424 message:
//
//	<PRI>1 TIMESTAMP HOSTNAME tokend PROCID ACTION [tokend@32473 tenant="..." seq="..." outcome="..."] BOM{JSON line}
//
// PRI is facility authpriv with severity info for a success, notice
// otherwise; TIMESTAMP is the event's, in UTC to the microsecond; the
// MSGID is the event's action; the MSG is the event's [Line] as UTF-8
// JSON, after the byte order mark RFC 5424 §6.4 asks for.
func Format(e store.AuditEvent, host string, pid int) []byte {
	sev := severityNotice
	if e.Outcome == "success" {
		sev = severityInfo
	}
	var b strings.Builder
	b.WriteString("<" + strconv.Itoa(facilityAuthPriv*8+sev) + ">1 ")
	b.WriteString(e.Time.UTC().Format("2006-01-02T15:04:05.000000Z"))
	b.WriteByte(' ')
	b.WriteString(headerField(host, 255))
	b.WriteString(" " + appName + " ")
	b.WriteString(strconv.Itoa(pid))
	b.WriteByte(' ')
	b.WriteString(headerField(e.Action, 32))
	b.WriteString(" [" + SDID)
	for _, p := range [][2]string{{"tenant", e.Tenant}, {"seq", strconv.FormatInt(e.Seq, 10)}, {"outcome", e.Outcome}} {
		b.WriteString(" " + p[0] + `="`)
		b.WriteString(paramValue(p[1]))
		b.WriteByte('"')
	}
	b.WriteString("] \ufeff")
	b.Write(marshal(e))
	return []byte(b.String())
}

// headerField makes s a header field of at most n printable US-ASCII
// characters (RFC 5424 §6: PRINTUSASCII, %d33-126), or the nil value "-".
func headerField(s string, n int) string {
	var b strings.Builder
	for i := 0; i < len(s) && b.Len() < n; i++ {
		if c := s[i]; c >= 33 && c <= 126 {
			b.WriteByte(c)
		} else {
			b.WriteByte('_')
		}
	}
	if b.Len() == 0 {
		return "-"
	}
	return b.String()
}

// paramValue escapes '"', '\' and ']' in a PARAM-VALUE (RFC 5424 §6.3.3)
// and replaces invalid UTF-8.
func paramValue(s string) string {
	s = strings.ToValidUTF8(s, "\ufffd")
	if !strings.ContainsAny(s, `"\]`) {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		if r == '"' || r == '\\' || r == ']' {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}
