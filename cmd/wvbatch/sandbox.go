package main

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/wvbatch/wvbatch/internal/sandbox"
)

type sandboxOptions struct {
	listen       string
	clientID     string
	clientSecret string
	account      string
	permissive   bool
	tokenTTL     time.Duration
	now          string
	latency      time.Duration
	jitter       time.Duration
	faultRate    float64
	faults       []string
	seed         int64
}

func newSandboxCmd(e *env) *cobra.Command {
	var o sandboxOptions
	cmd := &cobra.Command{
		Use:   "sandbox [--listen 127.0.0.1:PORT]",
		Short: "Serve a stand-in for Equinix's Work Visit API, to try wvbatch without ordering anything",
		Long: `sandbox serves an in-process stand-in for the Equinix API: tokens, work visit
create/update/cancel, orders, order search, locations and users, with Equinix's
shapes and error codes. It prints the environment to point wvbatch (or any
client) at it. GET /sandbox/orders lists every order it holds.

The seeded account (replace it with --account FILE, YAML):
  AM1  account 100001 (may order), 100099 (may not)
       cages AM1:01:000111 (cabinets :0101-:0110), AM1:01:000112 (:0201-:0205)
  DC2  account 200001, cage DC2:01:123456 (cabinets :0101-:0105)
  LD8  account 300001, cage LD8:01:00AB12 (cabinet :0001), access restricted
  users facilities.lead, noc.amsterdam, jane.visitor (ACTIVE), jdoe1234 (LOCKED),
        former.employee (TERMINATED), pending.user (APPROVED)
A cage that is not listed, such as AM1:02:000999, fails with EQ-2016006; a
locked, terminated or unknown user with EQX-161-403.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runSandbox(cmd.Context(), o, e)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.listen, "listen", "127.0.0.1:8642", "address to serve on")
	f.StringVar(&o.clientID, "client-id", sandbox.DefaultClientID, "client id the sandbox accepts")
	f.StringVar(&o.clientSecret, "client-secret", sandbox.DefaultClientSecret, "client secret the sandbox accepts")
	f.StringVar(&o.account, "account", "", "YAML file with the account to hold (IBXs, cages, cabinets, accounts, users)")
	f.BoolVar(&o.permissive, "permissive", false, "accept any well-formed cage, cabinet, account and username")
	f.DurationVar(&o.tokenTTL, "token-ttl", sandbox.DefaultTokenTTL, "lifetime of the tokens it hands out")
	f.StringVar(&o.now, "now", "", "start the sandbox clock at this RFC 3339 instant (it then runs in real time)")
	f.DurationVar(&o.latency, "latency", 0, "delay of every answer")
	f.DurationVar(&o.jitter, "latency-jitter", 0, "random extra delay of up to this much")
	f.Float64Var(&o.faultRate, "fault-rate", 0, "share of requests (0 to 1) that meet a fault")
	f.StringSliceVar(&o.faults, "faults", nil, "fault kinds to draw from: 429, 500, 502, 503, slow, reset, drop-created (default all)")
	f.Int64Var(&o.seed, "seed", 1, "seed of the fault draws: the same seed and requests give the same faults")
	return cmd
}

func runSandbox(ctx context.Context, o sandboxOptions, e *env) error {
	cfg := sandbox.Config{
		ClientID: o.clientID, ClientSecret: o.clientSecret, Permissive: o.permissive, TokenTTL: o.tokenTTL,
		Latency: o.latency, LatencyJitter: o.jitter, FaultRate: o.faultRate, Seed: o.seed, Logger: e.log,
	}
	if o.now != "" {
		t, err := time.Parse(time.RFC3339, o.now)
		if err != nil {
			return usageErr(fmt.Errorf("--now %q is not an RFC 3339 time", o.now), "write it like 2027-01-01T09:00:00Z")
		}
		cfg.StartAt = t
	}
	for _, name := range o.faults {
		k, err := sandbox.ParseFault(name)
		if err != nil {
			return usageErr(err, "")
		}
		cfg.FaultKinds = append(cfg.FaultKinds, k)
	}
	if o.account != "" {
		a, err := sandbox.LoadAccount(o.account)
		if err != nil {
			return usageErr(err, "see 'wvbatch sandbox --help' for what the account file holds")
		}
		cfg.Account = a
	}
	srv, err := sandbox.New(cfg)
	if err != nil {
		return usageErr(err, "")
	}
	url, stop, err := srv.Start(o.listen)
	if err != nil {
		return usageErr(err, "choose another address with --listen, e.g. 127.0.0.1:0 for any free port")
	}
	fmt.Fprintf(e.stdout, "sandbox serving on %s (Ctrl-C to stop)\n\n", url)
	fmt.Fprintf(e.stdout, "export EQUINIX_API_ENDPOINT=%s EQUINIX_API_CLIENTID=%s EQUINIX_API_CLIENTSECRET=%s\n\n", url, o.clientID, o.clientSecret)
	fmt.Fprintf(e.stdout, "orders it holds: curl %s/sandbox/orders\n", url)
	<-ctx.Done()
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := stop(sctx); err != nil {
		return err
	}
	fmt.Fprintln(e.stdout, "sandbox stopped")
	return nil
}
