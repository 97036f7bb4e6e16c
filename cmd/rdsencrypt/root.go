package main

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/rdsencrypt/rdsencrypt/internal/journal"
	"github.com/rdsencrypt/rdsencrypt/internal/model"
	"github.com/rdsencrypt/rdsencrypt/internal/output"
	"github.com/rdsencrypt/rdsencrypt/internal/output/tui"
	"github.com/rdsencrypt/rdsencrypt/internal/redact"
	"github.com/rdsencrypt/rdsencrypt/internal/replication"
	"github.com/rdsencrypt/rdsencrypt/internal/replication/mysql"
	"github.com/rdsencrypt/rdsencrypt/internal/replication/postgres"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/rdsencrypt/rdsencrypt/internal/awsclient"
	"github.com/rdsencrypt/rdsencrypt/internal/workflow"
)

// globalOptions are the flags every command shares, named as the AWS CLI names them.
type globalOptions struct {
	Region       string
	Profile      string
	EndpointURL  string
	StateDir     string
	PollInterval time.Duration
	Output       string
	Yes          bool
	// AckIAMAuth acknowledges, for an unattended run, that IAM database authentication
	// policies must follow the new resource id.
	AckIAMAuth bool
	// AckSourceReboot acknowledges, for an unattended run, the replication strategy's change
	// to the source: a copy of its DB parameter group with rds.logical_replication on, and a
	// reboot.
	AckSourceReboot bool
	Debug           bool
	NoTUI           bool
	// DBSecret and DBTLS are how the replication strategy reaches the databases.
	DBSecret string
	DBTLS    string
	// DBCABundle is the PEM file of CAs the database servers are verified with; dbRoots
	// are its certificates.
	DBCABundle string
	dbRoots    *x509.CertPool
	// DBIAMUser connects as this database user with IAM authentication tokens where the
	// instance has IAM database authentication on.
	DBIAMUser string
}

// app is what the commands share: options, streams, and how to build an engine.
type app struct {
	opts    globalOptions
	streams Streams
	// newClient builds the AWS client; tests may replace it.
	newClient func(ctx context.Context, cfg awsclient.Config) (*awsclient.Client, error)
	// started is set once a command's own code runs: an error before that is bad usage
	// (an unknown command, a flag or argument cobra rejected).
	started bool
	// pasteAs, when set, replaces pasteable (demo: its commands cannot be run later).
	pasteAs func(string) string
	// stateGoes: the state directory is removed when the command ends (demo without
	// --state-dir), so no report points at a file in it.
	stateGoes bool // terminal is shared by the full-screen UI and the password prompt, which borrows it.
	terminal  tui.Terminal
}

// Main runs the command line and returns the exit code.
func Main(args []string, streams Streams) int {
	a := &app{streams: streams, newClient: awsclient.New}
	root := a.rootCommand()
	root.SetArgs(args)
	root.SetIn(streams.In)
	root.SetOut(streams.Out)
	root.SetErr(streams.Err)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := root.ExecuteContext(ctx)
	if err != nil && !a.started && !errors.As(err, new(usageError)) {
		err = usagef("%s (rdsencrypt --help lists the commands and flags)", output.OneLine(err.Error()))
	}
	if err != nil {
		fmt.Fprintln(streams.Err, "rdsencrypt: "+a.pasteable(redact.String(output.OneLine(err.Error()))))
	}
	return exitCode(err)
}

func (a *app) rootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:   "rdsencrypt",
		Short: "Encrypt unencrypted Amazon RDS databases, keeping every setting and the endpoint",
		Long: `rdsencrypt turns unencrypted RDS DB instances into encrypted ones, or moves them to
another KMS key: snapshot, encrypted copy, restore with every setting, parity check, and a
cutover by rename so applications keep their hostname. Every step is journaled: a stopped
migration resumes where it stopped, and until cleanup it can be rolled back.`,
		Example: `  rdsencrypt plan --db billing-pg --kms-key alias/rdsencrypt
  rdsencrypt migrate --db billing-pg --kms-key alias/rdsencrypt
  rdsencrypt status
  rdsencrypt --endpoint-url http://127.0.0.1:4566 --region us-east-1 scan`,
		Version:       version(),
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetVersionTemplate("rdsencrypt {{.Version}}\n")
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err.Error()} })
	f := root.PersistentFlags()
	f.StringVar(&a.opts.Region, "region", "", "AWS region (default: from the AWS config or AWS_REGION)")
	f.StringVar(&a.opts.Profile, "profile", "", "AWS shared config profile")
	f.StringVar(&a.opts.EndpointURL, "endpoint-url", "", "RDS and KMS endpoint URL (e.g. the simulator's)")
	f.StringVar(&a.opts.StateDir, "state-dir", "", "directory of journals and audit trails (default: $XDG_STATE_HOME/rdsencrypt)")
	f.DurationVar(&a.opts.PollInterval, "poll-interval", awsclient.DefaultPollOptions.Min, "shortest delay between two status polls (it backs off to 6x while nothing changes)")
	f.StringVarP(&a.opts.Output, "output", "o", "text", "output format: text or json")
	f.BoolVar(&a.opts.Debug, "debug", false, "log every AWS call and its wire traffic to stderr")
	f.StringVar(&a.opts.DBSecret, "db-secret", "", "replication strategy: ARN of a Secrets Manager secret holding the master user's {\"username\",\"password\"} (used when the instance has no RDS-managed secret; else "+workflow.EnvDBPassword+")")
	f.StringVar(&a.opts.DBTLS, "db-tls", "require", "replication strategy: TLS to the databases: require (the server's certificate and name verified), prefer or disable (neither verifies)")
	f.StringVar(&a.opts.DBCABundle, strings.TrimPrefix(workflow.FlagDBCABundle, "--"), "", "replication strategy: PEM file of the CAs database certificates chain to, e.g. RDS's https://truststore.pki.rds.amazonaws.com/global/global-bundle.pem (default: the system's roots, which do not hold RDS's CAs)")
	f.StringVar(&a.opts.DBIAMUser, "db-iam-user", "", "replication strategy: on instances with IAM database authentication on, connect as this database user with IAM authentication tokens (rds-db:connect; the user needs rds_iam / AWSAuthenticationPlugin and the rights the strategy needs) instead of the master password; TLS required")
	_ = root.RegisterFlagCompletionFunc("db-tls", completeValues("require", "prefer", "disable"))
	_ = root.RegisterFlagCompletionFunc("output", completeValues("text", "json"))
	root.PersistentPreRunE = func(cmd *cobra.Command, _ []string) error {
		if a.opts.Output == "table" && cmd.Name() == "scan" {
			fmt.Fprintln(a.streams.Err, "rdsencrypt: --output table is now --output text")
			a.opts.Output = "text"
		}
		if a.opts.Output != "text" && a.opts.Output != "json" {
			return usagef("--output must be text or json, not %q", a.opts.Output)
		}
		if a.opts.EndpointURL != "" {
			if err := awsclient.CheckEndpointURL(a.opts.EndpointURL); err != nil {
				return usageError{err.Error()}
			}
		}
		if a.opts.PollInterval <= 0 {
			return usagef("--poll-interval must be positive")
		}
		if a.opts.DBTLS != "require" && a.opts.DBTLS != "prefer" && a.opts.DBTLS != "disable" {
			return usagef("--db-tls must be require, prefer or disable, not %q", a.opts.DBTLS)
		}
		if a.opts.DBIAMUser != "" && a.opts.DBTLS != "require" {
			return usagef("--db-iam-user needs --db-tls require: RDS accepts IAM authentication tokens over TLS only")
		}
		if a.opts.DBCABundle != "" {
			roots, err := readCABundle(a.opts.DBCABundle)
			if err != nil {
				return usageError{err.Error()}
			}
			a.opts.dbRoots = roots
		}
		return nil
	}
	root.AddCommand(a.planCommand(), a.migrateCommand(), a.resumeCommand(), a.statusCommand(),
		a.rollbackCommand(), a.cleanupCommand(), a.demoCommand())
	root.AddCommand(a.iamPolicyCommand())
	root.AddCommand(a.scanCommand(), a.batchCommand())
	// cobra checks flag groups after the PersistentPreRunE: a command has started only when
	// its RunE does.
	for _, cmd := range root.Commands() {
		if run := cmd.RunE; run != nil {
			cmd.RunE = func(cmd *cobra.Command, args []string) error {
				a.started = true
				return run(cmd, args)
			}
		}
	}
	return root
}

// acknowledgements are what --acknowledge-* gave for an unattended run.
func (a *app) acknowledgements() []string {
	var out []string
	if a.opts.AckIAMAuth {
		out = append(out, workflow.AckIAMAuth)
	}
	if a.opts.AckSourceReboot {
		out = append(out, workflow.AckSourceReboot)
	}
	return out
}

// addAskFlags adds --yes, --no-tui and the acknowledgements to a command that asks for approval.
func (a *app) addAskFlags(cmd *cobra.Command) {
	cmd.Flags().BoolVarP(&a.opts.Yes, "yes", "y", false, "approve every step without asking (parity differences still stop before cutover)")
	cmd.Flags().BoolVar(&a.opts.NoTUI, "no-tui", false, "on a terminal, ask with plain line prompts instead of the full-screen UI")
	cmd.Flags().BoolVar(&a.opts.AckIAMAuth, "acknowledge-iam-auth", false,
		"with --yes: IAM database authentication is on and you will update the rds-db:connect policies to the new resource id (see plan)")
	cmd.Flags().BoolVar(&a.opts.AckSourceReboot, "acknowledge-source-reboot", false,
		"with --yes: the replication strategy may copy the source's DB parameter group with rds.logical_replication=1, put it on the source and reboot it (see plan)")
}

func (a *app) logger() *slog.Logger {
	if !a.opts.Debug {
		return slog.New(slog.DiscardHandler)
	}
	return slog.New(slog.NewTextHandler(a.streams.Err, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

func (a *app) store() (*workflow.Store, error) {
	dir := a.opts.StateDir
	if dir == "" {
		d, err := journal.DefaultDir()
		if err != nil {
			return nil, err
		}
		dir = d
	}
	return workflow.OpenStore(dir)
}

// engine builds a workflow engine with real AWS clients. The approver and observer are set
// by the command, which knows whether a person is watching.
func (a *app) engine(ctx context.Context) (*workflow.Engine, *awsclient.Client, error) {
	return a.engineWith(ctx, a.awsConfig(a.opts.Region))
}

// awsConfig is the client configuration the flags ask for, in region.
func (a *app) awsConfig(region string) awsclient.Config {
	return awsclient.Config{Region: region, Profile: a.opts.Profile, EndpointURL: a.opts.EndpointURL, Logger: a.logger()}
}

// engineWith builds a workflow engine on a client made from cfg.
func (a *app) engineWith(ctx context.Context, cfg awsclient.Config) (*workflow.Engine, *awsclient.Client, error) {
	client, err := a.newClient(ctx, cfg)
	if err != nil {
		return nil, nil, fmt.Errorf("AWS configuration: %w; next: set --region and credentials (aws configure, or AWS_PROFILE)", err)
	}
	if client.Region() == "" {
		return nil, nil, usagef("no AWS region: pass --region or set AWS_REGION")
	}
	if err := client.Check(ctx); err != nil {
		return nil, nil, err
	}
	store, err := a.store()
	if err != nil {
		return nil, nil, err
	}
	eng := &workflow.Engine{
		Clients:  func(region string) (model.RDS, error) { return client.For(region), nil },
		Networks: func(region string) (model.Network, error) { return client.Network(region), nil },
		Where:    workflow.Where{EndpointURL: cfg.EndpointURL, Profile: cfg.Profile},
		Store:    store,
		Poll:     awsclient.PollOptions{Min: a.opts.PollInterval, Max: 6 * a.opts.PollInterval},
		Logger:   a.logger(),
		// The replication strategy's engines and how it finds the master password (never
		// stored; docs/replication.md#credentials).
		Replication: map[string]replication.Engine{"postgres": postgres.New(), "mysql": mysql.New()},
		Credentials: workflow.CredentialChain{Secrets: client.Secrets, SecretARN: a.opts.DBSecret,
			EnvPassword: os.Getenv(workflow.EnvDBPassword), Prompt: a.passwordPrompt(),
			IAMUser: a.opts.DBIAMUser, Token: client.DBAuthToken},
		DBTLS:     a.opts.DBTLS,
		DBRootCAs: a.opts.dbRoots,
	}
	return eng, client, nil
}

// readCABundle reads the PEM certificates of --db-ca-bundle.
func readCABundle(file string) (*x509.CertPool, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", workflow.FlagDBCABundle, err)
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(b) {
		return nil, fmt.Errorf("%s %s holds no PEM certificate (RDS's bundle: https://truststore.pki.rds.amazonaws.com/global/global-bundle.pem)", workflow.FlagDBCABundle, file)
	}
	return roots, nil
}

// passwordPrompt is the last link of the credential chain: a prompt without echo, only when
// standard input is a terminal a person types at.
func (a *app) passwordPrompt() workflow.PasswordPrompt {
	in, ok := a.streams.In.(*os.File)
	if !ok || !a.streams.Terminal || !term.IsTerminal(int(in.Fd())) {
		return nil
	}
	p := &tui.PasswordPrompter{FD: int(in.Fd()), Out: a.streams.Err, Use: a.terminal.Use}
	return p.Prompt
}

// errNeedsApproval explains why a mutating command does nothing without a terminal.
var errNeedsApproval = usageError{"this command changes AWS resources and asks for approval, but there is no terminal to ask: run it on a terminal, or add --yes"}
