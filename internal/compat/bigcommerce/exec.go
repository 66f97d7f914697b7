package bigcommerce

import (
	"bytes"
	"encoding/json"
	"errors"

	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/tokend/tokend/internal/fault"
)

// This file executes a validated GraphQL operation over resolved values
// (GraphQL spec §6 "Execution"): fields are collected through fragments
// and @skip/@include, resolved, and completed by their schema type;
// a field error nulls the field and is reported with its path.

// resolver computes a field's value from its arguments.
type resolver func(args map[string]any) (any, error)

// object is a value of a GraphQL object type: each field is a plain
// value or a resolver.
type object struct {
	typ    string
	fields map[string]any
}

// ordered is a JSON object that keeps its keys in response order.
type ordered []kv

type kv struct {
	k string
	v any
}

// MarshalJSON writes the keys in order.
func (o ordered) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, e := range o {
		if i > 0 {
			b.WriteByte(',')
		}
		k, _ := json.Marshal(e.k)
		b.Write(k)
		b.WriteByte(':')
		v, err := json.Marshal(e.v)
		if err != nil {
			return nil, err
		}
		b.Write(v)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// fieldError is a resolver's error with GraphQL extensions.
type fieldError struct {
	msg  string
	ext  map[string]any
	root bool // nulls the whole data, as a non-null root field would
}

func (e *fieldError) Error() string { return e.msg }

type executor struct {
	schema *ast.Schema
	vars   map[string]any
	errs   gqlerror.List
	// nullData is set when an error must null the whole response data.
	nullData bool
	// outage is a storage failure a resolver met: the answer is a 5xx.
	outage error
}

// selection executes set on o.
func (x *executor) selection(set ast.SelectionSet, o *object, path ast.Path) ordered {
	out := ordered{}
	for _, f := range x.collect(set, o.typ, nil) {
		key := f.Alias
		if key == "" {
			key = f.Name
		}
		p := append(append(ast.Path{}, path...), ast.PathName(key))
		if i := index(out, key); i >= 0 {
			// The same response key twice (validated to be the same
			// field): merge the sub-selections.
			if sub, ok := out[i].v.(ordered); ok {
				if v, ok := x.field(f, o, p).(ordered); ok {
					out[i].v = append(sub, v...)
				}
			}
			continue
		}
		v := x.field(f, o, p)
		if v == nil && f.Definition != nil && f.Definition.Type.NonNull {
			// A null in a non-null field nulls its parent (§6.4.4).
			return nil
		}
		out = append(out, kv{key, v})
	}
	return out
}

func index(o ordered, k string) int {
	for i, e := range o {
		if e.k == k {
			return i
		}
	}
	return -1
}

// collect gathers the fields of set that apply to type typ (§6.3.2).
func (x *executor) collect(set ast.SelectionSet, typ string, out []*ast.Field) []*ast.Field {
	for _, s := range set {
		switch s := s.(type) {
		case *ast.Field:
			if x.included(s.Directives) {
				out = append(out, s)
			}
		case *ast.InlineFragment:
			if x.included(s.Directives) && (s.TypeCondition == "" || s.TypeCondition == typ) {
				out = x.collect(s.SelectionSet, typ, out)
			}
		case *ast.FragmentSpread:
			if x.included(s.Directives) && s.Definition != nil && s.Definition.TypeCondition == typ {
				out = x.collect(s.Definition.SelectionSet, typ, out)
			}
		}
	}
	return out
}

// included applies @skip and @include.
func (x *executor) included(ds ast.DirectiveList) bool {
	if d := ds.ForName("skip"); d != nil {
		if v, _ := d.ArgumentMap(x.vars)["if"].(bool); v {
			return false
		}
	}
	if d := ds.ForName("include"); d != nil {
		if v, _ := d.ArgumentMap(x.vars)["if"].(bool); !v {
			return false
		}
	}
	return true
}

func (x *executor) field(f *ast.Field, o *object, path ast.Path) any {
	if f.Name == "__typename" {
		return o.typ
	}
	v, ok := o.fields[f.Name]
	if !ok {
		x.fail(path, &fieldError{msg: "Cannot query field \"" + f.Name + "\" on type \"" + o.typ + "\"."})
		return nil
	}
	if r, ok := v.(resolver); ok {
		var err error
		if v, err = r(f.ArgumentMap(x.vars)); err != nil {
			x.fail(path, err)
			return nil
		}
	}
	return x.complete(f, v, path)
}

// complete shapes a resolved value by its selection.
func (x *executor) complete(f *ast.Field, v any, path ast.Path) any {
	switch v := v.(type) {
	case nil:
		return nil
	case *object:
		if v == nil {
			return nil
		}
		if sub := x.selection(f.SelectionSet, v, path); sub != nil {
			return sub
		}
		return nil
	case []*object:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = x.selection(f.SelectionSet, e, append(append(ast.Path{}, path...), ast.PathIndex(i)))
		}
		return out
	}
	return v
}

func (x *executor) fail(path ast.Path, err error) {
	var plain *fieldError
	if !errors.As(err, &plain) {
		if c := fault.CodeOf(err); fault.As(err) == nil || c == fault.CodeUnavailable || c == fault.CodeInternal {
			x.outage = err
			return
		}
	}
	e := &gqlerror.Error{Message: err.Error(), Path: path}
	var fe *fieldError
	if errors.As(err, &fe) {
		e.Extensions = fe.ext
		if fe.root {
			x.nullData = true
		}
	}
	x.errs = append(x.errs, e)
}
