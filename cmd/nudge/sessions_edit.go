package main

// Editing campaign.yaml in place: `nudge sessions reschedule` and `cancel`
// change one scalar of one session, or add one key, and leave every other
// byte of the file as it was (comments, quoting, order, blank lines). The
// file is parsed with goccy/go-yaml only to find where the value is; the
// edit is a splice of the original bytes at that place, checked against
// the token the parser saw there, and the result must parse and validate
// as a campaign before it replaces the file (temp file + rename). Anything
// the splice cannot do safely (an anchor, a multi-line value) is refused
// with a hint to edit by hand.

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"
	"github.com/goccy/go-yaml/token"
	"github.com/spf13/cobra"

	"github.com/nudge-passkeys/nudge/internal/atomicfile"
	"github.com/nudge-passkeys/nudge/internal/campaign"
)

func newSessionsRescheduleCmd(e *env) *cobra.Command {
	var start string
	cmd := &cobra.Command{
		Use:   "reschedule ID --start 2026-12-03T15:00",
		Short: "Move a session to a new start time (local, in its zone), editing campaign.yaml in place",
		Long: `reschedule sets the session's start: in campaign.yaml, keeping the rest of the
file as it is, after checking the result is a valid campaign and the new time
is not in the past. Then nudge send WAVE --updates sends the people invited to
it an update of the same invitation (SEQUENCE one higher); when the wave has
send_at, the next nudge run sends it by itself.`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usageError("reschedule needs one session id, e.g. nudge sessions reschedule s2 --start 2026-12-03T15:00")
			}
			if start == "" {
				return usageError("reschedule needs --start, the new local start time, e.g. --start 2026-12-03T15:00")
			}
			if _, err := time.Parse("2006-01-02T15:04", start); err != nil {
				return usageError("--start %q: want YYYY-MM-DDTHH:MM, the local time in the session's zone", start)
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			return editSession(e, args[0], "start", strconv.Quote(start), "rescheduled to "+start)
		},
	}
	cmd.Flags().StringVar(&start, "start", "", "the new local start time, YYYY-MM-DDTHH:MM in the session's zone")
	return cmd
}

func newSessionsCancelCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "cancel ID",
		Short: "Mark a session cancelled: true in campaign.yaml, editing it in place",
		Long: `cancel sets cancelled: true on the session in campaign.yaml, keeping the rest
of the file as it is. Then nudge send WAVE --updates sends the people invited to
it a cancellation (METHOD:CANCEL) of the same invitation. Keep cancelled
sessions in the file: a deleted one cannot be cancelled.`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usageError("cancel needs one session id, e.g. nudge sessions cancel s3")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			return editSession(e, args[0], "cancelled", "true", "cancelled")
		},
	}
}

// editSession sets key to the YAML scalar value in session id of the
// campaign file, adding the key when it is missing.
func editSession(e *env, id, key, value, done string) error {
	p, err := e.loadCampaign()
	if err != nil {
		return err
	}
	if p.builtin {
		return withHint(fmt.Errorf("the built-in demo campaign cannot be edited"), "copy it to content/campaign.yaml first (nudge init), or pass --campaign PATH")
	}
	if _, ok := p.c.Session(id); !ok {
		ids := make([]string, len(p.c.Sessions.List))
		for i, s := range p.c.Sessions.List {
			ids[i] = s.ID
		}
		return usageError("no session %q in %s (sessions: %s)", id, p.c.File, strings.Join(ids, ", "))
	}
	src, err := os.ReadFile(e.campaign)
	if err != nil {
		return err
	}
	out, err := setSessionKey(src, id, key, value)
	if err != nil {
		return withHint(fmt.Errorf("%s: session %q: %w", p.c.File, id, err), "edit the file by hand, then run nudge check")
	}
	c, err := campaign.Parse(p.c.File, out)
	if err != nil {
		return withHint(err, "%s was not changed", p.c.File)
	}
	for _, pr := range c.PastSessions(e.now()) {
		if strings.Contains(pr.Msg, strconv.Quote(id)) {
			return withHint(fmt.Errorf("%s", pr.String()), "%s was not changed", p.c.File)
		}
	}
	info, err := os.Stat(e.campaign)
	if err != nil {
		return err
	}
	if err := atomicfile.WriteBytes(e.campaign, info.Mode().Perm(), out); err != nil {
		return err
	}
	fmt.Fprintf(e.stderr, "nudge: session %s %s in %s; send the change with nudge send WAVE --updates\n", id, done, p.c.File)
	return nil
}

// setSessionKey returns src with key: value in the sessions.list entry
// whose id is id.
func setSessionKey(src []byte, id, key, value string) ([]byte, error) {
	f, err := parser.ParseBytes(src, parser.ParseComments)
	if err != nil {
		return nil, err
	}
	if len(f.Docs) != 1 {
		return nil, fmt.Errorf("want one YAML document")
	}
	m := mapping(f.Docs[0].Body)
	list, ok := seq(lookup(mapping(lookup(m, "sessions")), "list"))
	if !ok {
		return nil, fmt.Errorf("no sessions.list")
	}
	var session *ast.MappingNode
	var idValue ast.Node
	for _, n := range list.Values {
		em := mapping(n)
		if v := lookup(em, "id"); v != nil && scalarString(v) == id {
			session, idValue = em, v
			break
		}
	}
	if session == nil {
		return nil, fmt.Errorf("not found in sessions.list")
	}
	lines := bytes.SplitAfter(src, []byte("\n"))
	if v := lookup(session, key); v != nil {
		start, end, err := scalarSpan(lines, v)
		if err != nil {
			return nil, err
		}
		return splice(src, start, end, value), nil
	}
	// Add the key after the id.
	_, end, err := scalarSpan(lines, idValue)
	if err != nil {
		return nil, err
	}
	if session.IsFlowStyle {
		return splice(src, end, end, ", "+key+": "+value), nil
	}
	idKey := entry(session, "id").Key
	indent := strings.Repeat(" ", idKey.GetToken().Position.Column-1)
	// After the id's line, whatever follows it there (a comment).
	eol := bytes.IndexByte(src[end:], '\n')
	if eol < 0 {
		return append(append(bytes.Clone(src), '\n'), indent+key+": "+value+"\n"...), nil
	}
	at := end + eol + 1
	nl := "\n"
	if eol > 0 && src[end+eol-1] == '\r' {
		nl = "\r\n"
	}
	return splice(src, at, at, indent+key+": "+value+nl), nil
}

func splice(src []byte, start, end int, s string) []byte {
	out := make([]byte, 0, len(src)+len(s))
	out = append(out, src[:start]...)
	out = append(out, s...)
	return append(out, src[end:]...)
}

// scalarSpan is the byte range of a one-line scalar's text in the file
// (quotes included), checked against what the parser read there.
func scalarSpan(lines [][]byte, n ast.Node) (int, int, error) {
	tk := n.GetToken()
	if tk == nil || tk.Position == nil {
		return 0, 0, fmt.Errorf("no position for %s", n)
	}
	switch n.(type) {
	case *ast.StringNode, *ast.BoolNode, *ast.IntegerNode, *ast.FloatNode, *ast.NullNode, *ast.LiteralNode:
	default:
		return 0, 0, fmt.Errorf("line %d: a %s value cannot be edited in place", tk.Position.Line, n.Type())
	}
	if _, lit := n.(*ast.LiteralNode); lit {
		return 0, 0, fmt.Errorf("line %d: a multi-line value cannot be edited in place", tk.Position.Line)
	}
	li := tk.Position.Line - 1
	if li < 0 || li >= len(lines) {
		return 0, 0, fmt.Errorf("line %d: out of the file", tk.Position.Line)
	}
	off := 0
	for _, l := range lines[:li] {
		off += len(l)
	}
	line := string(lines[li])
	// Column counts characters from 1.
	col, chars := -1, 0
	for i := range line {
		if chars == tk.Position.Column-1 {
			col = i
			break
		}
		chars++
	}
	if col < 0 {
		return 0, 0, fmt.Errorf("line %d: column %d out of the line", tk.Position.Line, tk.Position.Column)
	}
	rest := line[col:]
	var size int
	switch tk.Type {
	case token.DoubleQuoteType:
		size = quotedEnd(rest, '"')
	case token.SingleQuoteType:
		size = quotedEnd(rest, '\'')
	default:
		if !strings.HasPrefix(rest, tk.Value) {
			return 0, 0, fmt.Errorf("line %d: the value is not where the parser put it", tk.Position.Line)
		}
		size = len(tk.Value)
	}
	if size <= 0 {
		return 0, 0, fmt.Errorf("line %d: a quoted value that goes on past its line cannot be edited in place", tk.Position.Line)
	}
	return off + col, off + col + size, nil
}

// quotedEnd is the length of the quoted scalar at the start of s, or 0
// when it does not end on this line.
func quotedEnd(s string, q byte) int {
	if s == "" || s[0] != q {
		return 0
	}
	for i := 1; i < len(s); i++ {
		switch {
		case q == '"' && s[i] == '\\':
			i++
		case s[i] == q && q == '\'' && i+1 < len(s) && s[i+1] == '\'':
			i++
		case s[i] == q:
			return i + 1
		}
	}
	return 0
}

func mapping(n ast.Node) *ast.MappingNode {
	switch m := n.(type) {
	case *ast.MappingNode:
		return m
	case *ast.MappingValueNode:
		return &ast.MappingNode{Values: []*ast.MappingValueNode{m}}
	}
	return nil
}

func seq(n ast.Node) (*ast.SequenceNode, bool) {
	s, ok := n.(*ast.SequenceNode)
	return s, ok
}

// entry is key's key-value pair in m, or nil.
func entry(m *ast.MappingNode, key string) *ast.MappingValueNode {
	if m == nil {
		return nil
	}
	for _, mv := range m.Values {
		if keyString(mv.Key) == key {
			return mv
		}
	}
	return nil
}

func lookup(m *ast.MappingNode, key string) ast.Node {
	if mv := entry(m, key); mv != nil {
		return mv.Value
	}
	return nil
}

func keyString(k ast.MapKeyNode) string {
	if s, ok := k.(*ast.StringNode); ok {
		return s.Value
	}
	return k.String()
}

func scalarString(n ast.Node) string {
	if s, ok := n.(*ast.StringNode); ok {
		return s.Value
	}
	return n.String()
}
