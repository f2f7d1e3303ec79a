// Package emg reads Equinix Messaging Gateway WorkVisit messages (Create, Update and Cancel) and maps them to Work Visit REST v2 requests.
//
// An EMG message is an envelope {"Task": {...}, "Signature": "..."} whose
// Task is an object, or the same object as a JSON string. Parse checks the
// envelope and the field rules of the EMG WorkVisit schema (regular
// expressions, lengths, at most 50 visitors, at most two weeks) and reports
// every problem with the message's file, Id and field. Ordering through EMG
// was retired in 2025; the REST API needs no signature, so a signature is
// reported as not verified and otherwise ignored.
//
// Load reads and checks a batch of message files; an Applier applies the
// batch against the store and Equinix and returns one Result per message:
// the Create messages become one run of orders, placed through the run
// pipeline, and the Update and Cancel messages change the orders the store
// holds (recording first, as a run of their own, orders placed outside
// wvbatch).
package emg
