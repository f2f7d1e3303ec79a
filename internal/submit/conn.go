package submit

import (
	"context"
	"errors"
	"net"
	"syscall"

	"github.com/rs/zerolog"

	"github.com/wvbatch/wvbatch/internal/equinix"
	"github.com/wvbatch/wvbatch/internal/queue"
	"github.com/wvbatch/wvbatch/internal/runstore"
)

// Login names where client orders: endpoint (as runs record it), and the
// user its credentials log in as when Equinix's token answer names one (a
// token is asked for now, unless the client holds a ready one). While the
// token request retries through an outage, log says so; tune, if set,
// adjusts the outage watch. Refused credentials and a done ctx are an
// error; an API that cannot be reached leaves the account unknown (the run
// then counts every account's orders at the endpoint as its own, never
// ordering twice), and the run meets the outage when it orders.
func Login(ctx context.Context, client *equinix.Client, endpoint string, log zerolog.Logger, tune func(*queue.RunConfig)) (runstore.Where, error) {
	watch := queue.RunConfig{Outage: client.Outage}
	if tune != nil {
		tune(&watch)
	}
	stopWatch := queue.WatchOutage(watch, log, nil)
	user, err := client.Login(ctx)
	stopWatch()
	switch {
	case err == nil:
	case equinix.IsAuth(err), ctx.Err() != nil:
		return runstore.Where{}, err
	default:
		log.Warn().Err(err).Msg("the account the credentials log in as is not known: the API did not answer")
	}
	return runstore.Where{Endpoint: endpoint, Account: user}, nil
}

// FollowRun says where to work on run: the sandbox or the endpoint named
// (sandbox, endpoint), or else where the run was ordered, unless envEndpoint
// (EQUINIX_API_ENDPOINT) names one (the pipeline then refuses another
// endpoint than the run's, see SameEndpoint). explicit says whether the
// endpoint was named rather than taken from the run's record.
func FollowRun(run runstore.Run, sandbox bool, endpoint, envEndpoint string) (useSandbox bool, useEndpoint string, explicit bool) {
	if sandbox || endpoint != "" {
		return sandbox, endpoint, true
	}
	switch run.Endpoint {
	case "sandbox":
		return true, "", false
	case "", runstore.EndpointUnknown:
		return false, "", envEndpoint != ""
	}
	if envEndpoint != "" {
		return false, "", true
	}
	return false, run.Endpoint, false
}

// ErrorHint says what a person can do about an error from the API that
// they must act on: credentials refused, Equinix unreachable or failing;
// "" for any other error.
func ErrorHint(err error) string {
	var ae *equinix.AuthError
	switch {
	case err == nil:
		return ""
	case errors.As(err, &ae) && ae.ReadyToken:
		return "the token in EQUINIX_API_TOKEN was refused: it may have expired; get a new one, or set EQUINIX_API_CLIENTID and EQUINIX_API_CLIENTSECRET so that wvbatch gets its own"
	case errors.As(err, &ae):
		return "check EQUINIX_API_CLIENTID and EQUINIX_API_CLIENTSECRET; no further attempt was made, as Equinix locks the account after 5 refused attempts"
	case errors.Is(err, queue.ErrGaveUp):
		return "Equinix could not be reached or kept failing; no order was rejected for it: once Equinix answers again (check the network, a proxy, " +
			equinix.EnvEndpoint + "), resuming the run places what is left"
	case errors.As(err, new(*net.DNSError)):
		return "the endpoint's host name cannot be found: check the URL in --endpoint, " + equinix.EnvEndpoint +
			" or the config file, and the network's name service; resume the run once it answers"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "nothing answers at the endpoint: check the URL and port in --endpoint, " + equinix.EnvEndpoint +
			" or the config file (a sandbox server: is 'wvbatch sandbox --listen' running?); resume the run once it answers"
	case equinix.IsRetryable(err):
		return "Equinix did not answer or kept failing (a timeout, 429 or 5xx): not a verdict on the roster; run the same command again once it answers"
	}
	return ""
}

// LazyConn connects when the pipeline first needs a connection (see
// Input.Connect), once, and closes what it opened.
type LazyConn struct {
	// Dial connects and logs in, and returns what closes the connection.
	Dial func() (*Conn, func(), error)
	// Run, when set, is the run worked on: Connect refuses to reach
	// another endpoint than its own (see SameEndpoint), before anything is
	// sent.
	Run   *runstore.Run
	conn  *Conn
	close func()
}

// Connect dials, the first time, and returns the connection.
func (l *LazyConn) Connect() (*Conn, error) {
	if l.conn == nil {
		c, closeConn, err := l.Dial()
		if err != nil {
			return nil, err
		}
		l.conn, l.close = c, closeConn
	}
	c := *l.conn
	if l.Run != nil {
		if err := SameEndpoint(*l.Run, &c); err != nil {
			return nil, err
		}
	}
	return &c, nil
}

// Close closes the connection, if one was made.
func (l *LazyConn) Close() {
	if l.close != nil {
		l.close()
		l.close = nil
	}
}
