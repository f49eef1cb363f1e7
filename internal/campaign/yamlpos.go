package campaign

// Strictness policy: every key in campaign.yaml must be one nudge knows, and
// every problem is reported with its line, all at once, so that a change
// manager fixes the file in one pass rather than one error per run. The YAML
// library's own strict mode stops at the first unknown key, so nudge walks
// the syntax tree itself against the struct's yaml tags, and records the
// line of every node by path for later validation messages.

import (
	"fmt"
	"reflect"
	"sort"
	"strings"

	"github.com/goccy/go-yaml/ast"

	"github.com/nudge-passkeys/nudge/internal/spell"
)

// positions maps a path such as "waves[2].audiences[0]" to the line and
// column of the node's value in the file.
type positions map[string]pos

type pos struct{ line, col int }

// walk visits node, which should decode into a value of type t, recording
// positions and reporting keys that t does not have.
func walk(node ast.Node, t reflect.Type, path string, at positions, problems *[]problem) {
	if node == nil {
		return
	}
	for {
		switch n := node.(type) {
		case *ast.TagNode:
			node = n.Value
			continue
		case *ast.AnchorNode:
			node = n.Value
			continue
		}
		break
	}
	if tk := node.GetToken(); tk != nil && tk.Position != nil {
		at[path] = pos{tk.Position.Line, tk.Position.Column}
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch n := node.(type) {
	case *ast.MappingNode:
		walkMapping(n.Values, t, path, at, problems)
	case *ast.MappingValueNode:
		walkMapping([]*ast.MappingValueNode{n}, t, path, at, problems)
	case *ast.SequenceNode:
		if t.Kind() != reflect.Slice {
			return // the decoder reports the type mismatch
		}
		for i, v := range n.Values {
			walk(v, t.Elem(), fmt.Sprintf("%s[%d]", path, i), at, problems)
		}
	}
}

func walkMapping(values []*ast.MappingValueNode, t reflect.Type, path string, at positions, problems *[]problem) {
	if t.Kind() == reflect.Map {
		for _, mv := range values {
			key := keyString(mv.Key)
			walk(mv.Value, t.Elem(), join(path, key), at, problems)
		}
		return
	}
	if t.Kind() != reflect.Struct {
		return
	}
	fields := yamlFields(t)
	for _, mv := range values {
		key := keyString(mv.Key)
		tk := mv.Key.GetToken()
		if key == "<<" {
			continue // merge keys are resolved by the decoder
		}
		f, ok := fields[key]
		if !ok {
			line := 0
			if tk != nil && tk.Position != nil {
				line = tk.Position.Line
			}
			msg := fmt.Sprintf("unknown key %q", key)
			if path != "" {
				msg = fmt.Sprintf("unknown key %q in %s", key, path)
			}
			if s := suggest(key, fields); s != "" {
				msg += fmt.Sprintf(" (did you mean %q?)", s)
				// "sender.address: missing" after "sendr" says nothing new.
				at[join(path, s)+"#suggested"] = pos{line, 0}
			}
			*problems = append(*problems, problem{line: line, msg: msg})
			// Checks of this object would only repeat the typo ("missing
			// template" after "templte"): validation skips it.
			at[path+"#unknown"] = pos{line, 0}
			continue
		}
		if tk != nil && tk.Position != nil {
			at[join(path, key)+"#key"] = pos{tk.Position.Line, tk.Position.Column}
		}
		walk(mv.Value, f, join(path, key), at, problems)
	}
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func keyString(k ast.MapKeyNode) string {
	if k == nil {
		return ""
	}
	if s, ok := k.(*ast.StringNode); ok {
		return s.Value
	}
	return strings.TrimSpace(k.String())
}

// yamlFields returns the yaml keys of struct type t and their types.
func yamlFields(t reflect.Type) map[string]reflect.Type {
	out := map[string]reflect.Type{}
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		tag := f.Tag.Get("yaml")
		name, _, _ := strings.Cut(tag, ",")
		if name == "-" {
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		out[name] = f.Type
	}
	return out
}

// suggest returns the known key closest to key, if it is close enough to be
// a typo.
func suggest(key string, fields map[string]reflect.Type) string {
	names := make([]string, 0, len(fields))
	for k := range fields {
		names = append(names, k)
	}
	sort.Strings(names)
	return spell.Closest(key, names)
}
