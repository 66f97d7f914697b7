package app_test

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"
)

// rawExchange writes raw to a new connection to addr and returns every
// response read from it until the server closes it (or 5 s pass).
func rawExchange(t *testing.T, addr, raw string) (resps []*http.Response, closed bool) {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := io.WriteString(c, raw); err != nil {
		t.Fatal(err)
	}
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	br := bufio.NewReader(c)
	for range 3 {
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			var ne net.Error
			return resps, !errors.As(err, &ne) || !ne.Timeout() // EOF or reset, not the deadline
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		resps = append(resps, resp)
	}
	return resps, false
}

// TestContentLengthWithTransferEncoding: a request with both framings is
// refused and its connection closed (RFC 9112 §6.1), so bytes after it are
// never read as another request.
func TestContentLengthWithTransferEncoding(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, b backend) {
		s := start(t, b)
		o := setupOAuth(t, s, "shop")
		addr := strings.TrimPrefix(s.URL, "http://")
		body := url.Values{"grant_type": {"client_credentials"}, "client_id": {"svc"}, "client_secret": {o.svcSecret}}.Encode()
		head := "POST /t/shop/oauth2/token HTTP/1.1\r\nHost: " + addr + "\r\nContent-Type: application/x-www-form-urlencoded\r\n"
		next := "GET /healthz HTTP/1.1\r\nHost: " + addr + "\r\nConnection: close\r\n\r\n"

		// The harness sees a second response on a kept-alive connection.
		resps, _ := rawExchange(t, addr, head+"Content-Length: "+strconv.Itoa(len(body))+"\r\n\r\n"+body+next)
		if len(resps) != 2 || resps[0].StatusCode != 200 || resps[1].StatusCode != 200 {
			t.Fatalf("plain keep-alive: %d responses", len(resps))
		}

		chunked := fmt.Sprintf("%x\r\n%s\r\n0\r\n\r\n", len(body), body)
		for name, framing := range map[string]string{
			"both":           "Content-Length: " + strconv.Itoa(len(chunked)) + "\r\nTransfer-Encoding: chunked\r\n",
			"both, TE first": "Transfer-Encoding: chunked\r\nContent-Length: 3\r\n",
			"chunked":        "Transfer-Encoding: chunked\r\n",
		} {
			resps, closed := rawExchange(t, addr, head+framing+"\r\n"+chunked+next)
			if len(resps) != 1 || resps[0].StatusCode != 400 || !resps[0].Close || !closed {
				st := 0
				if len(resps) > 0 {
					st = resps[0].StatusCode
				}
				t.Errorf("%s: %d responses (first %d), closed %v", name, len(resps), st, closed)
			}
		}
	})
}
