package workflow

import (
	"context"
	"maps"
	"slices"
	"strings"

	"github.com/rdsencrypt/rdsencrypt/internal/model"
)

// The enforced freeze of an Aurora cluster (docs/freeze.md): as for an instance, but the
// security groups are the cluster's (an Aurora instance's VPC security groups are managed by
// its cluster: ModifyDBInstance VpcSecurityGroupIds API doc), and every member is rebooted
// and must report no database connection.

// enforceClusterActions are the AWS calls of a cluster's enforced freeze.
var enforceClusterActions = []string{"ec2:DescribeSecurityGroups", "ec2:CreateSecurityGroup", "ModifyDBCluster", "RebootDBInstance", "cloudwatch:GetMetricData"}

// enforceClusterPermissions are its IAM actions.
var enforceClusterPermissions = []string{"ec2:DescribeSecurityGroups", "ec2:CreateSecurityGroup", "ec2:CreateTags",
	"rds:ModifyDBCluster", "rds:RebootDBInstance", "cloudwatch:GetMetricData"}

// clusterVPC is the VPC of a cluster, read from its members' DB subnet group; "" without
// members.
func clusterVPC(members map[string]*model.Instance) string {
	for _, id := range slices.Sorted(maps.Keys(members)) {
		if v := members[id].VpcID; v != "" {
			return v
		}
	}
	return ""
}

// enforceClusterFreeze closes the source cluster and its members to clients, ends their
// sessions and checks that none is left, observing AWS first at each part.
func enforceClusterFreeze(ctx context.Context, r *run) error {
	net, err := r.network()
	if err != nil {
		return err
	}
	cl, err := r.api.DescribeClusterByResourceID(ctx, r.st.SourceRID)
	if err != nil {
		return err
	}
	members := map[string]*model.Instance{}
	for _, m := range r.journal().Members {
		inst, err := r.api.DescribeInstanceByResourceID(ctx, m.ResourceID)
		if err != nil {
			return err
		}
		members[m.ID] = inst
	}
	if r.st.Freeze == nil {
		vpc := clusterVPC(members)
		if vpc == "" {
			return errorf(cl.ID, "rdsencrypt rollback "+r.st.ID+", then migrate with --freeze hook or --freeze none", nil,
				"the VPC of cluster %s is unknown (no member with a DB subnet group): its write freeze cannot be enforced", cl.ID)
		}
		r.st.Freeze = &FreezeState{OriginalGroups: slices.Clone(cl.Settings.VpcSecurityGroupIDs), VpcID: vpc}
		if r.st.Freeze.OriginalGroups == nil {
			r.st.Freeze.OriginalGroups = []string{}
		}
		if err := r.save(); err != nil {
			return err
		}
	}
	fs := r.st.Freeze
	group, err := r.ensureFreezeGroup(ctx, net)
	if err != nil {
		return err
	}
	if !slices.Equal(cl.Settings.VpcSecurityGroupIDs, []string{group.ID}) {
		if cl, err = r.settleCluster(ctx, cl); err != nil {
			return err
		}
		if r.st.FreezeAt.IsZero() {
			r.st.FreezeAt = r.awsNow()
			if err := r.save(); err != nil {
				return err
			}
		}
		r.log("closing cluster %s to clients: security groups %s replaced by %s (%s)", cl.ID, strings.Join(fs.OriginalGroups, ", "), group.ID, group.Name)
		if _, err := r.api.ModifyCluster(ctx, cl.ID, model.ClusterSettings{VpcSecurityGroupIDs: []string{group.ID}},
			[]model.Setting{"VpcSecurityGroupIDs"}); err != nil {
			return err
		}
	}
	if _, err := r.waitCluster(ctx, r.st.SourceRID, func(c *model.Cluster) bool {
		return slices.Equal(c.Settings.VpcSecurityGroupIDs, []string{group.ID})
	}); err != nil {
		return err
	}
	closed := func(i *model.Instance) bool {
		return slices.Equal(i.Settings.VpcSecurityGroupIDs, []string{group.ID}) && !i.SecurityGroupsSettling
	}
	if fs.RebootedAt.IsZero() {
		for _, m := range r.journal().Members {
			inst, err := r.waitInstance(ctx, m.ResourceID, closed)
			if err != nil {
				return err
			}
			r.log("rebooting member %s to end the sessions opened before the freeze", inst.ID)
			if _, err := r.api.RebootInstance(ctx, inst.ID); err != nil {
				return err
			}
		}
		fs.RebootedAt = r.awsNow()
		if err := r.save(); err != nil {
			return err
		}
	}
	for _, m := range r.journal().Members {
		if _, err := r.waitInstance(ctx, m.ResourceID, closed); err != nil {
			return err
		}
	}
	for _, m := range r.journal().Members {
		if err := r.verifyNoConnectionsOf(ctx, net, m.ID); err != nil {
			return err
		}
	}
	fs.VerifiedAt = r.awsNow()
	r.log("writes to cluster %s stopped: no database connection on any member since the reboot", r.st.Source)
	return nil
}

// undoClusterFreeze puts the source cluster's journaled security groups back while it carries
// the freeze group, then deletes the group. Cluster rollback calls it once the source is back
// at its names.
func (r *run) undoClusterFreeze(ctx context.Context) error {
	fs := r.st.Freeze
	if fs == nil {
		return nil
	}
	cl, err := r.api.DescribeClusterByResourceID(ctx, r.st.SourceRID)
	if err != nil {
		return err
	}
	if cl, err = r.settleCluster(ctx, cl); err != nil {
		return err
	}
	if fs.GroupID != "" && slices.Contains(cl.Settings.VpcSecurityGroupIDs, fs.GroupID) {
		r.log("opening cluster %s to clients again: security groups %s", cl.ID, strings.Join(fs.OriginalGroups, ", "))
		if _, err := r.api.ModifyCluster(ctx, cl.ID, model.ClusterSettings{VpcSecurityGroupIDs: fs.OriginalGroups},
			[]model.Setting{"VpcSecurityGroupIDs"}); err != nil {
			return err
		}
		if _, err := r.waitCluster(ctx, r.st.SourceRID, func(c *model.Cluster) bool {
			return slices.Equal(c.Settings.VpcSecurityGroupIDs, fs.OriginalGroups)
		}); err != nil {
			return err
		}
		for _, m := range r.journal().Members {
			if _, err := r.waitInstance(ctx, m.ResourceID, func(i *model.Instance) bool {
				return !slices.Contains(i.Settings.VpcSecurityGroupIDs, fs.GroupID) && !i.SecurityGroupsSettling
			}); err != nil {
				return err
			}
		}
	} else if fs.GroupID != "" && !slices.Equal(cl.Settings.VpcSecurityGroupIDs, fs.OriginalGroups) {
		r.log("cluster %s's security groups (%s) were changed by someone else since the freeze: left as they are", cl.ID, strings.Join(cl.Settings.VpcSecurityGroupIDs, ", "))
	}
	return r.deleteFreezeGroup(ctx, "rdsencrypt rollback "+r.st.ID)
}
