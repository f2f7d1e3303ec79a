package main

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"time"

	"github.com/rs/zerolog"
	"github.com/spf13/cobra"

	"github.com/wvbatch/wvbatch/internal/equinix"
	"github.com/wvbatch/wvbatch/internal/roster"
	"github.com/wvbatch/wvbatch/internal/runstore"
	"github.com/wvbatch/wvbatch/internal/scheduler"
	"github.com/wvbatch/wvbatch/internal/web"
)

type serveOptions struct {
	listen         string
	jobs           string
	tlsCert        string
	tlsKey         string
	authHeader     string
	trustedProxies []string
	maxUploadMB    int64
	keepUploads    time.Duration
	now            string
	dateOrder      string
	noPreflight    bool
	metricsListen  string
	run            runFlags
}

func newServeCmd(e *env) *cobra.Command {
	var o serveOptions
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Serve the web page: sign in, upload a roster, fix it in place, follow runs",
		Long: `serve runs wvbatch's web page. People sign in (add them with 'wvbatch users add'),
upload a roster (.xlsx or .csv), see every row checked as 'wvbatch validate' checks
it, correct flagged cells in place and download the corrected roster; the runs
page lists every run of the store with its orders, rows and report files.

The store is open only while a request reads or writes it, so the CLI works
beside the server on the same store. With API credentials (or --sandbox) the
check includes the pre-flight against the Equinix account.

Exit status: 0 after SIGTERM or SIGINT, 2 for bad flags, 1 when the address
cannot be served.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runServe(cmd.Context(), o, e)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.listen, "listen", "127.0.0.1:8080", "address to serve on")
	f.StringVar(&o.jobs, "jobs", "", "a jobs file: the server runs the scheduler daemon too, and shows its jobs on the Schedules page")
	f.StringVar(&o.tlsCert, "tls-cert", "", "TLS certificate (PEM); with --tls-key the server speaks HTTPS and cookies are Secure")
	f.StringVar(&o.tlsKey, "tls-key", "", "TLS private key (PEM)")
	f.StringVar(&o.authHeader, "auth-header", "", "header naming the signed-in user, set by a reverse proxy (e.g. X-Forwarded-User); believed only from --trusted-proxy")
	f.StringSliceVar(&o.trustedProxies, "trusted-proxy", nil, "address range (CIDR) of the reverse proxy whose --auth-header is believed; repeatable")
	f.Int64Var(&o.maxUploadMB, "max-upload", web.MaxUploadDefault>>20, "largest roster upload, in MB")
	f.DurationVar(&o.keepUploads, "keep-uploads", web.KeepUploadsDefault, "how long uploaded rosters are kept (a run keeps its own copy in the store's rosters/)")
	f.StringVar(&o.now, "now", "", "treat this RFC 3339 instant as the current time (for demos and tests)")
	f.StringVar(&o.dateOrder, "date-order", "", "how to read dates like 03/04/2027: dmy or mdy")
	f.BoolVar(&o.noPreflight, "no-preflight", false, "do not check rosters against the Equinix account")
	f.StringVar(&o.metricsListen, "metrics-listen", "", "serve Prometheus metrics on /metrics and a health check on /healthz at this address (apart from the web page), e.g. 127.0.0.1:9464")
	o.run.bind(cmd)
	return cmd
}

func (o *serveOptions) config(e *env) (web.Config, error) {
	var cfg web.Config
	if (o.tlsCert == "") != (o.tlsKey == "") {
		return cfg, usageErr(errors.New("--tls-cert and --tls-key go together"), "give both, or neither for plain HTTP")
	}
	if o.authHeader != "" && len(o.trustedProxies) == 0 {
		return cfg, usageErr(errors.New("--auth-header needs --trusted-proxy"), "name the reverse proxy's address range, e.g. --trusted-proxy 127.0.0.1/32")
	}
	var err error
	if cfg.TrustedProxies, err = web.ParseTrustedProxies(o.trustedProxies); err != nil {
		return cfg, usageErr(fmt.Errorf("--trusted-proxy %w", err), "write it like 10.0.0.0/24 or 127.0.0.1/32")
	}
	if o.maxUploadMB < 1 {
		return cfg, usageErr(fmt.Errorf("--max-upload %d: want at least 1 (MB)", o.maxUploadMB), "")
	}
	order, err := roster.ParseDateOrder(o.dateOrder)
	if err != nil {
		return cfg, usageErr(err, "use --date-order dmy (3/4 = 3 April) or --date-order mdy (3/4 = March 4)")
	}
	now, err := parseNow(o.now, e.now)
	if err != nil {
		return cfg, err
	}
	storePath := o.run.store.resolve(e)
	cfg.Open = func() (*runstore.Store, error) {
		return runstore.Open(storePath, runstore.Options{Now: now, LockTimeout: 250 * time.Millisecond})
	}
	cfg.DataDir = filepath.Dir(storePath)
	cfg.Check = func() roster.CheckConfig { return roster.CheckConfig{Now: now, DateOrder: order} }
	cfg.MaxUpload = o.maxUploadMB << 20
	if o.keepUploads <= 0 {
		return cfg, usageErr(fmt.Errorf("--keep-uploads %s: want a positive duration", o.keepUploads), "e.g. --keep-uploads 720h (30 days)")
	}
	cfg.KeepUploads = o.keepUploads
	cfg.AuthHeader = o.authHeader
	cfg.Secure = o.tlsCert != ""
	cfg.Log = e.log
	cfg.Audit = auditLogger(e)
	cfg.Now = now
	return cfg, nil
}

// auditLogger writes the audit lines whatever --log-level says.
func auditLogger(e *env) zerolog.Logger {
	return e.log.Level(zerolog.InfoLevel)
}

func runServe(ctx context.Context, o serveOptions, e *env) error {
	cfg, err := o.config(e)
	if err != nil {
		return err
	}
	var nowPtr *time.Time
	if o.now != "" {
		t := cfg.Now()
		nowPtr = &t
	}
	cfg.Endpoint = "Equinix"
	if o.metricsListen != "" {
		if err := serveMetrics(ctx, e, o.metricsListen, nil, o.run.store.resolve(e)); err != nil {
			return err
		}
	}
	conn, err := o.run.api.connect(e, nowPtr)
	switch {
	case errors.Is(err, equinix.ErrNoCredentials):
		e.log.Warn().Msg("no Equinix API credentials: rosters are checked without the pre-flight")
		if ep, cerr := o.run.api.clientConfig(e); cerr == nil && ep.Endpoint != "" {
			cfg.Endpoint = ep.Endpoint
		}
	case err != nil:
		return err
	default:
		defer conn.close()
		cfg.Endpoint = conn.endpointName()
		if !o.noPreflight {
			cfg.Preflight = conn.preflight
		}
		mf := o.run.mail
		mf.configPath = configPathFunc(e, o.run.api.configFile)
		var reportDir func(string) string
		if o.run.reportDir != "" {
			reportDir = func(runID string) string { return filepath.Join(o.run.reportDir, runID) }
		}
		cfg.Orderer = web.NewOrderer(web.PipelineConfig{
			Client: conn.client, Endpoint: conn.endpointName(), Preflight: conn.preflight, NoPreflight: o.noPreflight, Now: o.now,
			Concurrency: o.run.concurrency, ReportDir: reportDir, Mailer: cliMailer{e, mf}, Logger: e.log,
		})
	}
	srv, err := web.New(cfg)
	if err != nil {
		return err
	}
	var sched *scheduler.Scheduler
	if o.jobs != "" {
		if sched, err = o.scheduler(e, srv); err != nil {
			return err
		}
		srv.AttachScheduler(sched)
	}
	ln, tlsCfg, scheme, err := web.Listen(o.listen, o.tlsCert, o.tlsKey)
	if le, ok := errors.AsType[*web.ListenError](err); ok && le.TLS {
		return usageErr(fmt.Errorf("--tls-cert/--tls-key: %w", err), "give a PEM certificate and its private key")
	} else if ok {
		return usageErr(fmt.Errorf("--listen %s: %w", o.listen, err), "pick a free address, e.g. --listen 127.0.0.1:8081")
	}
	fmt.Fprintf(e.stdout, "wvbatch serving on %s://%s (orders go to %s; store %s; Ctrl-C to stop)\n",
		scheme, ln.Addr(), cfg.Endpoint, o.run.store.resolve(e))
	return srv.Serve(ctx, ln, tlsCfg, sched, func(err error) { fmt.Fprintf(e.stderr, "wvbatch: %v\n", err) })
}

// scheduler is the daemon serve --jobs runs, on the web server's store: the
// one open store is shared, and let go of when neither uses it.
func (o *serveOptions) scheduler(e *env, srv *web.Server) (*scheduler.Scheduler, error) {
	d := daemonOptions{sched: scheduleFlags{jobs: o.jobs, store: o.run.store}, apiConfig: o.run.api.configFile,
		sandbox: o.run.api.sandbox, concurrency: o.run.concurrency, reportDir: o.run.reportDir}
	jobs, err := d.sched.load(e)
	if err != nil {
		return nil, err
	}
	r := d.runner(e)
	e.log.Info().Int("jobs", len(jobs)).Str("file", o.jobs).Msg("jobs file loaded")
	return scheduler.New(scheduler.Config{
		Jobs:   jobs,
		Open:   srv.OpenStore,
		Close:  srv.CloseStore,
		Run:    r.measured,
		Now:    e.now,
		Logger: e.log,
	})
}
