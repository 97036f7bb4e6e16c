package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"regexp"
	"time"

	"github.com/rdsencrypt/rdsencrypt/internal/model"
	"github.com/rdsencrypt/rdsencrypt/internal/output"

	"github.com/spf13/cobra"

	"github.com/rdsencrypt/rdsencrypt/internal/awsclient"
	"github.com/rdsencrypt/rdsencrypt/internal/rdssim"
	"github.com/rdsencrypt/rdsencrypt/internal/workflow"
)

type demoOptions struct {
	Speed  float64
	DB     string
	KmsKey string
	// DataPlane runs real database servers behind the fleet and a writer on the migrated
	// instance (demo_data.go).
	DataPlane bool
}

func (a *app) demoCommand() *cobra.Command {
	var o demoOptions
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Run a whole migration on the embedded RDS simulator: no AWS account needed",
		Long: `demo starts the RDS/KMS simulator in this process with an example fleet, on a virtual
clock running --speed times faster than real time, and migrates one unencrypted instance
with the same UI and engine as on AWS: plan, approvals, snapshot, encrypted copy, restore,
parity check, cutover, verify, then cleanup. With --yes it runs unattended.`,
		Example: "  rdsencrypt demo\n  rdsencrypt demo --yes --speed 600\n  rdsencrypt demo --db billing-pg",
		Args:    cobra.NoArgs,
		RunE:    func(cmd *cobra.Command, _ []string) error { return a.runDemo(cmd.Context(), o) },
	}
	cmd.Flags().Float64Var(&o.Speed, "speed", 120, "virtual seconds per real second")
	cmd.Flags().StringVar(&o.DB, "db", "", "instance of the example fleet to migrate (default: the first unencrypted standalone one)")
	cmd.Flags().StringVar(&o.KmsKey, "kms-key", "alias/rdsencrypt", "KMS key to encrypt with (the example fleet has a customer key with this alias)")
	cmd.Flags().BoolVar(&o.DataPlane, "data-plane", false, "real PostgreSQL and MariaDB servers behind the fleet, and a writer on the migrated PostgreSQL instance whose rows must all arrive (needs postgresql-15, mariadb-server, mariadb-backup)")
	a.addAskFlags(cmd)
	return cmd
}

func (a *app) runDemo(ctx context.Context, o demoOptions) error {
	if o.Speed <= 0 {
		return usagef("--speed must be positive")
	}
	if !a.streams.Terminal && !a.opts.Yes {
		// Only the in-process simulator is touched: without a terminal to ask, the demo runs
		// unattended rather than refusing as a real migration would.
		fmt.Fprintln(a.streams.Err, "rdsencrypt demo: no terminal, so it runs unattended (as with --yes)")
		a.opts.Yes = true
	}
	a.opts.AckIAMAuth = true // the demo's own simulator: no rds-db:connect policy to update
	sim := rdssim.New(rdssim.Options{Speed: o.Speed, DataPlane: o.DataPlane})
	defer sim.Close()
	if err := sim.LoadFixture(bytes.NewReader(rdssim.ExampleFleet)); err != nil {
		return fmt.Errorf("load the example fleet: %w", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("start the simulator: %w", err)
	}
	srv := &http.Server{Handler: sim, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	defer func() {
		shutdownCtx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = srv.Shutdown(shutdownCtx)
	}()
	endpoint := "http://" + ln.Addr().String()

	if a.opts.StateDir == "" {
		dir, err := os.MkdirTemp("", "rdsencrypt-demo-")
		if err != nil {
			return err
		}
		a.opts.StateDir = dir
		a.stateGoes = true
		defer os.RemoveAll(dir) // its journals name resources of a simulator that ends with the demo
	}
	// The simulator ends with this process: a command about this demo's migration could not
	// run later, so none is printed as if it could.
	a.pasteAs = demoCommands
	if a.opts.Region == "" {
		a.opts.Region = "us-east-1"
	}
	a.opts.EndpointURL = endpoint
	a.newClient = func(_ context.Context, cfg awsclient.Config) (*awsclient.Client, error) {
		return awsclient.NewForSimulator(cfg), nil
	}
	// Poll often in real time: the virtual clock runs fast.
	a.opts.PollInterval = max(20*time.Millisecond, time.Duration(float64(5*time.Second)/o.Speed))

	eng, client, err := a.engine(ctx)
	if err != nil {
		return err
	}
	// The simulator's endpoint names are made up and no DNS serves them: the report says so,
	// rather than asking to check them from the applications' network.
	eng.Resolver = workflow.Unresolvable{Why: "a name of the demo's simulator, which no DNS serves, so there is nothing to check; on AWS rdsencrypt waits here, before writes resume, until the endpoint name resolves to the new instance"}
	db := o.DB
	if db == "" {
		if db, err = demoCandidate(ctx, client.For(""), o.DataPlane); err != nil {
			return err
		}
	}
	fmt.Fprintf(a.streams.Err, "rdsencrypt demo: RDS simulator at %s (virtual clock %gx), state in %s\n", endpoint, o.Speed, a.opts.StateDir)
	fmt.Fprintf(a.streams.Err, "migrating DB instance %s in %s to %s\n", db, a.opts.Region, o.KmsKey)
	req := workflow.MigrateRequest{Region: a.opts.Region, Source: db, KmsKey: o.KmsKey}
	check := func(context.Context) error { return nil }
	if o.DataPlane {
		if check, err = a.demoWriter(ctx, client.For(""), db, &req); err != nil {
			return err
		}
	}
	if a.opts.Yes || !a.streams.Terminal {
		plan, err := eng.Plan(ctx, req)
		if err != nil {
			return err
		}
		output.PrintPlan(a.streams.Err, plan)
	}
	return a.interact(ctx, eng, func(ctx context.Context) (*workflow.Report, error) {
		rep, err := eng.Migrate(ctx, req)
		if err != nil || rep.Status != workflow.StatusCompleted {
			return rep, err
		}
		if err := check(ctx); err != nil {
			return rep, err
		}
		return eng.Cleanup(ctx, rep.MigrationID)
	})
}

// demoCommand finds a command about one of the demo's migrations.
var demoCommand = regexp.MustCompile(`\brdsencrypt (resume|rollback|cleanup|status)( [0-9a-f]{8})?\b`)

// demoCommands replaces the commands about the demo's migration in a message: they cannot
// run once the demo's in-process simulator is gone.
func demoCommands(msg string) string {
	return demoCommand.ReplaceAllString(msg, "rdsencrypt demo (this demo's simulator ends with it: run the demo again)")
}

// demoCandidate picks the first unencrypted instance that is neither a replica, nor has
// replicas, nor belongs to a cluster (a postgres one for the data plane's writer).
func demoCandidate(ctx context.Context, api model.RDS, postgres bool) (string, error) {
	insts, err := api.ListInstances(ctx)
	if err != nil {
		return "", err
	}
	for _, i := range insts {
		if !i.Settings.StorageEncrypted && i.ClusterID == "" && i.ReplicaSource == "" && len(i.Replicas) == 0 &&
			(!postgres || i.Settings.Engine == "postgres") {
			return i.ID, nil
		}
	}
	return "", errors.New("the example fleet has no unencrypted standalone instance")
}
