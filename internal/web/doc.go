// Package web is wvbatch's browser front door: signed-in people upload a
// roster, see the same checks and plan the CLI shows, fix flagged cells in
// place and follow runs, through server-rendered pages served by the binary.
//
// It reads and checks rosters with package importer, exactly as `wvbatch
// validate` does, and keeps accounts, sessions and runs in the same store
// as the CLI, which it opens only for the moment it reads or writes.
package web
