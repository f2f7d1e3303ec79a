package main

import (
	"context"
	"fmt"
	"time"

	"github.com/wvbatch/wvbatch/internal/runstore"
	"github.com/wvbatch/wvbatch/internal/submit"
)

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

// retentionOf is the daily prune of the store f names, logged.
func retentionOf(ctx context.Context, e *env, f *storeFlag, age time.Duration, reportDir string, wait time.Duration) submit.Retention {
	r := submit.Retention{Age: age, Now: e.now,
		Open: func() (*runstore.Store, error) { return openWaiting(ctx, e, f, wait) },
		Log:  func(line string) { e.log.Info().Str("retention", age.String()).Msg(line) }}
	if reportDir != "" {
		r.ReportDirs = []string{reportDir}
	}
	return r
}
