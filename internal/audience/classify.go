package audience

import (
	"math/bits"
	"strings"

	"github.com/nudge-passkeys/nudge/internal/directory"
)

// Reasons a person is excluded from every audience.
const (
	ReasonDisabled = "account disabled"
	ReasonGuest    = "guest"
	ReasonListed   = "on the exclude list"
)

// Exclusions are people no audience may contain, whatever the rules say.
type Exclusions struct {
	Disabled bool // exclude accounts that cannot sign in
	Guests   bool // exclude B2B guests
	// Listed holds lower-cased UPNs, mail addresses or object ids; see
	// ListOf. A person is listed when any of the three is in it.
	Listed map[string]bool
}

// ListOf returns the set for Exclusions.Listed from UPNs, mail addresses or
// object ids as a person wrote them: trimmed, lower-cased, blanks dropped.
func ListOf(entries []string) map[string]bool {
	m := make(map[string]bool, len(entries))
	for _, e := range entries {
		if e = strings.ToLower(strings.TrimSpace(e)); e != "" {
			m[e] = true
		}
	}
	return m
}

// Excluded reports whether the person is excluded, and why.
func (e Exclusions) Excluded(p *directory.Person) (reason string, ok bool) {
	switch {
	case e.Disabled && !p.AccountEnabled:
		return ReasonDisabled, true
	case e.Guests && p.IsGuest():
		return ReasonGuest, true
	case e.listed(p.UserPrincipalName) || e.listed(p.Mail) || e.listed(p.ID):
		return ReasonListed, true
	}
	return "", false
}

func (e Exclusions) listed(s string) bool {
	return s != "" && len(e.Listed) > 0 && e.Listed[strings.ToLower(s)]
}

// Excluded is one person left out of every audience.
type Excluded struct {
	Index  int // into Result.People
	Reason string
}

// Result is how Classify sorted people. People are referred to by their
// index in Result.People, the slice given to Classify (not copied).
type Result struct {
	People    []directory.Person
	Excluded  []Excluded // in people order
	Unmatched []int      // not excluded and in no audience, in people order

	set     *Set
	members [][]int  // per rule, in people order
	matched []uint64 // per person, words bits: bit k set when rule k matched
	words   int
}

// Classify evaluates every rule for every person not excluded. It stops at
// the first evaluation error, which names the rule and the person.
func Classify(people []directory.Person, s *Set, ex Exclusions) (*Result, error) {
	words := (len(s.rules) + 63) / 64
	r := &Result{
		People:  people,
		set:     s,
		members: make([][]int, len(s.rules)),
		matched: make([]uint64, len(people)*words),
		words:   words,
	}
	act := &activation{}
	for i := range people {
		act.p = &people[i]
		if reason, ok := ex.Excluded(act.p); ok {
			r.Excluded = append(r.Excluded, Excluded{Index: i, Reason: reason})
			continue
		}
		inSome := false
		for k := range s.rules {
			ok, err := s.eval(act, k)
			if err != nil {
				return nil, err
			}
			if ok {
				r.members[k] = append(r.members[k], i)
				r.matched[i*words+k/64] |= 1 << (k % 64)
				inSome = true
			}
		}
		if !inSome {
			r.Unmatched = append(r.Unmatched, i)
		}
	}
	return r, nil
}

// Members returns the indices of the people in the named audience, in
// people order, or nil for an unknown name.
func (r *Result) Members(name string) []int {
	k, ok := r.set.index[name]
	if !ok {
		return nil
	}
	return r.members[k]
}

// Matches returns the audiences person i matched, in rule order; nil when
// the person was excluded or matched none.
func (r *Result) Matches(i int) []string {
	var out []string
	for w, word := range r.matched[i*r.words : (i+1)*r.words] {
		for ; word != 0; word &= word - 1 {
			out = append(out, r.set.names[w*64+bits.TrailingZeros64(word)])
		}
	}
	return out
}

// In reports whether person i is in the named audience.
func (r *Result) In(i int, name string) bool {
	k, ok := r.set.index[name]
	return ok && r.matched[i*r.words+k/64]&(1<<(k%64)) != 0
}

// First returns the first audience in among (a wave's list) that person i
// is in. Names that are not audiences are skipped; the campaign checks them.
func (r *Result) First(i int, among []string) (string, bool) {
	for _, name := range among {
		if r.In(i, name) {
			return name, true
		}
	}
	return "", false
}
