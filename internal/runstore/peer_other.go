//go:build !linux

package runstore

import "net"

// peerIsMe trusts the socket's mode (0600) and folder where the system
// does not tell who the peer is as Linux does.
func peerIsMe(*net.UnixConn) bool { return true }
