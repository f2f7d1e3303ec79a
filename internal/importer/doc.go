// Package importer reads a roster file, checks every row and plans the work
// visit orders it asks for: the whole offline half of a run.
package importer
