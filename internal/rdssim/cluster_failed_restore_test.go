package rdssim_test

import (
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A cluster whose restore ended incompatible-restore can be deleted (and its name reused).
func TestIncompatibleRestoreClusterCanBeDeleted(t *testing.T) {
	t.Parallel()
	h := manual(t)
	c := h.RDS("us-east-1")
	createCluster(t, h, c, auroraMySQLInput("src"))
	_, err := c.CreateDBClusterSnapshot(ctx, &rds.CreateDBClusterSnapshotInput{DBClusterIdentifier: aws.String("src"),
		DBClusterSnapshotIdentifier: aws.String("s1")})
	require.NoError(t, err)
	advanceUntilClusterSnapshot(t, h, c, "s1", "available")
	h.Sim.FailNextRestore("us-east-1", "bad")
	restore := &rds.RestoreDBClusterFromSnapshotInput{DBClusterIdentifier: aws.String("bad"), SnapshotIdentifier: aws.String("s1"),
		Engine: aws.String("aurora-mysql")}
	_, err = c.RestoreDBClusterFromSnapshot(ctx, restore)
	require.NoError(t, err)
	advanceUntilCluster(t, h, c, "bad", "incompatible-restore")

	_, err = c.DeleteDBCluster(ctx, &rds.DeleteDBClusterInput{DBClusterIdentifier: aws.String("bad"), SkipFinalSnapshot: aws.Bool(true)})
	require.NoError(t, err)
	assert.Equal(t, "deleting", aws.ToString(describeCluster(t, c, "bad").Status))
	h.Advance(time.Hour)
	_, err = c.RestoreDBClusterFromSnapshot(ctx, restore)
	require.NoError(t, err, "the name is free again")
	advanceUntilCluster(t, h, c, "bad", "available")
}
