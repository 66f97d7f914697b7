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

// Column types of arrayInsert.
const (
	colText  = "text"
	colBytea = "bytea"
	colInt8  = "int8"
	colBool  = "bool"
)

var arrayCache sync.Map // arrayKey -> string

type arrayKey struct {
	head  string
	types string
}

// arrayInsert inserts rows of len(types) values each (args holds them in
// order, as insertRows takes them) with head, "INSERT INTO t (cols) ", in
// one statement that passes each column as one array of its type and
// unnests them: whatever the number of rows, one round trip and one
// prepared statement (PostgreSQL). A value is a string, []byte, int64 or
// bool as its column's type says, or nil for NULL (bytea and int8).
func arrayInsert(ctx context.Context, q querier, head string, types []string, args []any) error {
	cols := arrayColumns(types, args)
	if cols == nil {
		return nil
	}
	_, err := q.ExecContext(ctx, unnestSQL(head, types), cols...)
	return err
}

// arrayColumns turns rows of len(types) values each (as arrayInsert takes
// them) into one array per column, or nil when there is no row.
func arrayColumns(types []string, args []any) []any {
	width := len(types)
	n := len(args) / width
	if n == 0 {
		return nil
	}
	cols := make([]any, width)
	for c, typ := range types {
		switch typ {
		case colText:
			a := make([]string, n)
			for r := range n {
				a[r] = args[r*width+c].(string)
			}
			cols[c] = a
		case colBytea:
			a := make([][]byte, n)
			for r := range n {
				if v := args[r*width+c]; v != nil {
					a[r] = v.([]byte)
				}
			}
			cols[c] = a
		case colInt8:
			a := make([]*int64, n)
			vals := make([]int64, n)
			for r := range n {
				if v := args[r*width+c]; v != nil {
					vals[r] = v.(int64)
					a[r] = &vals[r]
				}
			}
			cols[c] = a
		case colBool:
			a := make([]bool, n)
			for r := range n {
				a[r] = args[r*width+c].(bool)
			}
			cols[c] = a
		default:
			panic("sqldb: arrayInsert of unknown column type " + typ)
		}
	}
	return cols
}

// unnestSQL returns head followed by "SELECT * FROM unnest($1::t1[], ...)".
func unnestSQL(head string, types []string) string {
	k := arrayKey{head, strings.Join(types, ",")}
	if s, ok := arrayCache.Load(k); ok {
		return s.(string)
	}
	var b strings.Builder
	b.WriteString(head)
	b.WriteString("SELECT * FROM unnest(")
	for c, typ := range types {
		if c > 0 {
			b.WriteString(", ")
		}
		b.WriteByte('$')
		b.WriteString(strconv.Itoa(c + 1))
		b.WriteString("::")
		b.WriteString(typ)
		b.WriteString("[]")
	}
	b.WriteByte(')')
	s, _ := arrayCache.LoadOrStore(k, b.String())
	return s.(string)
}

// unnestParams returns "$first::t1[], $first+1::t2[], ...".
func unnestParams(types []string, first int) string {
	var b strings.Builder
	for c, typ := range types {
		if c > 0 {
			b.WriteString(", ")
		}
		b.WriteByte('$')
		b.WriteString(strconv.Itoa(first + c))
		b.WriteString("::")
		b.WriteString(typ)
		b.WriteString("[]")
	}
	return b.String()
}
