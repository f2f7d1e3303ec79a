// Package mailtest runs an in-process SMTP server for tests, with STARTTLS,
// implicit TLS and AUTH PLAIN on a self-signed certificate, and parses the
// MIME messages it receives.
package mailtest
