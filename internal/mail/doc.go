// Package mail sends run reports by email over SMTP.
package mail
