package rdssim_test

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/rds"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A held call is served, but its answer waits for Release; after stop, calls are answered at
// once.
func TestHoldCalls(t *testing.T) {
	t.Parallel()
	h := manual(t)
	c := h.RDS("us-east-1")
	held, stop := h.Sim.HoldCalls(func(action string) bool { return action == "DescribeDBInstances" })
	answered := make(chan error, 1)
	go func() {
		_, err := c.DescribeDBInstances(ctx, &rds.DescribeDBInstancesInput{})
		answered <- err
	}()
	call := <-held
	assert.Equal(t, "DescribeDBInstances", call.Action)
	select {
	case err := <-answered:
		t.Fatalf("answered while held: %v", err)
	default:
	}
	call.Release()
	require.NoError(t, <-answered)
	stop()
	_, err := c.DescribeDBInstances(ctx, &rds.DescribeDBInstancesInput{})
	require.NoError(t, err, "answered at once after stop")
}
