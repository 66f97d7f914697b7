package mint

import (
	"context"
	"sync"

	"github.com/tokend/tokend/internal/audit"
	"github.com/tokend/tokend/internal/fault"
	"github.com/tokend/tokend/internal/issue"
	"github.com/tokend/tokend/internal/store"
	"github.com/tokend/tokend/internal/token"
)

// subjectIssue runs a read-decide-write on the tokens of one subject (a
// type and an id: device "kiosk-1" and client "kiosk-1" are two subjects)
// and issues the token fn returns, all in one transaction under the
// subject's lock row (store.Tokens.LockSubject). Concurrent calls for one
// subject, on any replica, run one after the other, each seeing what the
// previous wrote: a token limit counts every token, and a rotation's
// cutoff comes after every earlier token's issue time.
//
// fn is given the transaction and the subject's active tokens; it
// returns a token made with issue.Request.Defer, so signed under the lock,
// whose row and event commit with fn's other writes. A plain
// client_credentials issuance never comes here: it needs no lock and
// keeps the group commit to itself.
func (s *Minter) subjectIssue(ctx context.Context, ten, subjectType, subject string, fn func(tx store.Store, active int) (issue.Result, error)) (issue.Result, error) {
	unlock, err := s.subjects.lock(ctx, ten+"\x00"+subjectType+"\x00"+subject)
	if err != nil {
		return issue.Result{}, fault.Unavailable(err)
	}
	defer unlock()
	var res issue.Result
	err = s.st.Tx(ctx, func(tx store.Store) error {
		active, err := tx.Tokens().LockSubject(ctx, ten, subjectType, subject, s.now())
		if err != nil {
			return err
		}
		if res, err = fn(tx, active); err != nil {
			return err
		}
		if err := tx.Tokens().Insert(ctx, res.Row); err != nil {
			return err
		}
		return tx.Audit().Append(ctx, audit.Seal, res.Event)
	})
	if err != nil {
		if fault.As(err) != nil {
			return issue.Result{}, err
		}
		// A token is handed out only once committed.
		return issue.Result{}, fault.Unavailable(err)
	}
	s.audit.Observe(res.Event)
	return res, nil
}

// subjectLocks queues, per subject, the requests of this replica that
// wait for the subject's lock row: one at a time holds a database
// connection while it waits, so a flood of requests for one subject
// cannot take every connection of the pool. The zero value is ready.
type subjectLocks struct {
	mu sync.Mutex
	m  map[string]*subjectLock
}

type subjectLock struct {
	turn  chan struct{} // holds a token while the subject is locked
	users int           // holders and waiters; the entry goes at 0
}

// lock waits for key's turn, or for ctx to end.
func (l *subjectLocks) lock(ctx context.Context, key string) (unlock func(), err error) {
	l.mu.Lock()
	if l.m == nil {
		l.m = map[string]*subjectLock{}
	}
	e := l.m[key]
	if e == nil {
		e = &subjectLock{turn: make(chan struct{}, 1)}
		l.m[key] = e
	}
	e.users++
	l.mu.Unlock()
	release := func() {
		l.mu.Lock()
		if e.users--; e.users == 0 {
			delete(l.m, key)
		}
		l.mu.Unlock()
	}
	select {
	case e.turn <- struct{}{}:
		return func() { <-e.turn; release() }, nil
	case <-ctx.Done():
		release()
		return nil, ctx.Err()
	}
}

// issued hands a surface what it may see of an issuance.
func issued(r issue.Result, err error) (token.Issued, error) {
	if err != nil {
		return token.Issued{}, err
	}
	return r.Issued(), nil
}
