package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"time"

	"github.com/rs/zerolog"
	"github.com/spf13/pflag"

	"github.com/wvbatch/wvbatch/internal/equinix"
	"github.com/wvbatch/wvbatch/internal/importer"
	"github.com/wvbatch/wvbatch/internal/preflight"
	"github.com/wvbatch/wvbatch/internal/queue"
	"github.com/wvbatch/wvbatch/internal/sandbox"
	"github.com/wvbatch/wvbatch/internal/secret"
)

// apiFlags choose and configure the Equinix API, or the sandbox.
type apiFlags struct {
	sandbox        bool
	sandboxAccount string
	sandboxLax     bool
	sandboxFaults  float64
	sandboxLatency time.Duration
	endpoint       string
	clientID       string
	configFile     string
	rate           float64
	timeout        time.Duration
	// store, when set, is the run store of the command: the in-process
	// sandbox keeps its orders in sandbox.json beside it.
	store *storeFlag
}

func (f *apiFlags) bind(fs *pflag.FlagSet) {
	fs.BoolVar(&f.sandbox, "sandbox", false, "use the built-in sandbox instead of Equinix (nothing is really ordered)")
	fs.StringVar(&f.sandboxAccount, "sandbox-account", "", "with --sandbox: the account file the sandbox holds (see 'wvbatch sandbox --help')")
	fs.BoolVar(&f.sandboxLax, "sandbox-permissive", false, "with --sandbox: accept any well-formed cage, cabinet, account and username")
	fs.Float64Var(&f.sandboxFaults, "sandbox-fault-rate", 0, "with --sandbox: share of requests that meet a fault (0 to 1)")
	fs.DurationVar(&f.sandboxLatency, "sandbox-latency", 0, "with --sandbox: delay of every answer")
	fs.StringVar(&f.endpoint, "endpoint", "", "Equinix API base URL (default $EQUINIX_API_ENDPOINT, else https://api.equinix.com)")
	fs.StringVar(&f.clientID, "client-id", "", "Equinix client id (default $EQUINIX_API_CLIENTID); the secret comes only from $EQUINIX_API_CLIENTSECRET, its _FILE, a systemd credential or the config file")
	fs.StringVar(&f.configFile, "config", "", "config file (default $XDG_CONFIG_HOME/wvbatch/config.yaml when it exists)")
	fs.Float64Var(&f.rate, "rate", 0, "at most this many API requests per second (default 10; negative: no limit)")
	fs.DurationVar(&f.timeout, "timeout", 0, "timeout of one API request (default $EQUINIX_API_TIMEOUT, else 30s)")
}

// apiConn is a connected client and what to close afterwards.
type apiConn struct {
	client   *equinix.Client
	sandbox  *sandbox.Server
	url      string
	endpoint string
	close    func()
	log      zerolog.Logger
	tuneRun  func(*queue.RunConfig) // tests shorten the outage warnings' period
}

// preflight returns the pre-flight for importing imp over the connection.
// A permissive sandbox marks its location answers, so that the pre-flight
// takes any well-formed place there, as its orders do.
func (c *apiConn) preflight(context.Context, importer.Options) (importer.Preflight, error) {
	return preflight.New(c.client), nil
}

// clientConfig merges the Equinix API settings: flags win over the
// EQUINIX_API_* environment variables, which win over the config file.
func (f *apiFlags) clientConfig(e *env) (equinix.Config, error) {
	getenv, err := secret.Getenv(e.getenv, func(w string) { e.log.Warn().Msg(w) }, equinix.EnvClientSecret, equinix.EnvToken)
	if err != nil {
		return equinix.Config{}, usageErr(err, "set each secret once: in the variable, in a file named by NAME_FILE, or as a systemd credential")
	}
	cfg, err := equinix.ConfigFromEnv(getenv)
	if err != nil {
		return cfg, usageErr(err, "fix the EQUINIX_API_* environment variables")
	}
	if path, explicit := f.configPath(e); path != "" {
		fc, err := loadFileConfig(path, explicit)
		if err != nil {
			return cfg, err
		}
		if err := cfg.MergeFile(path, fc, func(w string) { e.log.Warn().Str("file", path).Msg(w) }); err != nil {
			return cfg, fileErr(err)
		}
	}
	if f.endpoint != "" {
		cfg.Endpoint = f.endpoint
	}
	if f.clientID != "" {
		cfg.ClientID = f.clientID
	}
	if f.rate != 0 {
		cfg.RateLimit = f.rate
	}
	if f.timeout > 0 {
		cfg.Timeout = f.timeout
	}
	return cfg, nil
}

// connect builds the API client: to the in-process sandbox with --sandbox,
// else to Equinix with credentials from flags, the environment or the
// config file. now is the sandbox's starting clock when --now was given.
func (f *apiFlags) connect(e *env, now *time.Time) (*apiConn, error) {
	conn := &apiConn{close: func() {}, log: e.log, tuneRun: e.tuneRun}
	var cfg equinix.Config
	if f.sandbox {
		// Nothing of the Equinix settings applies but the client's own
		// limits: the sandbox hands out its credentials.
		cfg.RateLimit, cfg.Timeout = f.rate, f.timeout
		scfg := sandbox.Config{Logger: e.log, FaultRate: f.sandboxFaults, Latency: f.sandboxLatency, Seed: 1, Permissive: f.sandboxLax}
		if now != nil {
			scfg.StartAt = *now
		}
		if f.sandboxAccount != "" {
			var err error
			if scfg.Account, err = sandbox.LoadAccount(f.sandboxAccount); err != nil {
				return nil, usageErr(err, "see 'wvbatch sandbox --help' for the account file's format")
			}
		}
		statePath := ""
		if f.store != nil {
			statePath = filepath.Join(filepath.Dir(f.store.resolve(e)), "sandbox.json")
		}
		srv, url, stop, err := sandbox.StartFile(scfg, statePath, func(err error) { fmt.Fprintf(e.stderr, "wvbatch: %v\n", err) })
		if ce, ok := errors.AsType[*sandbox.ConfigError](err); ok {
			return nil, usageErr(ce, "")
		} else if se, ok := errors.AsType[*sandbox.StateFileError](err); ok {
			return nil, &cliError{code: exitFailure, err: se, hint: "delete " + se.Path + " to start the sandbox afresh"}
		} else if err != nil {
			return nil, err
		}
		conn.sandbox, conn.url, conn.close = srv, url, stop
		cfg.Endpoint, cfg.ClientID, cfg.ClientSecret = url, sandbox.DefaultClientID, sandbox.DefaultClientSecret
	} else {
		var err error
		if cfg, err = f.clientConfig(e); err != nil {
			return nil, err
		}
	}
	cfg.Logger = e.log
	if e.metrics != nil {
		cfg.Observer = e.metrics
	}
	if e.tuneClient != nil {
		e.tuneClient(&cfg)
	}
	conn.endpoint = cmp.Or(cfg.Endpoint, equinix.EndpointDefault)
	client, err := equinix.New(cfg)
	if err != nil {
		conn.close()
		return nil, usageErr(err, equinix.ConfigHint(cfg, err))
	}
	conn.client = client
	return conn, nil
}

func (f *apiFlags) configPath(e *env) (string, bool) { return equinix.FilePath(e.getenv, f.configFile) }

// loadFileConfig reads the config file; one that cannot be read is a usage
// error.
func loadFileConfig(path string, explicit bool) (equinix.File, error) {
	fc, err := equinix.LoadFile(path, explicit)
	return fc, fileErr(err)
}

// fileErr is the command's error for a config file that cannot be used.
func fileErr(err error) error {
	if fe, ok := errors.AsType[*equinix.FileError](err); ok {
		return usageErr(fe, fe.Hint)
	}
	return err
}
