// Package metrics keeps wvbatch's Prometheus metrics: runs by outcome,
// orders by state, Equinix API requests by operation and status with their
// latency, retries and 429 waits, token requests, refused credentials,
// report emails, the scheduler's next run and lag per job, and the store's
// size. It serves them on /metrics (with /healthz) for a daemon, and writes
// them in the text format for node_exporter's textfile collector for a
// command that runs and exits.
//
// Lower packages do not import it: the Equinix client reports through
// equinix.Observer, which *Metrics implements; the command line calls the
// rest. No label holds a visitor's data or a secret: labels are outcomes,
// states, API operations with ids replaced, HTTP statuses and job names.
package metrics
