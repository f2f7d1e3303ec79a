// Package hashindex finds the index of a record by its key's hash: a hash
// table of open addressing, which finds a key or the free slot for it in one
// probe (a map would take one lookup to find it missing and another to add
// it). The records themselves stay in the caller's own slices; the table
// holds only hashes, keys and indexes, none of them pointers unless the key
// has some, so the garbage collector has nothing to scan in it.
package hashindex
