package integration

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rdsencrypt/rdsencrypt/internal/model"
	"github.com/rdsencrypt/rdsencrypt/internal/rdssim"
	"github.com/rdsencrypt/rdsencrypt/internal/workflow"
)

// The enforced freeze of an Aurora cluster: the cluster's security groups (which its members
// follow) replaced by the ingress-free group, every member rebooted, every member's
// DatabaseConnections 0 before the final snapshot.

func freezeClusterEnv(t *testing.T) (*env, []string) {
	e := newEnv(t)
	e.createKey("alias/k")
	smallCluster(e)
	for _, m := range []string{"shop-1", "shop-2"} {
		e.h.Workload(region, m, rdssim.Workload{Clients: 3, WriteIOPS: 50})
		require.NoError(t, e.h.Connect(region, m), "the members admit clients")
	}
	return e, e.cluster("shop").Settings.VpcSecurityGroupIDs
}

func (e *env) cluster(id string) *model.Cluster {
	e.t.Helper()
	cl, err := e.client.For(region).DescribeCluster(context.Background(), id)
	require.NoError(e.t, err)
	return cl
}

func enforcedClusterRequest() workflow.MigrateRequest {
	req := clusterRequest("shop", "alias/k")
	req.Options.Freeze = workflow.FreezeEnforce
	return req
}

func TestEnforcedClusterFreeze(t *testing.T) {
	e, original := freezeClusterEnv(t)
	require.NotEmpty(t, original)
	require.NotNil(t, e.h.Sim)
	asked := false
	approver := workflow.ApproverFunc(func(ctx context.Context, a workflow.Approval) (workflow.Decision, error) {
		if a.Step == workflow.StepSnapshot {
			asked = true
			for _, m := range []string{"shop-1", "shop-2"} {
				assert.Zero(t, e.h.Sim.Sessions(region, m), "no session on %s at the final snapshot", m)
				assert.Error(t, e.h.Connect(region, m), "%s takes no new connection", m)
			}
		}
		return workflow.Approve, nil
	})
	eng := e.enforcing(e.engine(fixedID, approver))
	plan, err := eng.Plan(e.ctx(), enforcedClusterRequest())
	require.NoError(t, err)
	assert.Equal(t, workflow.FreezeEnforce, plan.Freeze)
	rep, err := eng.Migrate(e.ctx(), enforcedClusterRequest())
	require.NoError(t, err)
	assert.Equal(t, workflow.StatusCompleted, rep.Status)
	assert.Empty(t, rep.Parity.Differences)
	require.True(t, asked)

	st, err := e.store.Load(fixedID)
	require.NoError(t, err)
	require.NotNil(t, st.Freeze)
	assert.Equal(t, original, st.Freeze.OriginalGroups)
	n := workflow.ClusterNamesFor(fixedID, "shop")
	assert.Equal(t, original, e.cluster("shop").Settings.VpcSecurityGroupIDs, "the new cluster has the source's groups")
	assert.Equal(t, []string{st.Freeze.GroupID}, e.cluster(n.Retired).Settings.VpcSecurityGroupIDs, "the retired cluster keeps the freeze group")
	for _, m := range []string{"shop-1", "shop-2"} {
		assert.NoError(t, e.h.Connect(region, m), "the new member %s takes connections", m)
		assert.Error(t, e.h.Connect(region, n.MemberRetired(m)), "the retired member of %s refuses them", m)
	}

	_, err = eng.Cleanup(e.ctx(), fixedID)
	require.NoError(t, err)
	assert.True(t, e.freezeGroupGone(st.Freeze.GroupID), "cleanup deletes the group after the retired cluster")
}

func TestEnforcedClusterFreezeRefusesAHeldSessionAndRollsBack(t *testing.T) {
	e, original := freezeClusterEnv(t)
	e.h.HoldSession(region, "shop-2", 1)
	eng := e.enforcing(e.engine(fixedID, workflow.AutoApprove))
	_, err := eng.Migrate(e.ctx(), enforcedClusterRequest())
	require.Error(t, err)
	assert.Contains(t, err.Error(), "shop-2 still had 1 database connection")
	assert.Contains(t, workflow.NextOf(err), "rdsencrypt resume "+fixedID)
	st, err := e.store.Load(fixedID)
	require.NoError(t, err)
	require.NotNil(t, st.Freeze)

	_, err = eng.Rollback(e.ctx(), fixedID)
	require.NoError(t, err)
	assert.Equal(t, original, e.cluster("shop").Settings.VpcSecurityGroupIDs, "the original groups, exactly")
	assert.True(t, e.freezeGroupGone(st.Freeze.GroupID))
	assert.NoError(t, e.h.Connect(region, "shop-1"))
}

func TestEnforcedClusterFreezeRollbackAfterCutover(t *testing.T) {
	e, original := freezeClusterEnv(t)
	eng := e.enforcing(e.engine(fixedID, workflow.AutoApprove))
	_, err := eng.Migrate(e.ctx(), enforcedClusterRequest())
	require.NoError(t, err)
	st, err := e.store.Load(fixedID)
	require.NoError(t, err)
	_, err = eng.Rollback(e.ctx(), fixedID)
	require.NoError(t, err)
	assert.Equal(t, []string{"shop"}, e.clusterIDs())
	assert.False(t, e.cluster("shop").Settings.StorageEncrypted)
	assert.Equal(t, original, e.cluster("shop").Settings.VpcSecurityGroupIDs)
	assert.True(t, e.freezeGroupGone(st.Freeze.GroupID))
	for _, m := range []string{"shop-1", "shop-2"} {
		assert.NoError(t, e.h.Connect(region, m))
	}
}

// Resumed after the held session ends, the migration reloads the source cluster, which now
// carries the freeze group: the new cluster must still get the journaled groups.
func TestEnforcedClusterFreezeResumedGivesTheNewClusterTheOriginalGroups(t *testing.T) {
	e, original := freezeClusterEnv(t)
	e.h.HoldSession(region, "shop-1", 1)
	eng := e.enforcing(e.engine(fixedID, workflow.AutoApprove))
	_, err := eng.Migrate(e.ctx(), enforcedClusterRequest())
	require.Error(t, err)
	e.h.HoldSession(region, "shop-1", -1)
	rep, err := eng.Resume(e.ctx(), fixedID)
	require.NoError(t, err)
	assert.Equal(t, workflow.StatusCompleted, rep.Status)
	assert.Empty(t, rep.Parity.Differences)
	assert.Equal(t, original, e.cluster("shop").Settings.VpcSecurityGroupIDs)
	for _, m := range []string{"shop-1", "shop-2"} {
		assert.NoError(t, e.h.Connect(region, m))
	}
	assert.Equal(t, 1, e.h.Calls()["CreateSecurityGroup"])
}
