package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"time"
)

// pruneEvery is how often the daemon and tick prune when the config file
// sets a retention.
const pruneEvery = 24 * time.Hour

// retention reads the config file's retention setting: 0 when it has none.
func retention(e *env, configFile string) (time.Duration, error) {
	f := apiFlags{configFile: configFile}
	path, explicit := f.configPath(e)
	if path == "" {
		return 0, nil
	}
	fc, err := loadFileConfig(path, explicit)
	if err != nil || fc.Retention == "" {
		return 0, err
	}
	d, err := parseAge(fc.Retention)
	if err != nil {
		return 0, usageErr(fmt.Errorf("config file %s: retention %q: %v", path, fc.Retention, err), "write it like 90d")
	}
	return d, nil
}

// pruneIfDue prunes the store when the last prune is a day old or more,
// and logs what it removed.
func pruneIfDue(ctx context.Context, e *env, f *storeFlag, age time.Duration, reportDir string, wait time.Duration) error {
	st, err := openWaiting(ctx, e, f, wait)
	if err != nil {
		return err
	}
	last, err := st.LastPrune()
	st.Close()
	if err != nil || e.now().Sub(last) < pruneEvery {
		return err
	}
	var out bytes.Buffer
	err = pruneStore(ctx, e, f, age, false, reportDir, wait, &out)
	sc := bufio.NewScanner(&out)
	for sc.Scan() {
		e.log.Info().Str("retention", age.String()).Msg(sc.Text())
	}
	return err
}

// pruneDaily runs pruneIfDue now and then every hour until ctx ends.
func pruneDaily(ctx context.Context, e *env, f *storeFlag, age time.Duration, reportDir string) {
	for {
		if err := pruneIfDue(ctx, e, f, age, reportDir, 10*time.Minute); err != nil && ctx.Err() == nil {
			e.log.Error().Err(err).Msg("retention: prune failed; it is tried again in an hour")
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Hour):
		}
	}
}
