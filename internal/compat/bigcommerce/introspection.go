package bigcommerce

import (
	"github.com/vektah/gqlparser/v2/ast"
)

// Introspection of the served schema (GraphQL spec §4.2): __schema and
// __type resolve over the parsed SDL, so that tools and clients see
// exactly the subset this surface serves.

func schemaObject(s *ast.Schema) *object {
	var types []*object
	for _, name := range sortedTypeNames(s) {
		types = append(types, typeDef(s, s.Types[name]))
	}
	var dirs []*object
	for _, name := range sortedDirectiveNames(s) {
		dirs = append(dirs, directiveObject(s, s.Directives[name]))
	}
	opt := func(d *ast.Definition) any {
		if d == nil {
			return nil
		}
		return typeDef(s, d)
	}
	return &object{typ: "__Schema", fields: map[string]any{
		"description":      nil,
		"types":            types,
		"queryType":        opt(s.Query),
		"mutationType":     opt(s.Mutation),
		"subscriptionType": opt(s.Subscription),
		"directives":       dirs,
	}}
}

func sortedTypeNames(s *ast.Schema) []string {
	out := make([]string, 0, len(s.Types))
	for n := range s.Types {
		out = append(out, n)
	}
	sortStrings(out)
	return out
}

func sortedDirectiveNames(s *ast.Schema) []string {
	out := make([]string, 0, len(s.Directives))
	for n := range s.Directives {
		out = append(out, n)
	}
	sortStrings(out)
	return out
}

// typeOf is the __Type of a type reference (with its wrappers).
func typeOf(s *ast.Schema, t *ast.Type) any {
	if t == nil {
		return nil
	}
	if t.NonNull {
		inner := *t
		inner.NonNull = false
		return wrapper("NON_NULL", typeOf(s, &inner))
	}
	if t.Elem != nil {
		return wrapper("LIST", typeOf(s, t.Elem))
	}
	if d := s.Types[t.NamedType]; d != nil {
		return typeDef(s, d)
	}
	return nil
}

func wrapper(kind string, of any) *object {
	return &object{typ: "__Type", fields: map[string]any{
		"kind": kind, "name": nil, "description": nil, "specifiedByURL": nil,
		"fields": nil, "interfaces": nil, "possibleTypes": nil, "enumValues": nil, "inputFields": nil,
		"ofType": of, "isOneOf": nil,
	}}
}

func typeDef(s *ast.Schema, d *ast.Definition) *object {
	desc := func(v string) any {
		if v == "" {
			return nil
		}
		return v
	}
	f := map[string]any{
		"kind": string(d.Kind), "name": d.Name, "description": desc(d.Description),
		"specifiedByURL": nil, "ofType": nil, "isOneOf": nil,
		"fields": nil, "interfaces": nil, "possibleTypes": nil, "enumValues": nil, "inputFields": nil,
	}
	if dir := d.Directives.ForName("specifiedBy"); dir != nil {
		if a := dir.Arguments.ForName("url"); a != nil && a.Value != nil {
			f["specifiedByURL"] = a.Value.Raw
		}
	}
	switch d.Kind {
	case ast.Object, ast.Interface:
		f["fields"] = resolver(func(args map[string]any) (any, error) {
			inc, _ := args["includeDeprecated"].(bool)
			var out []*object
			for _, fd := range d.Fields {
				if len(fd.Name) > 1 && fd.Name[:2] == "__" {
					continue
				}
				dep := fd.Directives.ForName("deprecated")
				if dep != nil && !inc {
					continue
				}
				out = append(out, fieldObject(s, fd, dep))
			}
			return out, nil
		})
		ifs := []*object{}
		for _, n := range d.Interfaces {
			ifs = append(ifs, typeDef(s, s.Types[n]))
		}
		f["interfaces"] = ifs
		if d.Kind == ast.Interface {
			f["possibleTypes"] = possible(s, d)
		}
	case ast.Union:
		f["possibleTypes"] = possible(s, d)
	case ast.Enum:
		f["enumValues"] = resolver(func(args map[string]any) (any, error) {
			inc, _ := args["includeDeprecated"].(bool)
			var out []*object
			for _, ev := range d.EnumValues {
				dep := ev.Directives.ForName("deprecated")
				if dep != nil && !inc {
					continue
				}
				out = append(out, &object{typ: "__EnumValue", fields: map[string]any{
					"name": ev.Name, "description": desc(ev.Description),
					"isDeprecated": dep != nil, "deprecationReason": reason(dep),
				}})
			}
			return out, nil
		})
	case ast.InputObject:
		f["inputFields"] = resolver(func(map[string]any) (any, error) {
			var out []*object
			for _, fd := range d.Fields {
				out = append(out, inputValue(s, fd.Name, fd.Description, fd.Type, fd.DefaultValue, fd.Directives))
			}
			return out, nil
		})
	}
	return &object{typ: "__Type", fields: f}
}

func possible(s *ast.Schema, d *ast.Definition) []*object {
	var out []*object
	for _, p := range s.GetPossibleTypes(d) {
		out = append(out, typeDef(s, p))
	}
	return out
}

func reason(dep *ast.Directive) any {
	if dep == nil {
		return nil
	}
	if a := dep.Arguments.ForName("reason"); a != nil && a.Value != nil {
		return a.Value.Raw
	}
	return "No longer supported"
}

func fieldObject(s *ast.Schema, fd *ast.FieldDefinition, dep *ast.Directive) *object {
	var args []*object
	for _, a := range fd.Arguments {
		args = append(args, inputValue(s, a.Name, a.Description, a.Type, a.DefaultValue, a.Directives))
	}
	if args == nil {
		args = []*object{}
	}
	var desc any
	if fd.Description != "" {
		desc = fd.Description
	}
	return &object{typ: "__Field", fields: map[string]any{
		"name": fd.Name, "description": desc, "args": args, "type": typeOf(s, fd.Type),
		"isDeprecated": dep != nil, "deprecationReason": reason(dep),
	}}
}

func inputValue(s *ast.Schema, name, description string, t *ast.Type, def *ast.Value, ds ast.DirectiveList) *object {
	var d, dv any
	if description != "" {
		d = description
	}
	if def != nil {
		dv = def.String()
	}
	dep := ds.ForName("deprecated")
	return &object{typ: "__InputValue", fields: map[string]any{
		"name": name, "description": d, "type": typeOf(s, t), "defaultValue": dv,
		"isDeprecated": dep != nil, "deprecationReason": reason(dep),
	}}
}

func directiveObject(s *ast.Schema, d *ast.DirectiveDefinition) *object {
	locs := make([]any, len(d.Locations))
	for i, l := range d.Locations {
		locs[i] = string(l)
	}
	args := []*object{}
	for _, a := range d.Arguments {
		args = append(args, inputValue(s, a.Name, a.Description, a.Type, a.DefaultValue, a.Directives))
	}
	var desc any
	if d.Description != "" {
		desc = d.Description
	}
	return &object{typ: "__Directive", fields: map[string]any{
		"name": d.Name, "description": desc, "locations": locs, "args": args, "isRepeatable": d.IsRepeatable,
	}}
}
