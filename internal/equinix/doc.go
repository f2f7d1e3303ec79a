// Package equinix is a client for Equinix's Work Visit, order, lookup and token APIs.
package equinix
