package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rdsencrypt/rdsencrypt/internal/rdssim/simtest"
)

// start runs the command in-process on a free port and returns its address and a stop
// function that returns the exit code and the log.
func start(t *testing.T, args ...string) (string, func() (int, string)) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var log bytes.Buffer
	addr := make(chan string, 1)
	code := make(chan int, 1)
	go func() {
		code <- run(ctx, append([]string{"--addr", "127.0.0.1:0"}, args...), &log, func(a string) { addr <- a })
	}()
	select {
	case a := <-addr:
		return a, func() (int, string) {
			cancel()
			c := <-code
			return c, log.String()
		}
	case c := <-code:
		cancel()
		t.Fatalf("rdssim exited with %d before listening: %s", c, log.String())
		return "", nil
	}
}

func client(addr, region string) *rds.Client {
	return rds.New(rds.Options{Region: region, BaseEndpoint: aws.String("http://" + addr),
		Credentials: simtest.Credentials, Retryer: simtest.Retryer(), APIOptions: simtest.APIOptions()})
}

func TestServesTheExampleFleetPerRegion(t *testing.T) {
	addr, stop := start(t, "--example-fleet", "--speed", "1", "--regions", "us-east-1, us-west-2")
	ctx := context.Background()

	east, err := client(addr, "us-east-1").DescribeDBInstances(ctx, &rds.DescribeDBInstancesInput{DBInstanceIdentifier: aws.String("orders-mysql")})
	require.NoError(t, err)
	assert.Equal(t, "available", aws.ToString(east.DBInstances[0].DBInstanceStatus))
	west, err := client(addr, "us-west-2").DescribeDBInstances(ctx, &rds.DescribeDBInstancesInput{})
	require.NoError(t, err)
	require.Len(t, west.DBInstances, 1)
	assert.Equal(t, "orders-mysql-dr", aws.ToString(west.DBInstances[0].DBInstanceIdentifier))
	clusters, err := client(addr, "us-east-1").DescribeDBClusters(ctx, &rds.DescribeDBClustersInput{})
	require.NoError(t, err)
	assert.Len(t, clusters.DBClusters, 2)
	_, err = client(addr, "eu-west-1").DescribeDBInstances(ctx, &rds.DescribeDBInstancesInput{})
	require.Error(t, err, "eu-west-1 is not simulated with --regions")

	code, log := stop()
	assert.Equal(t, 0, code)
	assert.Contains(t, log, "rdssim listening")
	assert.Contains(t, log, "aws rds describe-db-instances --endpoint-url http://"+addr+" --region us-west-2")
	assert.Contains(t, log, "rdssim stopping")
	_, err = client(addr, "us-east-1").DescribeDBInstances(ctx, &rds.DescribeDBInstancesInput{},
		func(o *rds.Options) { o.RetryMaxAttempts = 1 })
	assert.Error(t, err, "the server is closed after shutdown")
}

func TestFixtureFileAndFlags(t *testing.T) {
	path := filepath.Join(t.TempDir(), "fleet.json")
	require.NoError(t, os.WriteFile(path, []byte(`{"Regions": {"us-east-1": {"Clusters": [{"DBClusterIdentifier": "c1",
		"Engine": "aurora-postgresql", "MasterUsername": "pg", "MasterUserPassword": "secret-password"}]}}}`), 0o600))
	addr, stop := start(t, "--fixture", path)
	out, err := client(addr, "us-east-1").DescribeDBClusters(context.Background(), &rds.DescribeDBClustersInput{})
	require.NoError(t, err)
	require.Len(t, out.DBClusters, 1)
	assert.Equal(t, "available", aws.ToString(out.DBClusters[0].Status))
	code, _ := stop()
	assert.Equal(t, 0, code)

	for _, args := range [][]string{
		{"--fixture", path, "--example-fleet"},
		{"--speed", "0"},
		{"--bogus"},
		{"extra"},
	} {
		var log bytes.Buffer
		assert.Equal(t, 2, run(context.Background(), args, &log, nil), args)
	}
	var log bytes.Buffer
	assert.Equal(t, 1, run(context.Background(), []string{"--fixture", filepath.Join(t.TempDir(), "missing.json")}, &log, nil))
	assert.Contains(t, log.String(), "loading the fleet")
	assert.Equal(t, 1, run(context.Background(), []string{"--addr", "256.0.0.1:1"}, &log, nil))
}

func TestServesTheExampleFleetByDefault(t *testing.T) {
	addr, stop := start(t)
	out, err := client(addr, "us-east-1").DescribeDBInstances(context.Background(), &rds.DescribeDBInstancesInput{})
	require.NoError(t, err)
	assert.NotEmpty(t, out.DBInstances, "go run ./cmd/rdssim serves the example fleet")
	code, _ := stop()
	assert.Equal(t, 0, code)

	addr, stop = start(t, "--example-fleet=false")
	out, err = client(addr, "us-east-1").DescribeDBInstances(context.Background(), &rds.DescribeDBInstancesInput{})
	require.NoError(t, err)
	assert.Empty(t, out.DBInstances)
	code, _ = stop()
	assert.Equal(t, 0, code)
}
