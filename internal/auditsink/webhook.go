package auditsink

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/tokend/tokend/internal/store"
)

// Headers of a webhook delivery.
const (
	// HeaderSignature is "t=<unix seconds>,v1=<hex HMAC-SHA256>", the MAC
	// over "<t>.<body>" keyed by the shared secret (see [Sign]).
	HeaderSignature = "Tokend-Signature"
	// HeaderTenant names the tenant of every event of the batch.
	HeaderTenant = "Tokend-Audit-Tenant"
	// HeaderSeq is "<first>-<last>", the seqs of the batch's first and
	// last events: a receiver that saw them already may drop the batch.
	HeaderSeq = "Tokend-Audit-Seq"
)

// Webhook POSTs each batch as NDJSON (one [Line] per event, each ending
// in a newline) to a URL, signed with HMAC-SHA256. Any 2xx answer is a
// delivery; anything else, a redirect included, and a timeout are
// failures.
type Webhook struct {
	url string
	key []byte
	ua  string
	hc  *http.Client
	now func() time.Time
}

// NewWebhook returns a webhook sink; key must be at least 16 bytes and
// timeout positive.
func NewWebhook(target string, key []byte, timeout time.Duration, userAgent string) (*Webhook, error) {
	if target == "" || len(key) < 16 || timeout <= 0 {
		return nil, errors.New("auditsink: a webhook needs a URL, a key of at least 16 bytes and a positive timeout")
	}
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = 2
	hc := &http.Client{Timeout: timeout, Transport: t,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	return &Webhook{url: target, key: bytes.Clone(key), ua: userAgent, hc: hc, now: time.Now}, nil
}

// Name implements [Sink].
func (w *Webhook) Name() string { return "webhook" }

// Close implements [Sink].
func (w *Webhook) Close() { w.hc.CloseIdleConnections() }

// Send implements [Sink].
func (w *Webhook) Send(ctx context.Context, tenant string, events []store.AuditEvent) error {
	body := Body(events)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	h := req.Header
	h.Set("Content-Type", "application/x-ndjson")
	h.Set("User-Agent", w.ua)
	h.Set(HeaderTenant, tenant)
	h.Set(HeaderSeq, fmt.Sprintf("%d-%d", events[0].Seq, events[len(events)-1].Seq))
	h.Set(HeaderSignature, Sign(w.key, w.now().Unix(), body))
	resp, err := w.hc.Do(req)
	if err != nil {
		// Not the URL: it may hold a token in its query.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return fmt.Errorf("POST to the audit webhook: %w", err)
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return fmt.Errorf("the audit webhook answered %d", resp.StatusCode)
	}
	return nil
}

// Body is the NDJSON body of a batch: one [Line] per event, each ending
// in a newline.
func Body(events []store.AuditEvent) []byte {
	var b bytes.Buffer
	for _, e := range events {
		b.Write(marshal(e))
		b.WriteByte('\n')
	}
	return b.Bytes()
}

// Sign returns the Tokend-Signature value of body sent at t (unix
// seconds): "t=<t>,v1=<hex of HMAC-SHA256(key, "<t>." + body)>".
func Sign(key []byte, t int64, body []byte) string {
	ts := strconv.FormatInt(t, 10)
	return "t=" + ts + ",v1=" + hex.EncodeToString(mac(key, ts, body))
}

func mac(key []byte, ts string, body []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(ts))
	m.Write([]byte{'.'})
	m.Write(body)
	return m.Sum(nil)
}

// Verify checks a Tokend-Signature header value against body, as a
// receiver does: one of its v1 MACs must match and its time must be
// within tolerance of now (which bounds replays). The comparison is
// constant-time.
func Verify(key []byte, header string, body []byte, now time.Time, tolerance time.Duration) error {
	var ts string
	var sigs [][]byte
	for _, part := range strings.Split(header, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			return errors.New("signature: malformed element")
		}
		switch k {
		case "t":
			if ts != "" {
				return errors.New("signature: t given twice")
			}
			ts = v
		case "v1":
			s, err := hex.DecodeString(v)
			if err != nil || len(s) != sha256.Size {
				return errors.New("signature: v1 is not a hex SHA-256 MAC")
			}
			sigs = append(sigs, s)
		}
	}
	t, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || ts == "" || ts[0] == '+' || ts[0] == '-' {
		return errors.New("signature: no valid t")
	}
	if len(sigs) == 0 {
		return errors.New("signature: no v1")
	}
	if d := now.Sub(time.Unix(t, 0)); d > tolerance || d < -tolerance {
		return errors.New("signature: t outside the tolerance")
	}
	want := mac(key, ts, body)
	for _, s := range sigs {
		if hmac.Equal(s, want) {
			return nil
		}
	}
	return errors.New("signature: no v1 matches")
}
