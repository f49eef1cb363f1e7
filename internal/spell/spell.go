// Package spell finds what a misspelt name was probably meant to be, for
// "did you mean" hints.
package spell

import "strings"

// Closest returns the candidate nearest to word, ignoring case, when it is
// at most two edits away (a typo, not a different word); otherwise "".
// Ties go to the earlier candidate.
func Closest(word string, candidates []string) string {
	best, bestDist := "", 3
	w := strings.ToLower(word)
	for _, c := range candidates {
		if d := Distance(w, strings.ToLower(c)); d < bestDist {
			best, bestDist = c, d
		}
	}
	return best
}

// Distance is the Levenshtein distance between a and b, counting a swap of
// two adjacent characters as one edit.
func Distance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev2 := make([]int, len(rb)+1)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(rb)]
}
