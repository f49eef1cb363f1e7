// Package audience compiles the campaign's audience rules (CEL expressions
// over a directory.Person) and sorts people into the audiences they match.
//
// Rules are type-checked once against the declared variables, so a typo
// fails at `nudge check`, not halfway through a wave. Evaluation is bounded:
// every rule has a cost limit per person, so no rule can run away.
package audience

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/google/cel-go/cel"
	"github.com/google/cel-go/checker"
	"github.com/google/cel-go/common"
	celast "github.com/google/cel-go/common/ast"
	"github.com/google/cel-go/common/types"
	"github.com/google/cel-go/common/types/ref"
	"github.com/google/cel-go/common/types/traits"
	"github.com/google/cel-go/ext"

	"github.com/nudge-passkeys/nudge/internal/directory"
	"github.com/nudge-passkeys/nudge/internal/spell"
)

// CostLimit bounds the work one rule may do for one person, in CEL cost
// units (roughly one per operation or list element visited).
const CostLimit = 10_000

// Rule is one named audience as written in the campaign file.
type Rule struct {
	Name        string
	Description string
	Where       string // the CEL expression
	File        string // for messages: the campaign file
	Line        int    // for messages: the line of `where:`
}

// pos is where the rule is written, as "file:line", for messages.
func (r Rule) pos() string {
	switch {
	case r.File == "" && r.Line == 0:
		return "campaign"
	case r.Line == 0:
		return r.File
	default:
		return fmt.Sprintf("%s:%d", r.File, r.Line)
	}
}

// Set is a compiled, type-checked list of rules, in campaign order. It is
// safe for concurrent use.
type Set struct {
	rules  []compiled
	names  []string
	index  map[string]int
	groups []string
}

type compiled struct {
	Rule
	prg cel.Program
}

// Compile compiles and type-checks every rule once. Its error lists every bad
// rule, one per line, as
//
//	content/campaign.yaml:42: audience "ready": where: isMfaCapabel && !hasPasskey: undeclared reference to 'isMfaCapabel' (did you mean 'isMfaCapable'?)
//
// followed by CEL's snippet with a caret under the fault. Empty or duplicate
// names, empty rules and rules whose result is not a bool are errors.
func Compile(rules []Rule) (*Set, error) {
	env, err := newEnv()
	if err != nil {
		return nil, fmt.Errorf("audience: %w", err)
	}
	s := &Set{index: make(map[string]int, len(rules))}
	var errs []error
	first := make(map[string]Rule, len(rules))
	for _, r := range rules {
		head := fmt.Sprintf("%s: audience %q", r.pos(), r.Name)
		if strings.TrimSpace(r.Name) == "" {
			errs = append(errs, fmt.Errorf("%s: name is empty", head))
		} else if prev, dup := first[r.Name]; dup {
			errs = append(errs, fmt.Errorf("%s: duplicate name, first defined at %s", head, prev.pos()))
		} else {
			first[r.Name] = r
		}
		if strings.TrimSpace(r.Where) == "" {
			errs = append(errs, fmt.Errorf("%s: where: is empty", head))
			continue
		}
		head += ": where: " + oneLine(r.Where)
		ast, iss := env.Compile(r.Where)
		if iss.Err() != nil {
			for _, e := range iss.Errors() {
				errs = append(errs, errors.New(head+": "+describe(e, r.Where)))
			}
			continue
		}
		if !ast.OutputType().IsExactType(cel.BoolType) {
			errs = append(errs, fmt.Errorf("%s: result is %s, want bool (true or false)", head, ast.OutputType()))
			continue
		}
		prg, err := program(env, ast)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %v", head, err))
			continue
		}
		s.groups = appendGroups(s.groups, ast.NativeRep().Expr())
		s.index[r.Name] = len(s.rules) // unique unless errs, and then s is dropped
		s.rules = append(s.rules, compiled{Rule: r, prg: prg})
		s.names = append(s.names, r.Name)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return s, nil
}

// Names returns the audience names in campaign order.
func (s *Set) Names() []string { return slices.Clone(s.names) }

// Groups returns the groups the rules name in memberOf calls, in the order
// first used, so a directory source knows whose members to read.
func (s *Set) Groups() []string { return slices.Clone(s.groups) }

// Matches returns the names of the rules the person matches, in rule order.
func (s *Set) Matches(p *directory.Person) ([]string, error) {
	act := &activation{p: p}
	var out []string
	for k := range s.rules {
		ok, err := s.eval(act, k)
		if err != nil {
			return nil, err
		}
		if ok {
			out = append(out, s.rules[k].Name)
		}
	}
	return out, nil
}

// eval evaluates rule k for the person in act.
func (s *Set) eval(act *activation, k int) (bool, error) {
	r := &s.rules[k]
	v, _, err := r.prg.Eval(act)
	if err != nil {
		return false, fmt.Errorf("%s: audience %q: person %q: %w", r.pos(), r.Name, act.p.UserPrincipalName, err)
	}
	b, ok := v.(types.Bool)
	if !ok { // the checker proved bool; this is a broken invariant
		return false, fmt.Errorf("%s: audience %q: person %q: result is %s, want bool", r.pos(), r.Name, act.p.UserPrincipalName, v.Type())
	}
	return bool(b), nil
}

// program plans a rule. Tracking cost at run time triples the time and
// allocations of an evaluation, so it is left off when CEL's static
// estimate proves the rule stays under CostLimit for any input (flags,
// comparisons with literals, memberOf); rules whose cost grows with the data
// (comprehensions, string functions) are tracked and stopped at CostLimit.
func program(env *cel.Env, ast *cel.Ast) (cel.Program, error) {
	opts := []cel.ProgramOption{cel.EvalOptions(cel.OptOptimize)}
	if est, err := env.EstimateCost(ast, noSizeHints{}); err != nil || est.Max > CostLimit {
		opts = append(opts, cel.CostLimit(CostLimit))
	}
	return env.Program(ast, opts...)
}

// noSizeHints tells the cost estimator nothing about sizes, so any cost
// that depends on the data is estimated as unbounded.
type noSizeHints struct{}

func (noSizeHints) EstimateSize(checker.AstNode) *checker.SizeEstimate { return nil }

func (noSizeHints) EstimateCallCost(string, string, *checker.AstNode, []checker.AstNode) *checker.CallEstimate {
	return nil
}

// newEnv returns the CEL environment for rules, built once.
var newEnv = sync.OnceValues(func() (*cel.Env, error) {
	opts := []cel.EnvOption{
		ext.Strings(),
		// memberOf("x") and hasMethod("x") read the person's lists. CEL
		// functions see only their arguments, so macros pass the list
		// along: memberOf("x") becomes memberOf(groups, "x").
		cel.Macros(
			cel.GlobalMacro("memberOf", 1, listMacro("memberOf", "groups", true)),
			cel.GlobalMacro("hasMethod", 1, listMacro("hasMethod", "methodsRegistered", false)),
		),
		cel.Function("memberOf", cel.Overload("memberOf_list_string",
			[]*cel.Type{cel.ListType(cel.StringType), cel.StringType}, cel.BoolType,
			cel.BinaryBinding(containsFold))),
		cel.Function("hasMethod", cel.Overload("hasMethod_list_string",
			[]*cel.Type{cel.ListType(cel.StringType), cel.StringType}, cel.BoolType,
			cel.BinaryBinding(containsFold))),
	}
	for _, f := range fields {
		opts = append(opts, cel.Variable(f.Name, f.typ))
	}
	return cel.NewEnv(opts...)
})

// listMacro rewrites fn(arg) into fn(list, arg). With literalOnly, arg must
// be a quoted string so Set.Groups can tell the directory what to read.
func listMacro(fn, list string, literalOnly bool) cel.MacroFactory {
	return func(eh cel.MacroExprFactory, _ celast.Expr, args []celast.Expr) (celast.Expr, *common.Error) {
		if literalOnly {
			if _, ok := stringLiteral(args[0]); !ok {
				return nil, eh.NewError(args[0].ID(), fn+` takes a group name or id in quotes, e.g. `+fn+`("Passkey pilot")`)
			}
		}
		return eh.NewCall(fn, eh.NewIdent(list), args[0]), nil
	}
}

func stringLiteral(e celast.Expr) (string, bool) {
	if e.Kind() != celast.LiteralKind {
		return "", false
	}
	s, ok := e.AsLiteral().(types.String)
	return string(s), ok
}

// appendGroups appends the memberOf arguments in e not yet in groups.
func appendGroups(groups []string, e celast.Expr) []string {
	celast.PreOrderVisit(e, celast.NewExprVisitor(func(e celast.Expr) {
		if e.Kind() != celast.CallKind || e.AsCall().FunctionName() != "memberOf" || len(e.AsCall().Args()) != 2 {
			return
		}
		g, ok := stringLiteral(e.AsCall().Args()[1])
		if ok && !slices.ContainsFunc(groups, func(h string) bool { return strings.EqualFold(g, h) }) {
			groups = append(groups, g)
		}
	}))
	return groups
}

// containsFold reports whether the list holds the string, ignoring case.
func containsFold(list, s ref.Val) ref.Val {
	want, ok := s.(types.String)
	if !ok {
		return types.MaybeNoSuchOverloadErr(s)
	}
	if l, ok := list.Value().([]string); ok { // fast path: lists from the activation
		for _, v := range l {
			if strings.EqualFold(v, string(want)) {
				return types.True
			}
		}
		return types.False
	}
	l, ok := list.(traits.Lister)
	if !ok {
		return types.MaybeNoSuchOverloadErr(list)
	}
	for it := l.Iterator(); it.HasNext() == types.True; {
		if v, ok := it.Next().(types.String); ok && strings.EqualFold(string(v), string(want)) {
			return types.True
		}
	}
	return types.False
}

// describe turns a CEL compile error into one message: CEL's text, a hint
// for a misspelt variable, and the snippet with a caret under the fault.
func describe(e *common.Error, src string) string {
	msg := strings.TrimSuffix(e.Message, " (in container '')")
	for _, fn := range []string{"memberOf", "hasMethod"} { // hide the macro's list argument
		msg = strings.Replace(msg, "'"+fn+"' applied to '(list(string), ", "'"+fn+"' applied to '(", 1)
	}
	if name, ok := strings.CutPrefix(msg, "undeclared reference to '"); ok {
		name, _, _ = strings.Cut(name, "'")
		if s := suggest(name); s != "" {
			msg += fmt.Sprintf(" (did you mean '%s'?)", s)
		}
	}
	line, col := e.Location.Line(), e.Location.Column()
	lines := strings.Split(src, "\n")
	if line < 1 || line > len(lines) || col < 0 {
		return msg
	}
	text := strings.ReplaceAll(lines[line-1], "\t", " ")
	caret := strings.Repeat(" ", min(col, utf8.RuneCountInString(text))) + "^"
	return msg + "\n\t| " + text + "\n\t| " + caret
}

// suggest returns the declared variable or function closest to a misspelt
// name, or "" when none is close.
func suggest(name string) string {
	candidates := []string{"memberOf", "hasMethod"}
	for _, f := range fields {
		candidates = append(candidates, f.Name)
	}
	return spell.Closest(name, candidates)
}

// oneLine collapses a rule written over several YAML lines into one.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
