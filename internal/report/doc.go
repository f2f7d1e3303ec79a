// Package report turns a run's outcome into files people read and fix: the
// errors CSV, the JSON summary and the annotated workbook.
package report
