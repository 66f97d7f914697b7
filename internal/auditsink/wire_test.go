package auditsink

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/tokend/tokend/internal/golden"
	"github.com/tokend/tokend/internal/store"
)

var testKey = []byte("0123456789abcdef0123456789abcdef")

// fixed returns two events with every field set, as a chain would hold.
func fixed() []store.AuditEvent {
	at := time.Date(2026, 12, 3, 14, 5, 6, 789012000, time.UTC)
	return []store.AuditEvent{
		{Tenant: "acme", Seq: 41, Time: at, Action: "token.issue", Outcome: "success", Actor: "client:svc", Subject: "client:svc",
			ClientID: "svc", RemoteAddr: "127.0.0.1", UserAgent: "curl/8.5.0", RequestID: "req-1",
			Detail: map[string]string{"grant": "client_credentials", "kind": "access"}, PrevHash: bytes.Repeat([]byte{0xab}, 32), Hash: bytes.Repeat([]byte{0xcd}, 32)},
		{Tenant: "acme", Seq: 42, Time: at.Add(time.Second), Action: "auth.client", Outcome: "failure", Actor: "client:svc",
			ClientID: "svc", Detail: map[string]string{"reason": `wrong "secret"]`}, PrevHash: bytes.Repeat([]byte{0xcd}, 32), Hash: bytes.Repeat([]byte{0xef}, 32)},
	}
}

// TestWebhookWire: the request a receiver gets, byte for byte (golden),
// with a signature it can check.
func TestWebhookWire(t *testing.T) {
	t.Parallel()
	var got []byte
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if err := Verify(testKey, r.Header.Get(HeaderSignature), body, time.Unix(1764770706, 0), 5*time.Minute); err != nil {
			t.Errorf("Verify: %v", err)
		}
		var b bytes.Buffer
		fmt.Fprintf(&b, "%s %s\n", r.Method, r.URL.RequestURI())
		for _, h := range []string{"Content-Type", "User-Agent", HeaderTenant, HeaderSeq, HeaderSignature} {
			fmt.Fprintf(&b, "%s: %s\n", h, r.Header.Get(h))
		}
		b.WriteString("\n")
		b.Write(body)
		got = b.Bytes()
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()
	w, err := NewWebhook(srv.URL+"/audit?src=tokend", testKey, 5*time.Second, "tokend/test")
	if err != nil {
		t.Fatal(err)
	}
	w.now = func() time.Time { return time.Unix(1764770706, 0) }
	if err := w.Send(context.Background(), "acme", fixed()); err != nil {
		t.Fatal(err)
	}
	golden.Assert(t, "webhook", got)
}

func TestWebhookFailures(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		h    http.HandlerFunc
		want string
	}{
		{"5xx", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusServiceUnavailable) }, "answered 503"},
		{"redirect is not followed", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/elsewhere", http.StatusFound) }, "answered 302"},
		{"timeout", func(_ http.ResponseWriter, r *http.Request) {
			select {
			case <-r.Context().Done():
			case <-time.After(3 * time.Second):
			}
		}, "Client.Timeout"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := httptest.NewServer(tc.h)
			defer srv.Close()
			w, err := NewWebhook(srv.URL+"/?token=hunter2", testKey, 200*time.Millisecond, "tokend/test")
			if err != nil {
				t.Fatal(err)
			}
			err = w.Send(context.Background(), "acme", fixed())
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Send = %v, want an error with %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "hunter2") {
				t.Errorf("error %q names the URL's query", err)
			}
		})
	}
	if _, err := NewWebhook("http://127.0.0.1:1/", []byte("short"), time.Second, "x"); err == nil {
		t.Error("a 5-byte key was accepted")
	}
}

func TestVerify(t *testing.T) {
	t.Parallel()
	body := []byte(`{"seq":1}` + "\n")
	now := time.Unix(1764770706, 0)
	good := Sign(testKey, now.Unix(), body)
	if err := Verify(testKey, good, body, now, time.Minute); err != nil {
		t.Fatalf("Verify(own signature) = %v", err)
	}
	for name, tc := range map[string]struct {
		header string
		body   []byte
		key    []byte
		now    time.Time
	}{
		"other body":       {good, []byte(`{"seq":2}` + "\n"), testKey, now},
		"other key":        {good, body, []byte("another key of 16+ bytes"), now},
		"too old":          {good, body, testKey, now.Add(2 * time.Minute)},
		"from the future":  {good, body, testKey, now.Add(-2 * time.Minute)},
		"no v1":            {"t=" + strconv.FormatInt(now.Unix(), 10), body, testKey, now},
		"no t":             {strings.SplitN(good, ",", 2)[1], body, testKey, now},
		"t twice":          {"t=1," + good, body, testKey, now},
		"v1 not hex":       {"t=1764770706,v1=zz", body, testKey, now},
		"signed t":         {"t=+1764770706," + strings.SplitN(good, ",", 2)[1], body, testKey, now},
		"empty":            {"", body, testKey, now},
		"truncated v1 MAC": {good[:len(good)-2], body, testKey, now},
	} {
		if err := Verify(tc.key, tc.header, tc.body, tc.now, time.Minute); err == nil {
			t.Errorf("%s: Verify accepted %q", name, tc.header)
		}
	}
	// A second v1 (a receiver mid key rotation) may match.
	two := good + ",v1=" + strings.Repeat("00", 32)
	if err := Verify(testKey, two, body, now, time.Minute); err != nil {
		t.Errorf("Verify with two v1 = %v", err)
	}
}

// FuzzVerify: any header is refused or accepted without panicking, and
// only the true MAC is accepted.
func FuzzVerify(f *testing.F) {
	body := []byte("x\n")
	f.Add(Sign(testKey, 1764770706, body))
	f.Add("t=1764770706,v1=00")
	f.Add(",,=,t=,v1=")
	f.Fuzz(func(t *testing.T, header string) {
		if Verify(testKey, header, body, time.Unix(1764770706, 0), time.Hour) == nil {
			if !strings.Contains(strings.ToLower(header), Sign(testKey, 1764770706, body)[len("t=1764770706,"):]) {
				t.Fatalf("accepted %q without the MAC", header)
			}
		}
	})
}

func TestSyslogFormat(t *testing.T) {
	t.Parallel()
	var b bytes.Buffer
	for _, e := range fixed() {
		b.Write(Format(e, "auth-1.example.com", 4242))
		b.WriteByte('\n')
	}
	golden.Assert(t, "syslog", b.Bytes())
	for _, e := range fixed() {
		m, err := parse5424(Format(e, "auth-1.example.com", 4242))
		if err != nil {
			t.Fatal(err)
		}
		if m.params["tenant"] != e.Tenant || m.params["seq"] != strconv.FormatInt(e.Seq, 10) || m.msgid != e.Action {
			t.Errorf("parsed %+v from event %d", m, e.Seq)
		}
	}
}

// msg5424 is what the test's own RFC 5424 parser reads.
type msg5424 struct {
	pri                                 int
	timestamp, host, app, procid, msgid string
	params                              map[string]string
	msg                                 []byte
}

var header5424 = regexp.MustCompile(`^<(\d{1,3})>1 (\S+) ([!-~]{1,255}) ([!-~]{1,48}) ([!-~]{1,128}) ([!-~]{1,32}) `)

// parse5424 parses a message strictly by RFC 5424 §6 (one SD-ELEMENT).
func parse5424(b []byte) (msg5424, error) {
	var m msg5424
	h := header5424.FindSubmatch(b)
	if h == nil {
		return m, fmt.Errorf("bad header in %q", b)
	}
	m.pri, _ = strconv.Atoi(string(h[1]))
	m.timestamp, m.host, m.app, m.procid, m.msgid = string(h[2]), string(h[3]), string(h[4]), string(h[5]), string(h[6])
	if _, err := time.Parse(time.RFC3339Nano, m.timestamp); err != nil || m.pri > 191 {
		return m, fmt.Errorf("bad PRI or TIMESTAMP in %q", b)
	}
	rest := b[len(h[0]):]
	id := "[" + SDID
	if !bytes.HasPrefix(rest, []byte(id)) {
		return m, fmt.Errorf("no SD-ELEMENT in %q", rest)
	}
	rest = rest[len(id):]
	m.params = map[string]string{}
	for len(rest) > 0 && rest[0] == ' ' {
		eq := bytes.IndexByte(rest, '=')
		if eq < 0 || eq+1 >= len(rest) || rest[eq+1] != '"' {
			return m, fmt.Errorf("bad SD-PARAM in %q", rest)
		}
		name := string(rest[1:eq])
		var v []byte
		i := eq + 2
		for ; i < len(rest) && rest[i] != '"'; i++ {
			if rest[i] == '\\' && i+1 < len(rest) && strings.IndexByte(`"\]`, rest[i+1]) >= 0 {
				i++
			} else if rest[i] == ']' {
				return m, fmt.Errorf("unescaped ] in %q", rest)
			}
			v = append(v, rest[i])
		}
		if i >= len(rest) {
			return m, fmt.Errorf("unterminated PARAM-VALUE in %q", rest)
		}
		if !utf8.Valid(v) {
			return m, fmt.Errorf("PARAM-VALUE not UTF-8")
		}
		m.params[name] = string(v)
		rest = rest[i+1:]
	}
	if !bytes.HasPrefix(rest, []byte("] \xef\xbb\xbf")) {
		return m, fmt.Errorf("no SD end, space and BOM in %q", rest)
	}
	m.msg = rest[len("] \xef\xbb\xbf"):]
	return m, nil
}

// FuzzFormat: whatever the event holds, the message is valid RFC 5424
// and its structured data gives back the tenant and outcome.
func FuzzFormat(f *testing.F) {
	f.Add("acme", "token.issue", "success", "host", `v"]\`)
	f.Add("", "", "", "", "")
	f.Add("t\xff", "a b\x00c", "denied", "h\tö", "\n")
	f.Fuzz(func(t *testing.T, tenant, action, outcome, host, detail string) {
		e := store.AuditEvent{Tenant: tenant, Seq: 7, Time: time.Unix(1764770706, 5000), Action: action, Outcome: outcome,
			Detail: map[string]string{"k": detail}}
		m, err := parse5424(Format(e, host, 1))
		if err != nil {
			t.Fatal(err)
		}
		if m.params["tenant"] != strings.ToValidUTF8(tenant, "\ufffd") || m.params["outcome"] != strings.ToValidUTF8(outcome, "\ufffd") {
			t.Fatalf("params %q from tenant %q outcome %q", m.params, tenant, outcome)
		}
		if bytes.ContainsAny(m.msg, "\n") {
			t.Fatalf("MSG holds a newline: %q", m.msg)
		}
	})
}

// TestSyslogListeners sends to real local listeners: UDP, a unix
// datagram socket (as /dev/log is) and TCP with octet counting.
func TestSyslogListeners(t *testing.T) {
	t.Parallel()
	t.Run("udp", func(t *testing.T) {
		t.Parallel()
		pc, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer pc.Close()
		readDatagrams(t, pc, NewSyslog("udp", pc.LocalAddr().String()))
	})
	t.Run("unixgram", func(t *testing.T) {
		t.Parallel()
		path := filepath.Join(t.TempDir(), "log.sock")
		pc, err := net.ListenPacket("unixgram", path)
		if err != nil {
			t.Fatal(err)
		}
		defer pc.Close()
		readDatagrams(t, pc, NewSyslog("unixgram", path))
	})
	t.Run("tcp", func(t *testing.T) {
		t.Parallel()
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		s := NewSyslog("tcp", ln.Addr().String())
		defer s.Close()
		if err := s.Send(context.Background(), "acme", fixed()); err != nil {
			t.Fatal(err)
		}
		c, err := ln.Accept()
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
		r := bufio.NewReader(c)
		for _, e := range fixed() {
			l, err := r.ReadString(' ')
			if err != nil {
				t.Fatal(err)
			}
			n, err := strconv.Atoi(strings.TrimSuffix(l, " "))
			if err != nil {
				t.Fatal(err)
			}
			b := make([]byte, n)
			if _, err := io.ReadFull(r, b); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(b, Format(e, s.host, s.pid)) {
				t.Fatalf("frame %q", b)
			}
		}
	})
	t.Run("nobody listening", func(t *testing.T) {
		t.Parallel()
		s := NewSyslog("unixgram", filepath.Join(t.TempDir(), "none.sock"))
		if err := s.Send(context.Background(), "acme", fixed()); err == nil {
			t.Error("Send to a missing socket succeeded")
		}
	})
}

func readDatagrams(t *testing.T, pc net.PacketConn, s *Syslog) {
	t.Helper()
	defer s.Close()
	if err := s.Send(context.Background(), "acme", fixed()); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 64<<10)
	for _, e := range fixed() {
		_ = pc.SetReadDeadline(time.Now().Add(10 * time.Second))
		n, _, err := pc.ReadFrom(buf)
		if err != nil {
			t.Fatal(err)
		}
		m, err := parse5424(buf[:n])
		if err != nil {
			t.Fatal(err)
		}
		if m.params["seq"] != strconv.FormatInt(e.Seq, 10) || m.app != "tokend" {
			t.Fatalf("datagram %q for seq %d", buf[:n], e.Seq)
		}
	}
}
