package main

import "hash/maphash"

// idSet is a set of strings kept as 64-bit hashes: a set of 100,000 ids or
// addresses costs a few megabytes instead of keeping every string alive.
// A collision (about one in 10^9 for 100,000 members) would make two
// members one; the sets here only decide who is skipped or sent in a run,
// and the ledger still guards every send.
type idSet struct {
	seed maphash.Seed
	m    map[uint64]struct{}
}

func newIDSet() *idSet { return &idSet{seed: maphash.MakeSeed(), m: map[uint64]struct{}{}} }

func (s *idSet) Add(v string)      { s.m[maphash.String(s.seed, v)] = struct{}{} }
func (s *idSet) Has(v string) bool { _, ok := s.m[maphash.String(s.seed, v)]; return ok }
func (s *idSet) Len() int          { return len(s.m) }
