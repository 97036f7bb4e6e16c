package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/rdsencrypt/rdsencrypt/internal/dataplane"
	"github.com/rdsencrypt/rdsencrypt/internal/rdssim"
)

type options struct {
	addr         string
	speed        float64
	fixture      string
	exampleFleet bool
	regions      string
	dataPlane    bool
}

func parseFlags(args []string, stderr io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("rdssim", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.addr, "addr", "127.0.0.1:4566", "listen address (port 0 picks a free port)")
	fs.Float64Var(&o.speed, "speed", 60, "virtual seconds per real second")
	fs.StringVar(&o.fixture, "fixture", "", "JSON fleet to load at start (format: rdssim.Fixture)")
	fs.BoolVar(&o.exampleFleet, "example-fleet", true, "load the built-in example fleet (unless --fixture is given; --example-fleet=false starts empty)")
	fs.BoolVar(&o.dataPlane, "data-plane", false, "run a real PostgreSQL or MariaDB server behind every postgres, mysql and mariadb instance (docs/data-plane.md)")
	fs.StringVar(&o.regions, "regions", "", "comma-separated regions to simulate (default us-east-1,us-west-2,eu-west-1)")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	explicit := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { explicit[f.Name] = true })
	if o.fixture != "" && !explicit["example-fleet"] {
		o.exampleFleet = false
	}
	switch {
	case fs.NArg() > 0:
		return o, fmt.Errorf("unexpected arguments: %s", strings.Join(fs.Args(), " "))
	case o.fixture != "" && o.exampleFleet:
		return o, errors.New("--fixture and --example-fleet exclude each other")
	case o.speed <= 0:
		return o, errors.New("--speed must be positive")
	}
	return o, nil
}

// run serves the simulator until ctx is cancelled and returns the exit code. ready, when not
// nil, receives the listening address.
func run(ctx context.Context, args []string, stderr io.Writer, ready func(addr string)) int {
	log := slog.New(slog.NewTextHandler(stderr, nil))
	o, err := parseFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		log.Error("rdssim: " + err.Error())
		return 2
	}
	opts := rdssim.Options{Speed: o.speed, DataPlane: o.dataPlane}
	for _, r := range strings.Split(o.regions, ",") {
		if r = strings.TrimSpace(r); r != "" {
			opts.Regions = append(opts.Regions, r)
		}
	}
	sim := rdssim.New(opts)
	defer func() {
		if err := sim.Close(); err != nil {
			log.Error("rdssim: removing the data plane's files", "err", err)
		}
	}()
	if o.dataPlane {
		// The servers' certificates chain to this CA: rdsencrypt --db-ca-bundle takes it
		// where it would take RDS's global-bundle.pem (docs/data-plane.md#tls).
		log.Info("data plane on", "root", sim.DataRoot(), "ca_bundle", filepath.Join(sim.DataRoot(), dataplane.CAFile))
	}
	if err := loadFleet(sim, o); err != nil {
		log.Error("rdssim: loading the fleet", "err", err)
		return 1
	}
	ln, err := net.Listen("tcp", o.addr)
	if err != nil {
		log.Error("rdssim: listen", "err", err)
		return 1
	}
	url := "http://" + ln.Addr().String()
	log.Info("rdssim listening", "addr", ln.Addr().String(), "speed", o.speed, "virtual_time", sim.Now().Format(time.RFC3339))
	for _, r := range sim.Regions() {
		log.Info("region endpoint", "region", r, "endpoint", url,
			"try", fmt.Sprintf("aws rds describe-db-instances --endpoint-url %s --region %s", url, r))
	}
	srv := &http.Server{Handler: sim, ReadHeaderTimeout: 10 * time.Second}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	if ready != nil {
		ready(ln.Addr().String())
	}
	select {
	case err := <-served:
		log.Error("rdssim: serve", "err", err)
		return 1
	case <-ctx.Done():
	}
	log.Info("rdssim stopping")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		log.Error("rdssim: shutdown", "err", err)
		return 1
	}
	return 0
}

func loadFleet(sim *rdssim.Sim, o options) error {
	switch {
	case o.exampleFleet:
		return sim.LoadFixture(bytes.NewReader(rdssim.ExampleFleet))
	case o.fixture != "":
		f, err := os.Open(o.fixture)
		if err != nil {
			return err
		}
		defer f.Close()
		return sim.LoadFixture(f)
	}
	return nil
}
