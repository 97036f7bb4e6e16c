package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/rdsencrypt/rdsencrypt/internal/dataplane"
	"github.com/rdsencrypt/rdsencrypt/internal/model"
	"github.com/rdsencrypt/rdsencrypt/internal/rdssim"
	"github.com/rdsencrypt/rdsencrypt/internal/workflow"
)

// demoWriter starts, for demo --data-plane, an application writer on the migrated PostgreSQL
// instance's endpoint, and makes the migration's freeze and unfreeze hooks pause and resume it.
// The returned function stops the writer and checks that every row it committed is on the
// instance that holds the name at the end (the encrypted one).
func (a *app) demoWriter(ctx context.Context, api model.RDS, db string, req *workflow.MigrateRequest) (func(context.Context) error, error) {
	inst, err := api.DescribeInstance(ctx, db)
	if err != nil {
		return nil, err
	}
	if inst.Settings.Engine != "postgres" {
		return nil, fmt.Errorf("demo --data-plane writes to a postgres instance; %s is %s (pick one with --db)", db, inst.Settings.Engine)
	}
	user, password, dbName, err := fleetCredentials(db)
	if err != nil {
		return nil, err
	}
	dsn := (&url.URL{Scheme: "postgres", User: url.UserPassword(user, password),
		Host: net.JoinHostPort(inst.Endpoint, strconv.Itoa(int(inst.Settings.Port))), Path: "/" + dbName,
		RawQuery: "sslmode=disable&connect_timeout=5"}).String()
	pause := filepath.Join(a.opts.StateDir, "demo-writes-frozen")
	w, err := dataplane.StartWriter(ctx, dsn, pause, 50*time.Millisecond)
	if err != nil {
		return nil, fmt.Errorf("demo writer on %s: %w", db, err)
	}
	req.Options.FreezeHook = "touch '" + pause + "'"
	req.Options.UnfreezeHook = "rm -f '" + pause + "'"
	fmt.Fprintf(a.streams.Err, "demo writer: one row every 50ms into %s on %s (%s:%d); the freeze hook pauses it\n",
		dataplane.WriterTable, db, inst.Endpoint, inst.Settings.Port)
	return func(ctx context.Context) error {
		_ = os.Remove(pause)
		time.Sleep(500 * time.Millisecond) // a few rows on the final instance after the migration
		committed, failed := w.Stop()
		n, err := dataplane.CountRows(ctx, dsn)
		if err != nil {
			return fmt.Errorf("demo writer: counting rows on %s: %w", db, err)
		}
		fmt.Fprintf(a.streams.Err, "demo writer: %d rows committed (%d attempts refused while the endpoint was down); %d rows on the instance now named %s\n",
			committed, failed, n, db)
		if n != committed {
			return fmt.Errorf("demo writer: %d committed rows missing on %s", committed-n, db)
		}
		return nil
	}, nil
}

// fleetCredentials reads an example-fleet instance's master user, password and database.
func fleetCredentials(id string) (user, password, db string, err error) {
	var fleet any
	if err := json.Unmarshal(rdssim.ExampleFleet, &fleet); err != nil {
		return "", "", "", err
	}
	var walk func(v any) bool
	walk = func(v any) bool {
		switch x := v.(type) {
		case map[string]any:
			if x["DBInstanceIdentifier"] == id && x["MasterUserPassword"] != nil {
				user, _ = x["MasterUsername"].(string)
				password, _ = x["MasterUserPassword"].(string)
				db, _ = x["DBName"].(string)
				return true
			}
			for _, c := range x {
				if walk(c) {
					return true
				}
			}
		case []any:
			for _, c := range x {
				if walk(c) {
					return true
				}
			}
		}
		return false
	}
	if !walk(fleet) {
		return "", "", "", fmt.Errorf("the example fleet has no password for %s", id)
	}
	if db == "" {
		db = "postgres"
	}
	return user, password, db, nil
}
