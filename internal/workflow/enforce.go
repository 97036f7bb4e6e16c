package workflow

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/rdsencrypt/rdsencrypt/internal/awsclient"
	"github.com/rdsencrypt/rdsencrypt/internal/model"
)

// The enforced write freeze (FreezeEnforce), through the control plane and without database
// credentials (docs/freeze.md):
//
//  1. the source's VPC security groups are journaled before anything changes;
//  2. an ingress-free security group is created in the source's VPC, tagged as the
//     migration's (found again by its tag when a run was killed before journaling it);
//  3. ModifyDBInstance puts that group alone on the source, applied immediately; security
//     groups are stateful, so the sessions already open survive it;
//  4. a reboot ends them (RDS's way to drop connections);
//  5. the source's DatabaseConnections metric (CloudWatch, AWS/RDS, one-minute period) must be
//     0 for the first whole minute after the reboot; a session still open stops the
//     migration, resumable, before the final snapshot.
//
// The new instance is restored with the journaled groups (reloadInstance), parity compares
// against them, the retired source keeps the ingress-free group after cutover, rollback puts
// the journaled groups back exactly, and rollback or cleanup deletes the group once nothing
// uses it.

// enforceActions are the AWS calls of an enforced freeze, as the plan and the approval list
// them.
var enforceActions = []string{"ec2:DescribeSecurityGroups", "ec2:CreateSecurityGroup", "ModifyDBInstance", "RebootDBInstance", "cloudwatch:GetMetricData"}

// enforcePermissions are the IAM actions of an enforced freeze: its calls, and ec2:CreateTags
// for the tags given on create.
var enforcePermissions = []string{"ec2:DescribeSecurityGroups", "ec2:CreateSecurityGroup", "ec2:CreateTags",
	"rds:ModifyDBInstance", "rds:RebootDBInstance", "cloudwatch:GetMetricData"}

// enforceEstimate: ModifyDBInstance of the security groups (about 3 min), the reboot (about
// 1 min) and the first whole minute of DatabaseConnections after it, reported once it ended.
const enforceEstimate = 6 * time.Minute

// The waits inside the enforced freeze each expect their own operation (enforceEstimate's
// parts), so their polls come close around its end instead of backing off.
const (
	enforceModifyEstimate = 3 * time.Minute
	enforceRebootEstimate = time.Minute
)

// TagOriginalGroups on the freeze group lists the source's security groups before the freeze,
// space-separated: a second record of what rollback puts back.
const TagOriginalGroups = "rdsencrypt:original-security-groups"

// metricGiveUp is how long the verification waits for CloudWatch to report the first whole
// minute after the reboot before it stops, resumable (AWS publishes RDS metrics every minute).
const metricGiveUp = 15 * time.Minute

func (r *run) network() (model.Network, error) {
	if r.e.Networks == nil {
		return nil, errorf(r.st.Source, "rdsencrypt resume "+r.st.ID, nil,
			"this run has no EC2 and CloudWatch client, which the enforced write freeze of %s needs", r.st.Source)
	}
	return r.e.Networks(r.st.Region)
}

// observeEnforcedFreeze: the freeze is done once verified.
func observeEnforcedFreeze(r *run) bool {
	return r.st.Freeze != nil && !r.st.Freeze.VerifiedAt.IsZero()
}

// enforceFreeze closes the source to clients, ends its sessions and checks that none is left.
// Each part observes AWS first, so that a resumed run finishes it without repeating it.
func enforceFreeze(ctx context.Context, r *run) error {
	net, err := r.network()
	if err != nil {
		return err
	}
	src, err := r.api.DescribeInstanceByResourceID(ctx, r.st.SourceRID)
	if err != nil {
		return err
	}
	if r.st.Freeze == nil {
		if src.VpcID == "" {
			return errorf(src.ID, "rdsencrypt rollback "+r.st.ID+", then migrate with --freeze hook or --freeze none", nil,
				"%s is not in a VPC: its write freeze cannot be enforced", src.ID)
		}
		// Journaled before anything changes: a group of ours cannot be on it yet.
		r.st.Freeze = &FreezeState{OriginalGroups: slices.Clone(src.Settings.VpcSecurityGroupIDs), VpcID: src.VpcID}
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
	if !slices.Equal(src.Settings.VpcSecurityGroupIDs, []string{group.ID}) {
		if src, err = r.settle(ctx, src); err != nil {
			return err
		}
		if r.st.FreezeAt.IsZero() {
			r.st.FreezeAt = r.awsNow() // writes stop with this change
			if err := r.save(); err != nil {
				return err
			}
		}
		r.log("closing %s to clients: security groups %s replaced by %s (%s)", src.ID, strings.Join(fs.OriginalGroups, ", "), group.ID, group.Name)
		if _, err := r.api.ModifyInstance(ctx, src.ID, model.InstanceSettings{VpcSecurityGroupIDs: []string{group.ID}},
			[]model.Setting{"VpcSecurityGroupIDs"}); err != nil {
			return err
		}
	}
	paced := r.paceBy(enforceModifyEstimate)
	closed, err := r.waitInstance(ctx, r.st.SourceRID, func(i *model.Instance) bool {
		return slices.Equal(i.Settings.VpcSecurityGroupIDs, []string{group.ID}) && !i.SecurityGroupsSettling && len(i.PendingModifications) == 0
	})
	paced()
	if err != nil {
		return err
	}
	if fs.RebootedAt.IsZero() {
		r.log("rebooting %s to end the sessions opened before the freeze", closed.ID)
		if _, err := r.api.RebootInstance(ctx, closed.ID); err != nil {
			return err
		}
		fs.RebootedAt = r.awsNow()
		if err := r.save(); err != nil {
			return err
		}
	}
	paced = r.paceBy(enforceRebootEstimate)
	_, err = r.waitInstance(ctx, r.st.SourceRID, nil)
	paced()
	if err != nil {
		return err
	}
	if err := r.verifyNoConnections(ctx, net); err != nil {
		return err
	}
	fs.VerifiedAt = r.awsNow()
	r.log("writes to %s stopped: no database connection since the reboot (DatabaseConnections 0)", r.st.Source)
	return nil
}

// ensureFreezeGroup returns the migration's ingress-free group: the journaled one, one found by
// its tags (a run killed between creating it and journaling it), or a new one.
func (r *run) ensureFreezeGroup(ctx context.Context, net model.Network) (*model.SecurityGroup, error) {
	fs := r.st.Freeze
	if fs.GroupID != "" {
		g, err := net.DescribeSecurityGroup(ctx, fs.GroupID)
		if err != nil {
			return nil, errorf(fs.GroupID, "rdsencrypt rollback "+r.st.ID, err, "cannot read the freeze security group %s of migration %s", fs.GroupID, r.st.ID)
		}
		return g, r.checkFreezeGroup(g)
	}
	g, err := r.findFreezeGroup(ctx, net)
	if err != nil {
		return nil, err
	}
	if g == nil {
		tags := r.ourTags(RoleFreezeGroup)
		tags[TagOriginalGroups] = strings.Join(fs.OriginalGroups, " ")
		r.log("creating the ingress-free security group %s in %s", r.names.FreezeGroup, fs.VpcID)
		g, err = net.CreateSecurityGroup(ctx, r.names.FreezeGroup,
			fmt.Sprintf("rdsencrypt %s: no inbound rule; closes %s to clients during its write freeze", r.st.ID, r.st.Source), fs.VpcID, tags)
		if model.IsAlreadyExists(err) {
			return nil, errorf(r.names.FreezeGroup, "delete that security group (a security group cannot be renamed), then rdsencrypt resume "+r.st.ID, err,
				"security group %s exists in %s but is not tagged as migration %s's", r.names.FreezeGroup, fs.VpcID, r.st.ID)
		}
		if err != nil {
			return nil, err
		}
	}
	fs.GroupID = g.ID
	if r.resourceByName(r.names.FreezeGroup) == nil {
		r.st.Resources = append(r.st.Resources, Resource{Role: RoleFreezeGroup, Type: TypeSecurityGroup, Region: r.st.Region, Name: r.names.FreezeGroup})
	}
	if res := r.resourceByName(r.names.FreezeGroup); res != nil {
		res.ResourceID = g.ID
	}
	if err := r.save(); err != nil {
		return nil, err
	}
	return g, r.checkFreezeGroup(g)
}

// findFreezeGroup is the group tagged as this migration's freeze group in the source's VPC
// that also has the name the journal derives for it (names.FreezeGroup), or nil: tags alone
// never make a group ours.
func (r *run) findFreezeGroup(ctx context.Context, net model.Network) (*model.SecurityGroup, error) {
	groups, err := net.FindSecurityGroups(ctx, model.TagMigrationID, r.st.ID)
	if err != nil {
		return nil, err
	}
	for _, g := range groups {
		if g.Name == r.names.FreezeGroup && g.Tags[model.TagRole] == RoleFreezeGroup && (r.st.Freeze == nil || g.VpcID == r.st.Freeze.VpcID) {
			return &g, nil
		}
	}
	return nil, nil
}

// checkFreezeGroup refuses a group that is not this migration's or lets clients in.
func (r *run) checkFreezeGroup(g *model.SecurityGroup) error {
	if g.Tags[model.TagMigrationID] != r.st.ID || g.Tags[model.TagRole] != RoleFreezeGroup {
		return errorf(g.ID, "rdsencrypt rollback "+r.st.ID, nil, "security group %s is not tagged as migration %s's freeze group", g.ID, r.st.ID)
	}
	if g.InboundRules > 0 {
		return errorf(g.ID, "remove its inbound rules, then rdsencrypt resume "+r.st.ID, nil,
			"the freeze security group %s has %d inbound rule(s): it would let clients write to %s", g.ID, g.InboundRules, r.st.Source)
	}
	return nil
}

// verifyNoConnections waits until CloudWatch reports the first whole minute that starts after
// now and refuses to go on when any minute since shows a database connection.
func (r *run) verifyNoConnections(ctx context.Context, net model.Network) error {
	return r.verifyNoConnectionsOf(ctx, net, r.st.Source)
}

// verifyNoConnectionsOf is verifyNoConnections for the DB instance named instanceID (the
// source, or a member of the source cluster).
func (r *run) verifyNoConnectionsOf(ctx context.Context, net model.Network, instanceID string) error {
	from := r.awsNow().Truncate(time.Minute).Add(time.Minute)
	r.log("checking %s's DatabaseConnections for the minute from %s (AWS time)", instanceID, from.Format("15:04"))
	points, err := awsclient.Poll(ctx, r.e.Poll, func(ctx context.Context) ([]model.MetricPoint, error) {
		return net.InstanceMetric(ctx, instanceID, "DatabaseConnections", from, from.Add(metricGiveUp))
	}, func(points []model.MetricPoint) (bool, error) {
		if slices.ContainsFunc(points, func(p model.MetricPoint) bool { return !p.At.Before(from) }) {
			return true, nil
		}
		if r.awsNow().Sub(from) > metricGiveUp {
			return false, &Error{Resource: instanceID, Err: ErrStopped, Next: "rdsencrypt resume " + r.st.ID + " (it checks again), or rdsencrypt rollback " + r.st.ID,
				Problem: fmt.Sprintf("CloudWatch reported no DatabaseConnections for %s in %s after the freeze", instanceID, metricGiveUp)}
		}
		return false, nil
	}, nil)
	if err != nil {
		return err
	}
	for _, p := range points {
		if !p.At.Before(from) && p.Value > 0 {
			return errorf(instanceID, fmt.Sprintf("end the sessions still open on %s (or reboot it), then rdsencrypt resume %s; or rdsencrypt rollback %s", instanceID, r.st.ID, r.st.ID), nil,
				"%s still had %g database connection(s) in the minute from %s after the freeze and the reboot: writes may go on, so the final snapshot is not taken",
				instanceID, p.Value, p.At.UTC().Format("15:04"))
		}
	}
	return nil
}

// undoEnforcedFreeze puts the source's journaled security groups back, exactly, while it
// carries the migration's freeze group, then deletes that group. Rollback calls it once the
// source is back at its name.
func (r *run) undoEnforcedFreeze(ctx context.Context) error {
	fs := r.st.Freeze
	if fs == nil {
		return nil
	}
	src, err := r.settledSource(ctx)
	if err != nil {
		return err
	}
	if fs.GroupID != "" && slices.Contains(src.Settings.VpcSecurityGroupIDs, fs.GroupID) {
		r.log("opening %s to clients again: security groups %s", src.ID, strings.Join(fs.OriginalGroups, ", "))
		if _, err := r.api.ModifyInstance(ctx, src.ID, model.InstanceSettings{VpcSecurityGroupIDs: fs.OriginalGroups},
			[]model.Setting{"VpcSecurityGroupIDs"}); err != nil {
			return err
		}
		if _, err := r.waitInstance(ctx, r.st.SourceRID, func(i *model.Instance) bool {
			return slices.Equal(i.Settings.VpcSecurityGroupIDs, fs.OriginalGroups) && !i.SecurityGroupsSettling
		}); err != nil {
			return err
		}
	} else if !slices.Equal(src.Settings.VpcSecurityGroupIDs, fs.OriginalGroups) && fs.GroupID != "" {
		r.log("%s's security groups (%s) were changed by someone else since the freeze: left as they are", src.ID, strings.Join(src.Settings.VpcSecurityGroupIDs, ", "))
	}
	return r.deleteFreezeGroup(ctx, "rdsencrypt rollback "+r.st.ID)
}

// deleteFreezeGroup deletes the migration's freeze group, after checking that both the journal
// and its tags say it is ours. A group still used by an instance is kept, with an error that
// says so and names again, the command to run once it is free (rollback or cleanup).
func (r *run) deleteFreezeGroup(ctx context.Context, again string) error {
	fs := r.st.Freeze
	if fs == nil {
		return nil
	}
	net, err := r.network()
	if err != nil {
		return err
	}
	id := fs.GroupID
	if id == "" {
		g, err := r.findFreezeGroup(ctx, net) // created, not journaled
		if err != nil || g == nil {
			return err
		}
		id = g.ID
	}
	g, err := net.DescribeSecurityGroup(ctx, id)
	if model.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	if g.Tags[model.TagMigrationID] != r.st.ID || g.Tags[model.TagRole] != RoleFreezeGroup || g.Name != r.names.FreezeGroup {
		return errorf(id, "rdsencrypt status "+r.st.ID, nil, "security group %s (%s) is not tagged and named as migration %s's freeze group %s: not deleting it", id, g.Name, r.st.ID, r.names.FreezeGroup)
	}
	r.log("deleting the freeze security group %s (%s)", g.ID, g.Name)
	if err := net.DeleteSecurityGroup(ctx, id); err != nil && !model.IsNotFound(err) {
		if model.IsInvalidState(err) {
			return errorf(id, again, err, "security group %s is still in use", id)
		}
		return err
	}
	return nil
}
