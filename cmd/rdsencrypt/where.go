package main

import (
	"errors"
	"regexp"
	"strings"

	"github.com/rdsencrypt/rdsencrypt/internal/workflow"
)

// where is the endpoint and profile the flags name: new journals record it.
func (a *app) where() workflow.Where {
	return workflow.Where{EndpointURL: a.opts.EndpointURL, Profile: a.opts.Profile}
}

// useJournal makes the commands about one migration (resume, rollback, cleanup) talk to where
// its journal says it runs: the flags given win, the journal fills what they leave out.
func (a *app) useJournal(st *workflow.State) {
	if a.opts.Region == "" {
		a.opts.Region = st.Region
	}
	if a.opts.EndpointURL == "" {
		a.opts.EndpointURL = st.Where.EndpointURL
	}
	if a.opts.Profile == "" {
		a.opts.Profile = st.Where.Profile
	}
}

// commandMention finds "rdsencrypt <command>" in a message: a command the tool prints.
var commandMention = regexp.MustCompile(`\brdsencrypt (resume|rollback|cleanup|status|migrate|plan|batch|scan|iam-policy|demo)\b`)

// awsMention finds "aws <service> <operation>" in a message: an AWS CLI command the tool
// prints (modify a parameter group, enable a key, reboot the source...).
var awsMention = regexp.MustCompile(`\baws ([a-z][a-z0-9-]* [a-z][a-z0-9-]*)\b`)

// pasteable makes every command a message mentions runnable as printed: an rdsencrypt command
// carries the global flags of this invocation (state directory, region, endpoint, profile),
// which a command run later from another shell would otherwise lose; an aws command carries
// the region, endpoint and profile, so it acts on the account and region the migration runs
// in, not on the shell's defaults (review T16: a same-named instance elsewhere). It is
// idempotent.
func (a *app) pasteable(msg string) string {
	if a.pasteAs != nil {
		return a.pasteAs(msg)
	}
	flags := a.globalFlags()
	if len(flags) == 0 {
		return msg
	}
	var awsFlags []globalFlag
	for _, f := range flags {
		if f.name != "--state-dir" {
			awsFlags = append(awsFlags, f)
		}
	}
	msg = withFlags(msg, commandMention, "rdsencrypt", flags)
	return withFlags(msg, awsMention, "aws", awsFlags)
}

// withFlags writes flags after each command mention finds (program and its first submatch),
// but for the flags the command already has up to the end of its clause (a separator, or the
// next command).
func withFlags(msg string, mention *regexp.Regexp, program string, flags []globalFlag) string {
	if len(flags) == 0 {
		return msg
	}
	var b strings.Builder
	last := 0
	for _, m := range mention.FindAllStringSubmatchIndex(msg, -1) {
		rest := msg[m[1]:]
		for _, stop := range []string{";", "\n", ")", "&&", ", ", "rdsencrypt ", "aws "} {
			if end := strings.Index(rest, stop); end >= 0 {
				rest = rest[:end]
			}
		}
		b.WriteString(msg[last:m[0]])
		b.WriteString(program)
		for _, f := range flags {
			if !strings.Contains(rest, f.name+" ") && !strings.Contains(rest, f.name+"=") {
				b.WriteString(" " + f.name + " " + workflow.ShellQuote(f.value))
			}
		}
		b.WriteString(" " + msg[m[2]:m[3]])
		last = m[1]
	}
	b.WriteString(msg[last:])
	return b.String()
}

// globalFlags are the flags of this invocation a printed command must repeat.
func (a *app) globalFlags() []globalFlag {
	var out []globalFlag
	for _, f := range []globalFlag{
		{"--state-dir", a.opts.StateDir}, {"--region", a.opts.Region},
		{"--endpoint-url", a.opts.EndpointURL}, {"--profile", a.opts.Profile},
	} {
		if f.value != "" {
			out = append(out, f)
		}
	}
	return out
}

type globalFlag struct{ name, value string }

// pasteableResult makes the commands of a report and of an error pasteable (see pasteable).
func (a *app) pasteableResult(rep *workflow.Report, err error) {
	if rep != nil {
		rep.Next = a.pasteable(rep.Next)
		rep.Error = a.pasteable(rep.Error)
	}
	var we *workflow.Error
	if errors.As(err, &we) {
		we.Next = a.pasteable(we.Next)
		we.Problem = a.pasteable(we.Problem)
	}
}

// pasteableErr is err with its commands made pasteable (Main does it for what it prints).
func (a *app) pasteableErr(err error) error {
	a.pasteableResult(nil, err)
	return err
}
