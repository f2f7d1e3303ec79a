// Package scheduler runs recurring work visit jobs: it reads the jobs file,
// decides when each job's runs are due (cron expressions, DST, missed-run
// and overlap policies) and keeps each job's last scheduled time durable in
// the store, so that a run is identified by (job, scheduled time) and is
// never made twice.
//
// What a run does is the caller's (RunFunc). PipelineRunner is the one
// the command line and the web server use: a job's run goes through the
// run pipeline (submit.Pipeline) the way a manual submit goes. The package
// also lists the jobs, their states and next times for people (List,
// WriteCheck, NextTimes).
//
// The daemon goes by an injected clock (Config.Now and Config.Until): the
// real one, or a ManualClock that tests step through scheduled times.
package scheduler
