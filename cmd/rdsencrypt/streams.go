package main

import (
	"io"
	"os"

	"github.com/mattn/go-isatty"
)

// Streams are the command's input and outputs. Tests construct them with buffers and choose
// whether they count as a terminal.
type Streams struct {
	In  io.Reader
	Out io.Writer // results: reports, plans, JSON
	Err io.Writer // progress, prompts, the UI
	// Terminal is true when a person can answer prompts: stdin and stderr are terminals.
	Terminal bool
}

// SystemStreams are the process's standard streams.
func SystemStreams() Streams {
	return Streams{In: os.Stdin, Out: os.Stdout, Err: os.Stderr,
		Terminal: isatty.IsTerminal(os.Stdin.Fd()) && isatty.IsTerminal(os.Stderr.Fd())}
}
