package graphtest

// Serving policy. Every object is split once, when the server starts, into
// its top-level properties (name, raw JSON value), without decoding values
// and without copying them: values are slices of the tenant's own bytes,
// property names are interned, and the fields of all rows share a few large
// arrays, so Start allocates a handful of times per user, not per property.
// A $select is answered by concatenating the selected values, and a whole
// collection projected for one $select is kept (one byte arena plus row
// offsets), so paging 100,000 users costs a copy per page and nothing more.

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strings"
	"sync"
)

// field is one top-level property of an object: key indexes entitySet.names,
// and the raw JSON value is raw[start:end] of its row. Twelve bytes rather
// than a 32-byte key and slice: at 100,000 users of 15 properties each,
// 18 MB instead of 48.
type field struct {
	key        int32
	start, end uint32
}

// row is one object, compact JSON, split into its properties in document
// order.
type row struct {
	raw    []byte
	fields []field
}

// value returns the raw JSON of property key, or nil when the object lacks it.
func (r *row) value(key int) []byte {
	for _, f := range r.fields {
		if int(f.key) == key {
			return r.raw[f.start:f.end:f.end]
		}
	}
	return nil
}

// str returns property key as a string, "" when absent, null or not a string.
func (r *row) str(key int) string {
	v := r.value(key)
	if len(v) < 2 || v[0] != '"' {
		return ""
	}
	if bytes.IndexByte(v, '\\') < 0 {
		return string(v[1 : len(v)-1])
	}
	var s string
	if json.Unmarshal(v, &s) != nil {
		return ""
	}
	return s
}

// schema describes what Graph knows of an entity type.
type schema struct {
	typeName string   // as Graph names it in "Could not find a property" errors
	known    []string // documented properties, in canonical spelling
	defaults []string // returned without $select; nil returns every property
	// single names properties Graph returns only for a single object, never
	// in a collection (GET /users?$select=aboutMe is 501).
	single []string
}

// entitySet holds the objects of one type, split and indexed.
type entitySet struct {
	schema
	names  []string       // canonical property names by key
	keys   map[string]int // lower-case name -> key
	exact  map[string]int // name as spelled in the data -> key
	single map[int]bool
	rows   []row
	arena  []field // spare fields that rows are carved from

	mu    sync.Mutex
	cache map[string]*projection // by canonical $select
}

// projection is a whole collection encoded for one $select.
type projection struct {
	data []byte
	ends []int // row i is data[ends[i-1]:ends[i]]
}

func (p *projection) row(i int) []byte {
	start := 0
	if i > 0 {
		start = p.ends[i-1]
	}
	return p.data[start:p.ends[i]]
}

func newEntitySet(s schema) *entitySet {
	e := &entitySet{schema: s, keys: map[string]int{}, exact: map[string]int{}, single: map[int]bool{}, cache: map[string]*projection{}}
	for _, n := range s.known {
		e.key(n)
	}
	for _, n := range s.single {
		e.single[e.key(n)] = true
	}
	return e
}

// key returns the key of property name, adding it when new. Graph matches
// property names without regard to case.
func (e *entitySet) key(name string) int {
	lower := strings.ToLower(name)
	if k, ok := e.keys[lower]; ok {
		return k
	}
	k := len(e.names)
	e.names = append(e.names, name)
	e.keys[lower] = k
	return k
}

// keyOf is key for a property name as it appears in the data: a lookup
// that allocates nothing once the spelling has been seen.
func (e *entitySet) keyOf(name []byte) int {
	if k, ok := e.exact[string(name)]; ok {
		return k
	}
	k := e.key(string(name))
	e.exact[string(name)] = k
	return k
}

// fieldChunk is how many fields the arena allocates at a time.
const fieldChunk = 1 << 14

// add splits raw and appends it. Untrusted input is validated and
// compacted; trusted input (from Synthesize) is kept as it is, without a
// copy.
func (e *entitySet) add(raw []byte, trusted bool) (*row, error) {
	if !trusted {
		var buf bytes.Buffer
		if err := json.Compact(&buf, raw); err != nil {
			return nil, fmt.Errorf("not valid JSON: %v", err)
		}
		raw = buf.Bytes()
	}
	if len(raw) > math.MaxUint32 {
		return nil, errors.New("object larger than 4 GB")
	}
	start := len(e.arena)
	err := scanObject(raw, func(name []byte, vstart, vend int) error {
		if len(e.arena) == cap(e.arena) {
			// Move this row's fields to a fresh chunk; the old chunk stays
			// with the rows already carved from it.
			fresh := make([]field, len(e.arena)-start, max(fieldChunk, 2*(len(e.arena)-start)))
			copy(fresh, e.arena[start:])
			e.arena, start = fresh, 0
		}
		e.arena = append(e.arena, field{key: int32(e.keyOf(name)), start: uint32(vstart), end: uint32(vend)})
		return nil
	})
	if err != nil {
		e.arena = e.arena[:start]
		return nil, err
	}
	fields := e.arena[start:len(e.arena):len(e.arena)]
	e.arena = e.arena[len(e.arena):]
	e.rows = append(e.rows, row{raw: raw, fields: fields})
	return &e.rows[len(e.rows)-1], nil
}

// selection is a parsed $select: keys in output order, id first.
type selection struct {
	keys  []int
	canon string
}

// parseSelect resolves a $select value; "" gives the schema's defaults (or
// every property). It returns a Graph error for an unknown property.
func (e *entitySet) parseSelect(sel string, collection bool) (selection, *graphError) {
	idKey := e.key("id")
	var keys []int
	seen := map[int]bool{}
	addKey := func(k int) {
		if !seen[k] {
			seen[k] = true
			keys = append(keys, k)
		}
	}
	addKey(idKey)
	if strings.TrimSpace(sel) == "" {
		if e.defaults == nil {
			return selection{canon: "*"}, nil
		}
		for _, n := range e.defaults {
			addKey(e.key(n))
		}
	} else {
		for name := range strings.SplitSeq(sel, ",") {
			name = strings.TrimSpace(name)
			if name == "*" {
				return selection{canon: "*"}, nil
			}
			k, ok := e.keys[strings.ToLower(name)]
			if !ok || name == "" {
				return selection{}, &graphError{http.StatusBadRequest, "Request_BadRequest",
					fmt.Sprintf("Could not find a property named '%s' on type '%s'.", name, e.typeName)}
			}
			if collection && e.single[k] {
				return selection{}, &graphError{http.StatusNotImplemented, "NotImplemented",
					fmt.Sprintf("Property '%s' can be selected only when getting a single %s, not in a collection.", e.names[k], e.typeName)}
			}
			addKey(k)
		}
	}
	var canon strings.Builder
	for i, k := range keys {
		if i > 0 {
			canon.WriteByte(',')
		}
		canon.WriteString(e.names[k])
	}
	return selection{keys: keys, canon: canon.String()}, nil
}

// encode appends row r as projected by s to dst.
func (e *entitySet) encode(dst []byte, r *row, s selection) []byte {
	if s.keys == nil { // every property
		dst = append(dst, '{')
		for i, f := range r.fields {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = appendName(dst, e.names[f.key])
			dst = append(dst, r.raw[f.start:f.end]...)
		}
		return append(dst, '}')
	}
	dst = append(dst, '{')
	for i, k := range s.keys {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendName(dst, e.names[k])
		if v := r.value(k); v != nil {
			dst = append(dst, v...)
		} else {
			dst = append(dst, "null"...)
		}
	}
	return append(dst, '}')
}

// encodedLen is len(encode(nil, r, s)), so a projection is allocated once.
func (e *entitySet) encodedLen(r *row, s selection) int {
	n := 2 // {}
	if s.keys == nil {
		for i, f := range r.fields {
			n += len(e.names[f.key]) + 3 + int(f.end-f.start) + min(i, 1)
		}
		return n
	}
	for i, k := range s.keys {
		n += len(e.names[k]) + 3 + min(i, 1)
		if v := r.value(k); v != nil {
			n += len(v)
		} else {
			n += len("null")
		}
	}
	return n
}

func appendName(dst []byte, name string) []byte {
	dst = append(dst, '"')
	dst = append(dst, name...)
	return append(dst, '"', ':')
}

// project returns the whole set encoded for s, computing it once.
func (e *entitySet) project(s selection) *projection {
	e.mu.Lock()
	defer e.mu.Unlock()
	if p, ok := e.cache[s.canon]; ok {
		return p
	}
	size := 0
	for i := range e.rows {
		size += e.encodedLen(&e.rows[i], s)
	}
	p := &projection{data: make([]byte, 0, size), ends: make([]int, len(e.rows))}
	for i := range e.rows {
		p.data = e.encode(p.data, &e.rows[i], s)
		p.ends[i] = len(p.data)
	}
	e.cache[s.canon] = p
	return p
}

var errSyntax = errors.New("malformed JSON object")

// errStop ends a scanObject early without an error.
var errStop = errors.New("stop")

// scanObject calls fn with each top-level property of the JSON object b:
// its name (unescaped, valid only during the call) and where its raw JSON
// value is, b[start:end]. b must be valid JSON; scanObject checks only what
// it needs to find the properties. fn returning errStop ends the scan with
// a nil error.
func scanObject(b []byte, fn func(name []byte, start, end int) error) error {
	i := skipSpace(b, 0)
	if i >= len(b) || b[i] != '{' {
		return errors.New("not a JSON object")
	}
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == '}' {
		return nil
	}
	for {
		if i >= len(b) || b[i] != '"' {
			return errSyntax
		}
		end, err := scanString(b, i)
		if err != nil {
			return err
		}
		name := b[i+1 : end-1]
		if bytes.IndexByte(name, '\\') >= 0 {
			var s string
			if err := json.Unmarshal(b[i:end], &s); err != nil {
				return err
			}
			name = []byte(s)
		}
		i = skipSpace(b, end)
		if i >= len(b) || b[i] != ':' {
			return errSyntax
		}
		i = skipSpace(b, i+1)
		vend, err := scanValue(b, i)
		if err != nil {
			return err
		}
		if err := fn(name, i, vend); err != nil {
			if err == errStop {
				return nil
			}
			return err
		}
		i = skipSpace(b, vend)
		if i >= len(b) {
			return errSyntax
		}
		switch b[i] {
		case ',':
			i = skipSpace(b, i+1)
		case '}':
			return nil
		default:
			return errSyntax
		}
	}
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\r' || b[i] == '\n') {
		i++
	}
	return i
}

// scanString returns the index just past the string starting at b[i].
func scanString(b []byte, i int) (int, error) {
	for j := i + 1; j < len(b); j++ {
		switch b[j] {
		case '\\':
			j++
		case '"':
			return j + 1, nil
		}
	}
	return 0, errSyntax
}

// scanValue returns the index just past the JSON value starting at b[i].
func scanValue(b []byte, i int) (int, error) {
	if i >= len(b) {
		return 0, errSyntax
	}
	switch b[i] {
	case '"':
		return scanString(b, i)
	case '{', '[':
		depth := 0
		for j := i; j < len(b); j++ {
			switch b[j] {
			case '"':
				end, err := scanString(b, j)
				if err != nil {
					return 0, err
				}
				j = end - 1
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return j + 1, nil
				}
			}
		}
		return 0, errSyntax
	default:
		j := i
		for j < len(b) && !strings.ContainsRune(",}] \t\r\n", rune(b[j])) {
			j++
		}
		if j == i {
			return 0, errSyntax
		}
		return j, nil
	}
}
