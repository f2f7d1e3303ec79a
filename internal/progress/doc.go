// Package progress shows a run's progress while its orders are placed,
// cancelled or amended: a bar redrawn in place on a terminal (orders done
// of all, refusals, rate and time left), log lines otherwise. Hook is the
// run pipeline's progress hook (submit.Hooks.Progress).
package progress
