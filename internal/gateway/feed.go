package gateway

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/tokend/tokend/internal/authn"
	"github.com/tokend/tokend/internal/fault"
	"github.com/tokend/tokend/internal/grant"
	"github.com/tokend/tokend/internal/httpx"
	"github.com/tokend/tokend/internal/revoke"
	"github.com/tokend/tokend/revocation"
)

// MaxFeedWait bounds a long poll of the revocation feed (below the
// server's write timeout).
const MaxFeedWait = 10 * time.Second

// feedPage is one page of the revocation feed.
type feedPage struct {
	Items []revocation.Entry `json:"items"`
	// Next is the cursor to pass as after= to continue: the seq of the
	// last item, or the given cursor when there was none.
	Next string `json:"next"`
}

// feed serves GET /t/{tenant}/revocations?after=CURSOR&limit=N&wait=SECONDS:
// the tenant's revocations in log order, resumable from any cursor. With
// wait, an empty answer is held until an entry arrives or wait passes, so
// a verifier follows revocations as they happen without polling hard. The
// caller authenticates as a confidential client of the tenant (HTTP Basic).
// Feed serves the revocation feed of every tenant.
type Feed struct {
	Engine *grant.Engine
	Revoke *revoke.Service
	Log    *slog.Logger
	// Stopping is closed when the server shuts down: event streams end.
	Stopping <-chan struct{}
}

// Register adds the feed to mux.
func (fd *Feed) Register(mux httpx.Router) {
	mux.HandleFunc("GET /t/{tenant}/revocations", fd.feed)
}

func (fd *Feed) feed(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	if err := fd.serveFeed(w, r); err != nil {
		if r.Context().Err() != nil {
			return // the follower went away during a long poll
		}
		httpx.WriteError(w, r, fd.Log, err)
	}
}

func (fd *Feed) serveFeed(w http.ResponseWriter, r *http.Request) error {
	if _, _, ok := r.BasicAuth(); !ok {
		return fault.InvalidClient("client authentication (HTTP Basic) is required")
	}
	ca, err := authn.ParseCredentials(r.Header.Get("Authorization"), nil)
	if err != nil {
		return err
	}
	ten := r.PathValue("tenant")
	if _, err := fd.Engine.Client(r.Context(), ten, ca); err != nil {
		return err
	}
	q := r.URL.Query()
	after, err := intParam(q, "after", 0, 0, 1<<62)
	if err != nil {
		return err
	}
	limit, err := intParam(q, "limit", 1000, 1, 10000)
	if err != nil {
		return err
	}
	wait, err := intParam(q, "wait", 0, 0, int64(MaxFeedWait/time.Second))
	if err != nil {
		return err
	}
	if strings.Contains(r.Header.Get("Accept"), "text/event-stream") {
		if v := r.Header.Get("Last-Event-ID"); v != "" {
			if after, err = strconv.ParseInt(v, 10, 64); err != nil || after < 0 {
				return fault.InvalidRequest("Last-Event-ID must be a revocation seq")
			}
		}
		return fd.stream(w, r, ten, after)
	}
	if dl, ok := r.Context().Deadline(); ok {
		// A long poll's deadline may pass the server's write timeout.
		_ = http.NewResponseController(w).SetWriteDeadline(dl.Add(writeMargin))
	}
	items, err := fd.Revoke.Feed(r.Context(), ten, after, int(limit), time.Duration(wait)*time.Second)
	if err != nil {
		return err
	}
	next := after
	if len(items) > 0 {
		next = items[len(items)-1].Seq
	}
	httpx.WriteJSON(w, http.StatusOK, feedPage{Items: items, Next: strconv.FormatInt(next, 10)})
	return nil
}

// intParam reads an optional integer query parameter within [lo, hi].
func intParam(q url.Values, name string, def, lo, hi int64) (int64, error) {
	v := q.Get(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < lo || n > hi {
		return 0, fault.InvalidRequest("%s must be an integer from %d to %d", name, lo, hi).WithField(name)
	}
	return n, nil
}

// MaxStream bounds one server-sent-events connection; the follower
// reconnects with Last-Event-ID and loses nothing.
const MaxStream = 5 * time.Minute

// writeMargin is the time left to write an answer made at its deadline.
const writeMargin = 5 * time.Second

// streamStep bounds one step of an event stream: a wait of up to
// MaxFeedWait and the read of what arrived.
const streamStep = MaxFeedWait + 10*time.Second

// stream serves the feed as server-sent events: one "revocation" event per
// entry, its id the seq (so EventSource resumes with Last-Event-ID), and a
// comment every MaxFeedWait to keep idle connections open. It ends after
// MaxStream, when the client leaves, or when the server shuts down.
func (fd *Feed) stream(w http.ResponseWriter, r *http.Request, ten string, after int64) error {
	rc := http.NewResponseController(w)
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("X-Accel-Buffering", "no") // nginx: do not buffer the stream
	w.WriteHeader(http.StatusOK)
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	go func() {
		select {
		case <-fd.Stopping:
			cancel()
		case <-ctx.Done():
		}
	}()
	end := time.Now().Add(MaxStream)
	for time.Now().Before(end) {
		_ = rc.SetWriteDeadline(time.Now().Add(streamStep))
		sctx, stop := context.WithTimeout(ctx, streamStep)
		items, err := fd.Revoke.Feed(sctx, ten, after, 1000, MaxFeedWait)
		stop()
		if err != nil {
			return nil // headers are sent; the client reconnects
		}
		if len(items) == 0 {
			_, err = io.WriteString(w, ": idle\n\n")
		}
		for _, e := range items {
			b, _ := json.Marshal(e)
			if _, err = fmt.Fprintf(w, "id: %d\nevent: revocation\ndata: %s\n\n", e.Seq, b); err != nil {
				break
			}
			after = e.Seq
		}
		if err != nil || rc.Flush() != nil {
			return nil
		}
	}
	return nil
}
