package dataplane_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/jackc/pgx/v5"

	"github.com/rdsencrypt/rdsencrypt/internal/dataplane"
)

// connectAs opens a session with a user and password given as values (no URL: a generated
// password has punctuation).
func (e *env) connectAs(addr, user, pw string) error {
	cfg, err := pgx.ParseConfig("postgres://" + addr + "/shop?sslmode=disable&connect_timeout=10")
	if err != nil {
		return err
	}
	cfg.User, cfg.Password = user, pw
	ctx, cancel := context.WithTimeout(e.ctx, 20*time.Second)
	defer cancel()
	c, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return err
	}
	return c.Close(context.Background())
}

func (e *env) secretCreds(sm *secretsmanager.Client, arn string) (string, string) {
	e.t.Helper()
	out, err := sm.GetSecretValue(e.ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(arn)})
	if err != nil {
		e.t.Fatal(err)
	}
	var v struct{ Username, Password string }
	if err := json.Unmarshal([]byte(aws.ToString(out.SecretString)), &v); err != nil {
		e.t.Fatal(err)
	}
	return v.Username, v.Password
}

// TestManagedSecretHoldsTheServersPassword: the credentials in an RDS-managed secret open a
// session on the real server, before and after the 7-day rotation (the old password then
// fails), and after management is turned off the password given with it does.
func TestManagedSecretHoldsTheServersPassword(t *testing.T) {
	e := start(t, dataplane.Postgres)
	inst := e.create("vault", "postgres", func(in *rds.CreateDBInstanceInput) {
		in.MasterUserPassword, in.ManageMasterUserPassword = nil, aws.Bool(true)
	})
	addr := endpoint(inst)
	arn := aws.ToString(inst.MasterUserSecret.SecretArn)
	sm := e.h.SecretsManager(region)
	user, pw1 := e.secretCreds(sm, arn)
	if user != master {
		t.Fatalf("secret user %q, want %q", user, master)
	}
	if err := e.connectAs(addr, user, pw1); err != nil {
		t.Fatalf("the secret's password does not open a session: %v", err)
	}

	e.advance(7*24*time.Hour + time.Minute)
	_, pw2 := e.secretCreds(sm, arn)
	if pw2 == pw1 {
		t.Fatal("the secret did not rotate in 7 days")
	}
	if err := e.connectAs(addr, user, pw2); err != nil {
		t.Fatalf("the rotated password does not open a session: %v", err)
	}
	if err := e.connectAs(addr, user, pw1); err == nil {
		t.Fatal("the password from before the rotation still works")
	}

	const own = "plain-Passw0rd-after"
	if _, err := e.rds.ModifyDBInstance(e.ctx, &rds.ModifyDBInstanceInput{DBInstanceIdentifier: aws.String("vault"),
		ManageMasterUserPassword: aws.Bool(false), MasterUserPassword: aws.String(own), ApplyImmediately: aws.Bool(true)}); err != nil {
		t.Fatal(err)
	}
	e.advance(10 * time.Minute)
	if got := e.describe("vault").MasterUserSecret; got != nil {
		t.Fatalf("MasterUserSecret %v after management was turned off", got)
	}
	if err := e.connectAs(addr, user, own); err != nil {
		t.Fatalf("the password given when management was turned off does not open a session: %v", err)
	}
}
