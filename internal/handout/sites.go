package handout

import (
	"sort"
	"strings"

	"golang.org/x/text/collate"
	"golang.org/x/text/language"

	"github.com/nudge-passkeys/nudge/internal/directory"
	"github.com/nudge-passkeys/nudge/internal/untrusted"
)

// siteGroup is the items of one site.
type siteGroup[T any] struct {
	name  string
	items []T
}

// groupBySite groups items by their person's office location (Unassigned
// when missing, compared without regard to case), sites in name order
// with Unassigned last, people by name within a site.
func groupBySite[T any](items []T, person func(T) *directory.Person) []siteGroup[T] {
	bySite := map[string]*siteGroup[T]{}
	for _, it := range items {
		name := strings.Join(strings.Fields(untrusted.OneLine(person(it).OfficeLocation)), " ")
		if name == "" {
			name = Unassigned
		}
		key := strings.ToLower(name)
		s, ok := bySite[key]
		if !ok {
			s = &siteGroup[T]{name: name}
			bySite[key] = s
		}
		s.items = append(s.items, it)
	}
	col := collate.New(language.Und, collate.IgnoreCase)
	sites := make([]siteGroup[T], 0, len(bySite))
	for _, s := range bySite {
		sites = append(sites, *s)
	}
	sort.Slice(sites, func(i, j int) bool {
		a, b := sites[i], sites[j]
		if (a.name == Unassigned) != (b.name == Unassigned) {
			return b.name == Unassigned
		}
		if c := col.CompareString(a.name, b.name); c != 0 {
			return c < 0
		}
		return a.name < b.name
	})
	for _, s := range sites {
		sort.SliceStable(s.items, func(i, j int) bool {
			a, b := person(s.items[i]), person(s.items[j])
			if c := col.CompareString(sortName(a), sortName(b)); c != 0 {
				return c < 0
			}
			return a.UserPrincipalName < b.UserPrincipalName
		})
	}
	return sites
}
