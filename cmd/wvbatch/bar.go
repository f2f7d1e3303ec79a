package main

import (
	"fmt"
	"io"

	"github.com/schollz/progressbar/v3"
)

// bar is the terminal progress bar of a run: orders done of all, failures,
// rate and time left.
type bar struct {
	w  io.Writer
	pb *progressbar.ProgressBar
}

func newBar(w io.Writer, total int) *bar {
	return &bar{w: w, pb: progressbar.NewOptions(total,
		progressbar.OptionSetWriter(w),
		progressbar.OptionSetDescription("ordering"),
		progressbar.OptionShowCount(),
		progressbar.OptionShowIts(),
		progressbar.OptionSetItsString("orders"),
		progressbar.OptionSetPredictTime(true),
		progressbar.OptionSetWidth(30),
		progressbar.OptionThrottle(100_000_000),
	)}
}

func (b *bar) set(done, failed int) {
	if failed > 0 {
		b.pb.Describe(fmt.Sprintf("ordering (%d refused)", failed))
	}
	_ = b.pb.Set(done)
}

func (b *bar) finish() {
	_ = b.pb.Finish()
	fmt.Fprintln(b.w)
}
