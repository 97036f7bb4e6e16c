package workflow

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/rdsencrypt/rdsencrypt/internal/model"
)

// Attachments: what names the source and stays with it when the cutover renames it to its
// retired name (issue 13 item 9; docs/aws-behaviour.md#attachments). Each is moved by the
// migration or refused at preflight (and so by plan) with what to do:
//
//   - IAM role associations: a restored instance has none (RestoreDBInstanceFromDBSnapshot
//     takes no roles), nor a new read replica (CreateDBInstanceReadReplica takes none); the
//     add-roles and replica-add-roles steps re-add them (AddRoleToDBInstance) and parity
//     compares them. A cluster's restore takes them (AssociatedRoles), parity compares them.
//   - Event subscriptions list sources by identifier, which the new resource takes at
//     cutover: they follow the name. The verify step reads each one the preflight found and
//     puts the name back (and the retired name out) should AWS have moved it with the
//     renamed source.
//   - RDS Proxy targets, zero-ETL integrations, blue/green deployments, database activity
//     streams, cross-Region automated backup replication and Aurora replica clusters are
//     refused: each is bound to the source resource, and moving it needs a decision (a key
//     in another region, a Redshift target, a switchover) or recreates something the
//     operator owns; the refusal says the commands to run before and after.

// checkAttachments reads the attachments of the source (an instance unless cluster) and
// refuses those the migration does not move, naming each with what to do. It returns the
// event subscriptions that name the source.
func checkAttachments(ctx context.Context, api model.RDS, id, arn string, cluster bool, stream string, backups, replicaClusters []string, retry string) ([]string, error) {
	what := "DB instance"
	if cluster {
		what = "DB cluster"
	}
	att, err := api.DescribeAttachments(ctx, id, arn, cluster)
	if err != nil {
		return nil, errorf(id, "check rds:DescribeDBProxies, rds:DescribeDBProxyTargets, rds:DescribeIntegrations, rds:DescribeBlueGreenDeployments and rds:DescribeEventSubscriptions permissions, then retry: "+retry, err,
			"cannot list what is attached to %s %s", what, id)
	}
	region := api.Region()
	var found, todo []string
	for _, p := range att.Proxies {
		flag := "--db-instance-identifiers"
		if cluster {
			flag = "--db-cluster-identifiers"
		}
		found = append(found, "RDS Proxy "+p)
		todo = append(todo, fmt.Sprintf("aws rds deregister-db-proxy-targets --db-proxy-name %s %s %s, and after cutover aws rds register-db-proxy-targets --db-proxy-name %s %s %s", p, flag, id, p, flag, id))
	}
	for _, n := range att.Integrations {
		found = append(found, "zero-ETL integration "+n)
		todo = append(todo, fmt.Sprintf("aws rds delete-integration --integration-identifier %s, and after cutover create it again with --source-arn %s", n, arn))
	}
	for _, b := range att.BlueGreen {
		found = append(found, "blue/green deployment "+b)
		todo = append(todo, fmt.Sprintf("switch it over or delete it (aws rds delete-blue-green-deployment --blue-green-deployment-identifier %s)", b))
	}
	if stream != "" && !strings.EqualFold(stream, "stopped") {
		found = append(found, "database activity stream ("+stream+")")
		todo = append(todo, fmt.Sprintf("aws rds stop-activity-stream --resource-arn %s --apply-immediately, and after cutover aws rds start-activity-stream --resource-arn %s --mode async --kms-key-id <key> --apply-immediately", arn, arn))
	}
	for _, b := range backups {
		dest := model.ARNRegion(b)
		found = append(found, "automated backups replicated to "+dest)
		todo = append(todo, fmt.Sprintf("aws rds stop-db-instance-automated-backups-replication --region %s --source-db-instance-arn %s, and after cutover start it again with --kms-key-id <a key of %s>", dest, arn, dest))
	}
	for _, c := range replicaClusters {
		r, name := region, c
		if strings.HasPrefix(c, "arn:") {
			r, name = model.ARNRegion(c), model.ARNLastPart(c)
		}
		found = append(found, "Aurora read replica cluster "+name+" in "+r)
		todo = append(todo, fmt.Sprintf("promote it (aws rds promote-read-replica-db-cluster --region %s --db-cluster-identifier %s) or delete it, and after cutover create it again from the encrypted source", r, name))
	}
	if len(found) > 0 {
		return nil, errorf(id, strings.Join(todo, "; ")+"; then "+retry, nil,
			"%s %s has %s, which stay with the source when the cutover retires it: rdsencrypt does not move them", what, id, strings.Join(found, ", "))
	}
	return att.EventSubscriptions, nil
}

// attachmentWarnings are the plan's lines about what the migration moves.
func attachmentWarnings(subscriptions []string, source string) []string {
	if len(subscriptions) == 0 {
		return nil
	}
	return []string{fmt.Sprintf("event subscriptions %s list %s by identifier: they follow the name to the encrypted %s at cutover (verify checks them, and puts the name back if AWS moved it with the retired source)",
		strings.Join(subscriptions, ", "), source, source)}
}

// --- add-roles ----------------------------------------------------------------------------

// missingRoles are the source's role associations ("FeatureName=RoleArn") the target lacks.
func missingRoles(source, target []string) []string {
	var out []string
	for _, r := range source {
		if !slices.ContainsFunc(target, func(t string) bool { return strings.EqualFold(t, r) }) {
			out = append(out, r)
		}
	}
	return out
}

func observeRoles(ctx context.Context, r *run) (bool, error) {
	tgt, err := r.target(ctx)
	if err != nil {
		return false, err
	}
	return len(missingRoles(r.src.Settings.AssociatedRoles, tgt.Settings.AssociatedRoles)) == 0, nil
}

// applyRoles associates each of the source's IAM roles with the new instance.
func applyRoles(ctx context.Context, r *run) error {
	tgt, err := r.target(ctx)
	if err != nil {
		return err
	}
	return r.addRoles(ctx, r.api, r.src.Settings.AssociatedRoles, tgt)
}

// addRoles associates with inst each role of want (the old instance's or replica's) that it
// lacks. A role already there (an earlier attempt whose answer was lost) is success.
func (r *run) addRoles(ctx context.Context, api model.RDS, want []string, inst *model.Instance) error {
	for _, role := range missingRoles(want, inst.Settings.AssociatedRoles) {
		feature, arn, _ := strings.Cut(role, "=")
		if err := api.AddRole(ctx, inst.ID, arn, feature, false); err != nil && model.FailureOf(err) != model.FailureAlreadyExists {
			return errorf(inst.ID, "check iam:PassRole on "+arn+", then rdsencrypt resume "+r.st.ID+", or rdsencrypt rollback "+r.st.ID, err,
				"cannot associate IAM role %s (%s) with %s", arn, feature, inst.ID)
		}
	}
	return nil
}

// observeReplicaRoles and applyReplicaRoles: the replica route's add-roles step. A read
// replica is created without the old replica's roles (CreateDBInstanceReadReplica takes
// none), and AWS adds a role only to an available instance (AddRoleToDBInstance).
func observeReplicaRoles(ctx context.Context, r *run) (bool, error) {
	rc, inst, err := r.replicaAndNew(ctx)
	if err != nil {
		return false, err
	}
	return len(missingRoles(rc.old.Settings.AssociatedRoles, inst.Settings.AssociatedRoles)) == 0, nil
}

func applyReplicaRoles(ctx context.Context, r *run) error {
	rc, inst, err := r.replicaAndNew(ctx)
	if err != nil {
		return err
	}
	if inst, err = r.waitInstanceIn(ctx, rc.api, inst.ResourceID, settled); err != nil {
		return err
	}
	return r.addRoles(ctx, rc.api, rc.old.Settings.AssociatedRoles, inst)
}

// rolesPlanned says whether an add-roles step has roles to add: the source's, or the
// replica's it is about.
func rolesPlanned(kind string, src *model.Instance, replica *model.Instance) bool {
	switch kind {
	case StepAddRoles:
		return len(src.Settings.AssociatedRoles) > 0
	case StepReplicaRoles:
		return replica != nil && len(replica.Settings.AssociatedRoles) > 0
	}
	return true
}

func rolesDescription(p *Plan, n Names) string {
	return fmt.Sprintf("associate %s's IAM roles with %s (a snapshot does not carry them)", p.Source, n.Target)
}

// --- event subscriptions at verify ----------------------------------------------------------

// keepSubscriptions makes sure each event subscription the preflight found still lists the
// source's name and not its retired name: they follow the name on AWS, so this normally reads
// only; should one have followed the renamed source, it is put back.
func keepSubscriptions(ctx context.Context, r *run, retired string) error {
	for _, name := range r.st.EventSubscriptions {
		ids, err := r.api.EventSubscription(ctx, name)
		if model.IsNotFound(err) {
			continue // deleted meanwhile: nothing to keep
		}
		if err != nil {
			return errorf(name, "check rds:DescribeEventSubscriptions permission, then rdsencrypt resume "+r.st.ID, err,
				"cannot read event subscription %s", name)
		}
		has := func(id string) bool {
			return slices.ContainsFunc(ids, func(x string) bool { return strings.EqualFold(x, id) })
		}
		if !has(r.st.Source) {
			if err := r.api.AddSubscriptionSource(ctx, name, r.st.Source); err != nil {
				return errorf(name, "aws rds add-source-identifier-to-subscription --subscription-name "+name+" --source-identifier "+r.st.Source, err,
					"cannot add %s back to event subscription %s", r.st.Source, name)
			}
		}
		if retired != "" && has(retired) {
			if err := r.api.RemoveSubscriptionSource(ctx, name, retired); err != nil && !model.IsNotFound(err) {
				return errorf(name, "aws rds remove-source-identifier-from-subscription --subscription-name "+name+" --source-identifier "+retired, err,
					"cannot remove the retired %s from event subscription %s", retired, name)
			}
		}
	}
	return nil
}
