package sqldb

import (
	"context"
	"strconv"
	"strings"
	"sync"
)

// maxChunk bounds the rows of one multi-row INSERT.
const maxChunk = 64

// insertRows inserts rows of width values each (args holds them in order)
// with head, "INSERT INTO t (cols) VALUES ", one statement per chunk.
// Chunks hold a power of two rows, at most maxChunk, so a handful of
// statement texts (each prepared once per connection) serve every batch
// size. Over a network each statement costs a round trip, so on
// PostgreSQL this turns a batch of N rows from N round trips into at most
// log2(N)+1.
func insertRows(ctx context.Context, q querier, head string, width int, args []any) error {
	for n := len(args) / width; n > 0; {
		chunk := maxChunk
		for chunk > n {
			chunk /= 2
		}
		if _, err := q.ExecContext(ctx, valuesSQL(head, width, chunk), args[:chunk*width]...); err != nil {
			return err
		}
		args, n = args[chunk*width:], n-chunk
	}
	return nil
}

var valuesCache sync.Map // valuesKey -> string

type valuesKey struct {
	head        string
	width, rows int
}

// valuesSQL returns head followed by rows groups of width placeholders,
// numbered $1, $2, ... across the groups.
func valuesSQL(head string, width, rows int) string {
	k := valuesKey{head, width, rows}
	if s, ok := valuesCache.Load(k); ok {
		return s.(string)
	}
	var b strings.Builder
	b.WriteString(head)
	for r := range rows {
		if r > 0 {
			b.WriteString(", ")
		}
		b.WriteByte('(')
		for c := range width {
			if c > 0 {
				b.WriteString(", ")
			}
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(r*width + c + 1))
		}
		b.WriteByte(')')
	}
	s, _ := valuesCache.LoadOrStore(k, b.String())
	return s.(string)
}
