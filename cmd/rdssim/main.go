// Command rdssim runs the RDS/KMS simulator standalone, for the AWS CLI and SDKs:
//
//	rdssim --addr 127.0.0.1:4566 --speed 60 --example-fleet
//	aws rds describe-db-instances --endpoint-url http://127.0.0.1:4566 --region us-east-1
//
// Regions are told apart by the SigV4 credential scope of each request, so one address serves
// every simulated region. Ctrl-C or SIGTERM stops it.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stderr, nil))
}
