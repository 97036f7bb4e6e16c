// Package iampolicy is the least-privilege IAM policy rdsencrypt needs, as data: `rdsencrypt
// iam-policy` prints it, and the integration tests run whole migrations under it in the
// simulator, which evaluates it as IAM does (integration/iampolicy_test.go). Which actions it
// allows comes from the route tables (workflow.IAMActions): every call and permission of
// every step, rollback and cleanup of the selected routes, and nothing else; this package
// says on which resources and under which conditions.
package iampolicy

import (
	"encoding/json"
	"fmt"
	"slices"

	"github.com/rdsencrypt/rdsencrypt/internal/model"
	"github.com/rdsencrypt/rdsencrypt/internal/workflow"
)

// How the statements are narrowed, and where they cannot be:
//
//   - Everything the tool creates has a deterministic name (internal/workflow/names.go): snapshots start
//     with "rdsencrypt-", the new instance or cluster ends in "-enc-<id>" until cutover,
//     the retired source ends in "-old-<id>" after it. Resource ARNs use these patterns.
//   - Everything the tool creates carries rdsencrypt:migration-id, so creating calls
//     require it in the request (aws:RequestTag) and deleting calls of created resources
//     require it on the resource (aws:ResourceTag).
//   - The source is never tagged (invariant 1: only its renames and the enforced freeze's
//     security-group change and reboot change it). So the calls
//     that touch the source cannot be tag-restricted: CreateDBSnapshot (of the source),
//     ModifyDBInstance (the cutover rename, the rename back at rollback, turning off
//     deletion protection of the retired source at cleanup) and DeleteDBInstance of the
//     retired source. The last one is narrowed by name ("*-old-*") only.
//   - IAM has no condition key for the new identifier of a rename, nor for
//     SkipFinalSnapshot/FinalDBSnapshotIdentifier: ModifyDBInstance cannot be limited to
//     renames, and a policy cannot force the final snapshot of a deletion. The tool
//     always asks for it (internal/workflow/cleanup.go) and integration/safety_test.go checks it.
//   - Since 2024 AWS authorizes the final snapshot of DeleteDBInstance as rds:CreateDBSnapshot
//     (and rds:AddTagsToResource on it when the instance copies tags to snapshots), without
//     request tags: those two statements are narrowed by snapshot name, not by tag.
//   - KMS: the tool itself only calls kms:DescribeKey. RDS uses the key on the caller's
//     behalf (CopyDBSnapshot with KmsKeyId, restoring from the encrypted copy, encrypted
//     replicas), which needs kms:CreateGrant by the caller, allowed here only through RDS
//     (kms:ViaService) and only for grants to AWS resources (kms:GrantIsForAWSResource).
//     The key policy must also allow the account's principals (the default key policy does).
//     AWS-managed keys (alias/aws/rds) need no identity permission for this.
//   - The enforced write freeze (internal/workflow/enforce.go): EC2 authorizes
//     CreateSecurityGroup on the new group (with aws:RequestTag) and on the VPC, tags given on
//     create as ec2:CreateTags with the ec2:CreateAction key, and DeleteSecurityGroup on the
//     group with its tags as aws:ResourceTag (Service Authorization Reference, Amazon EC2).
//     DescribeSecurityGroups and cloudwatch:GetMetricData have no resource-level permissions.

// Options selects and scopes the statements.
type Options struct {
	Cluster     bool   // Aurora cluster migrations
	CrossRegion bool   // replicas (and their keys) in other regions
	Partition   string // default "aws"
	Account     string // default "*"
	Region      string // default "*"; always "*" with CrossRegion
	// DBIAMUser is rdsencrypt's --db-iam-user: the replication strategy connects to
	// databases as this user with IAM authentication tokens (rds-db:connect).
	DBIAMUser string
}

// Document is an IAM policy document.
type Document struct {
	Version   string      `json:"Version"`
	Statement []Statement `json:"Statement"`
}

// Statement is one statement. Condition maps an operator (StringEquals, Null, ...)
// to condition keys and their values.
type Statement struct {
	Sid       string                         `json:"Sid"`
	Effect    string                         `json:"Effect"`
	Action    []string                       `json:"Action"`
	Resource  []string                       `json:"Resource"`
	Condition map[string]map[string][]string `json:"Condition,omitempty"`
	// Why explains the statement and the limits of its narrowing; not part of the JSON.
	Why string `json:"-"`
}

// JSON renders the document as indented JSON, ending in a newline.
func (d *Document) JSON() ([]byte, error) {
	b, err := json.MarshalIndent(d, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// Actions lists every action of the document once, sorted.
func (d *Document) Actions() []string {
	var out []string
	for _, s := range d.Statement {
		for _, a := range s.Action {
			if !slices.Contains(out, a) {
				out = append(out, a)
			}
		}
	}
	slices.Sort(out)
	return out
}

// Without returns a copy of the document with action removed from every statement (and
// statements left with no action dropped).
func (d *Document) Without(action string) *Document {
	out := &Document{Version: d.Version}
	for _, s := range d.Statement {
		s.Action = slices.DeleteFunc(slices.Clone(s.Action), func(a string) bool { return a == action })
		if len(s.Action) > 0 {
			out.Statement = append(out.Statement, s)
		}
	}
	return out
}

// Name patterns of what the tool creates or renames (see NamesFor).
const (
	policyOurSnapshots = "rdsencrypt-*" // unencrypted, encrypted and final snapshots
	policyTargets      = "*-enc-*"      // the new resource until cutover
	policyRetired      = "*-old-*"      // the source after cutover
	// the temporary read replica an RDS for MySQL source's replication strategy reads its
	// start position from (Names.PositionReplica)
	policyPositionReplicas = "*-pos-*"
)

// New returns the least-privilege policy for the selected migrations: instance migrations
// (read replicas included), and cluster migrations with o.Cluster. Each statement keeps only
// the actions the selected routes need (workflow.IAMActions); a statement left with none is
// dropped.
func New(o Options) *Document {
	partition, account, region := o.Partition, o.Account, o.Region
	if partition == "" {
		partition = "aws"
	}
	if account == "" {
		account = "*"
	}
	if region == "" || o.CrossRegion {
		region = "*"
	}
	rds := func(kind, name string) string {
		return fmt.Sprintf("arn:%s:rds:%s:%s:%s:%s", partition, region, account, kind, name)
	}
	ec2 := func(resource string) string {
		return fmt.Sprintf("arn:%s:ec2:%s:%s:%s", partition, region, account, resource)
	}
	ours := map[string]map[string][]string{"Null": {"aws:RequestTag/" + model.TagMigrationID: {"false"}}}
	owned := map[string]map[string][]string{"Null": {"aws:ResourceTag/" + model.TagMigrationID: {"false"}}}
	viaRDS := "rds." + region + ".amazonaws.com"

	read := []string{"rds:DescribeDBInstances", "rds:DescribeDBSnapshots", "rds:DescribeOrderableDBInstanceOptions",
		"rds:DescribeDBEngineVersions", "rds:DescribeAccountAttributes",
		// what stays with a renamed source (the preflight's inventory of attachments)
		"rds:DescribeDBProxies", "rds:DescribeDBProxyTargets", "rds:DescribeIntegrations", "rds:DescribeBlueGreenDeployments",
		"rds:DescribeEventSubscriptions"}
	if o.Cluster {
		// ListTagsForResource: custom endpoints come without their tags, which the migration
		// reads to recreate them.
		read = append(read, "rds:DescribeDBClusters", "rds:DescribeDBClusterSnapshots", "rds:DescribeDBClusterEndpoints", "rds:ListTagsForResource")
	}
	st := []Statement{
		{Sid: "Describe", Action: read, Resource: []string{"*"},
			Why: "read-only; listing calls (scan, tag lookups, waits by resource id) name no resource, and DescribeOrderableDBInstanceOptions, DescribeDBEngineVersions and DescribeAccountAttributes have no resource type"},
		{Sid: "SnapshotSource", Action: []string{"rds:CreateDBSnapshot"},
			Resource: []string{rds("db", "*"), rds("snapshot", policyOurSnapshots)},
			Why:      "the source is any DB instance and is never tagged; the same permission authorizes the final snapshot of DeleteDBInstance, which carries no request tags, so only the snapshot name is narrowed"},
		{Sid: "CopyToEncrypted", Action: []string{"rds:CopyDBSnapshot"},
			Resource: []string{rds("snapshot", policyOurSnapshots)}, Condition: ours,
			Why: "copies only the tool's snapshots, and only with the migration tag"},
		{Sid: "RestoreEncrypted", Action: []string{"rds:RestoreDBInstanceFromDBSnapshot"},
			Resource:  []string{rds("db", policyTargets), rds("snapshot", policyOurSnapshots), rds("og", "*"), rds("pg", "*"), rds("subgrp", "*")},
			Condition: ours,
			Why:       "creates the new instance under its temporary name, with the migration tag, from the tool's encrypted snapshot; any option, parameter and subnet group the source uses may be passed"},
		{Sid: "CreateReplicas", Action: []string{"rds:CreateDBInstanceReadReplica"},
			Resource:  []string{rds("db", "*"), rds("og", "*"), rds("pg", "*"), rds("subgrp", "*")},
			Condition: ours,
			Why:       "recreates read replicas off the new primary, and creates the temporary read replica of a MySQL source (replication strategy), with the migration tag; the call is authorized against the replica's source as well, so db is not narrowed by name"},
		{Sid: "TagOwnInstances", Action: []string{"rds:AddTagsToResource"},
			Resource: []string{rds("db", policyTargets), rds("db", policyPositionReplicas)}, Condition: ours,
			Why: "tag-on-create of the new instance and of the temporary read replica (MySQL) (AWS authorizes request tags as rds:AddTagsToResource)"},
		{Sid: "TagOwnSnapshots", Action: []string{"rds:AddTagsToResource"},
			Resource: []string{rds("snapshot", policyOurSnapshots)},
			Why:      "tag-on-create of the tool's snapshots, the tags RDS copies from the source onto the final snapshot (no migration tag), then the migration tags on it; narrowed by name only"},
		{Sid: "ModifyAndRename", Action: []string{"rds:ModifyDBInstance"},
			Resource: []string{rds("db", "*"), rds("og", "*"), rds("pg", "*")},
			Why:      "cannot be tag-restricted: the cutover renames the untagged source, rollback renames it back, the enforced freeze replaces its security groups (and rollback puts them back), cleanup turns off its deletion protection; IAM has no condition key for the new identifier of a rename, so this also allows other modifications of any instance"},
		{Sid: "RebootOwnInstances", Action: []string{"rds:RebootDBInstance"},
			Resource: []string{rds("db", policyTargets)}, Condition: owned,
			Why: "the new instance is rebooted to apply its parameter group, before cutover"},
		{Sid: "RebootSourceToFreeze", Action: []string{"rds:RebootDBInstance"},
			Resource: []string{rds("db", "*")},
			Why:      "the enforced write freeze reboots the source to end the sessions opened before its security groups were replaced, and the replication strategy reboots it to apply a DB parameter group copy with rds.logical_replication on (and rollback to put its own back); the source is never tagged, so this cannot be narrowed"},
		{Sid: "CreateFreezeGroup", Action: []string{"ec2:CreateSecurityGroup"},
			Resource: []string{ec2("security-group/*")}, Condition: ours,
			Why: "the enforced freeze's ingress-free security group, only with the migration tag in the request"},
		{Sid: "CreateFreezeGroupInVPC", Action: []string{"ec2:CreateSecurityGroup"},
			Resource: []string{ec2("vpc/*")},
			Why:      "CreateSecurityGroup is also authorized on the VPC, which carries no request tags: the source's VPC is any VPC"},
		{Sid: "TagFreezeGroupOnCreate", Action: []string{"ec2:CreateTags"},
			Resource: []string{ec2("security-group/*")},
			Condition: map[string]map[string][]string{
				"StringEquals": {"ec2:CreateAction": {"CreateSecurityGroup"}},
				"Null":         {"aws:RequestTag/" + model.TagMigrationID: {"false"}},
			},
			Why: "tags on create only (ec2:CreateAction), with the migration tag: no existing group can be tagged"},
		{Sid: "DescribeGroupsAndMetrics", Action: []string{"ec2:DescribeSecurityGroups", "cloudwatch:GetMetricData"},
			Resource: []string{"*"},
			Why:      "read-only; neither supports resource-level permissions: finding the freeze group by its tag, the source's DatabaseConnections, and its WriteThroughput for the plan's estimate of the changes since the pre-copy"},
		{Sid: "DeleteFreezeGroup", Action: []string{"ec2:DeleteSecurityGroup"},
			Resource: []string{ec2("security-group/*")}, Condition: owned,
			Why: "rollback and cleanup delete only the group tagged as a migration's"},
		{Sid: "ReadOwnInstanceLogs", Action: []string{"rds:DescribeDBLogFiles", "rds:DownloadDBLogFilePortion"},
			Resource: []string{rds("db", policyTargets)}, Condition: owned,
			Why: "the replication strategy reads where the new instance's recovery ended from its log (its start position); only the new instance's logs"},
		{Sid: "FreezeThroughParameterGroup", Action: []string{"rds:DescribeDBParameters", "rds:ModifyDBParameterGroup", "rds:ResetDBParameterGroup"},
			Resource: []string{rds("pg", "*")},
			Why:      "the replication strategy freezes a MySQL or MariaDB source with read_only in its DB parameter group (the master user has no SUPER) and puts the value back at the unfreeze (the engine default back with a reset when it was one), and sets rds.logical_replication=1 in the copy of a PostgreSQL source's group; the group is the source's own, never tagged, so it cannot be narrowed"},
		{Sid: "CopyParameterGroups", Action: []string{"rds:CopyDBParameterGroup", "rds:CreateDBParameterGroup"},
			Resource: []string{rds("pg", "*")}, Condition: ours,
			Why: "a copy of the source's DB parameter group for the new instance (a new group of its family when the source uses a default group, which AWS cannot copy), only with the migration tag; the copy is authorized against the source group as well, which is the operator's, untagged, any name"},
		{Sid: "TagOwnParameterGroups", Action: []string{"rds:AddTagsToResource"},
			Resource: []string{rds("pg", "*")}, Condition: ours,
			Why: "tag-on-create of the parameter group copy"},
		{Sid: "ReadParameterGroups", Action: []string{"rds:DescribeDBParameterGroups", "rds:ListTagsForResource"},
			Resource: []string{rds("pg", "*")},
			Why:      "read-only: whether the copy exists and carries the migration's tags before it is adopted on resume or deleted"},
		{Sid: "DeleteOwnParameterGroups", Action: []string{"rds:DeleteDBParameterGroup"},
			Resource: []string{rds("pg", "*")}, Condition: owned,
			Why: "rollback deletes the parameter group copy, only one tagged as a migration's"},
		{Sid: "DeleteOwnInstances", Action: []string{"rds:DeleteDBInstance"},
			Resource: []string{rds("db", policyTargets), rds("db", policyPositionReplicas)}, Condition: owned,
			Why: "rollback deletes the new instance after renaming it back to its temporary name; the temporary read replica (MySQL) is deleted after the restore or by rollback"},
		{Sid: "DeleteRetiredSource", Action: []string{"rds:DeleteDBInstance"},
			Resource: []string{rds("db", policyRetired)},
			Why:      "cleanup deletes the retired source, which is untagged: narrowed by its retired name only; IAM cannot require its final snapshot (the tool always takes one)"},
		{Sid: "DeleteOwnSnapshots", Action: []string{"rds:DeleteDBSnapshot"},
			Resource: []string{rds("snapshot", policyOurSnapshots)}, Condition: owned,
			Why: "only the tool's tagged snapshots"},
		{Sid: "AssociateRoles", Action: []string{"rds:AddRoleToDBInstance"},
			Resource: []string{rds("db", policyTargets)}, Condition: owned,
			Why: "the source's IAM roles are associated with the new instance, which a snapshot restore leaves without them"},
		{Sid: "PassRolesToRDS", Action: []string{"iam:PassRole"},
			Resource:  []string{fmt.Sprintf("arn:%s:iam::%s:role/*", partition, account)},
			Condition: map[string]map[string][]string{"StringEquals": {"iam:PassedToService": {"rds.amazonaws.com"}}},
			Why:       "associating a role passes it to RDS; the roles are the source's, whatever their names, so only the service is narrowed"},
		{Sid: "KeepEventSubscriptions", Action: []string{"rds:AddSourceIdentifierToSubscription", "rds:RemoveSourceIdentifierFromSubscription"},
			Resource: []string{rds("es", "*")},
			Why:      "an event subscription that lists the source keeps its name after cutover; subscriptions are the operator's, untagged, any name"},
		{Sid: "DescribeKeys", Action: []string{"kms:DescribeKey"},
			Resource: []string{fmt.Sprintf("arn:%s:kms:%s:%s:key/*", partition, region, account)},
			Why:      "resolves --kms-key (aliases are authorized against the key they name)"},
		{Sid: "GrantKeysToRDS", Action: []string{"kms:CreateGrant"},
			Resource: []string{fmt.Sprintf("arn:%s:kms:%s:%s:key/*", partition, region, account)},
			Condition: map[string]map[string][]string{
				"StringLike": {"kms:ViaService": {viaRDS}},
				"Bool":       {"kms:GrantIsForAWSResource": {"true"}},
			},
			Why: "RDS creates grants on the caller's behalf to encrypt the copy and the new instance; only through RDS, only for AWS resources"},
		{Sid: "ManagedMasterPassword", Action: []string{"secretsmanager:CreateSecret", "secretsmanager:TagResource"},
			Resource: []string{fmt.Sprintf("arn:%s:secretsmanager:%s:%s:secret:rds!*", partition, region, account)},
			Why:      "ManageMasterUserPassword on the new instance or cluster after cutover: RDS creates and tags its secret with the caller's permissions; RDS names it rds!db-... or rds!cluster-..., so only such names are allowed"},
	}
	if o.Cluster {
		st = append(st,
			Statement{Sid: "ClusterSnapshotSource", Action: []string{"rds:CreateDBClusterSnapshot"},
				Resource: []string{rds("cluster", "*"), rds("cluster-snapshot", policyOurSnapshots)},
				Why:      "the source cluster is never tagged; also authorizes the final snapshot of DeleteDBCluster"},
			Statement{Sid: "CreateEncryptedCluster", Action: []string{"rds:RestoreDBClusterFromSnapshot", "rds:CreateDBInstance"},
				Resource: []string{rds("cluster", policyTargets), rds("cluster-snapshot", policyOurSnapshots), rds("db", policyTargets),
					rds("cluster-pg", "*"), rds("og", "*"), rds("pg", "*"), rds("subgrp", "*")},
				Condition: ours,
				Why:       "the new cluster and its member instances, with the migration tag"},
			Statement{Sid: "TagOwnClusters", Action: []string{"rds:AddTagsToResource"},
				Resource: []string{rds("cluster", policyTargets), rds("cluster-endpoint", "*")}, Condition: ours,
				Why: "tag-on-create of the new cluster and its custom endpoints"},
			Statement{Sid: "TagOwnClusterSnapshots", Action: []string{"rds:AddTagsToResource"},
				Resource: []string{rds("cluster-snapshot", policyOurSnapshots)},
				Why:      "as for DB snapshots: the final snapshot first gets the source's tags"},
			Statement{Sid: "ModifyAndRenameClusters", Action: []string{"rds:ModifyDBCluster"},
				Resource: []string{rds("cluster", "*"), rds("cluster-pg", "*"), rds("og", "*")},
				Why:      "cannot be tag-restricted: the cutover renames the untagged source cluster"},
			Statement{Sid: "ClusterEndpoints", Action: []string{"rds:CreateDBClusterEndpoint", "rds:DeleteDBClusterEndpoint"},
				Resource: []string{rds("cluster-endpoint", "*"), rds("cluster", "*")},
				Why:      "custom endpoints keep their names, so they are moved from the source cluster to the new one: neither name nor tag narrows them"},
			Statement{Sid: "DeleteOwnClusters", Action: []string{"rds:DeleteDBCluster"},
				Resource: []string{rds("cluster", policyTargets)}, Condition: owned,
				Why: "rollback deletes the new cluster"},
			Statement{Sid: "DeleteRetiredCluster", Action: []string{"rds:DeleteDBCluster"},
				Resource: []string{rds("cluster", policyRetired)},
				Why:      "cleanup deletes the retired source cluster, untagged, by its retired name only (its members, renamed to *-old-* at cutover, fall under DeleteRetiredSource); IAM cannot require the final snapshot"},
			Statement{Sid: "DeleteOwnClusterSnapshots", Action: []string{"rds:DeleteDBClusterSnapshot"},
				Resource: []string{rds("cluster-snapshot", policyOurSnapshots)}, Condition: owned,
				Why: "only the tool's tagged cluster snapshots"},
		)
	}
	kinds := []string{workflow.KindInstance}
	if o.Cluster {
		kinds = append(kinds, workflow.KindCluster)
	}
	needed := routeActions(kinds...)
	var kept []Statement
	for _, s := range st {
		s.Action = slices.DeleteFunc(s.Action, func(a string) bool { return !slices.Contains(needed, a) })
		if len(s.Action) > 0 {
			s.Effect = "Allow"
			kept = append(kept, s)
		}
	}
	if o.DBIAMUser != "" {
		// Service Authorization Reference, "Amazon RDS IAM Authentication": rds-db:connect on
		// arn:${Partition}:rds-db:${Region}:${Account}:dbuser:${DbiResourceId}/${DbUserName}.
		// The source's and the new instance's resource ids differ and the new one is not known
		// before the restore, hence any resource id, for that one user name.
		kept = append(kept, Statement{Sid: "DatabaseIAMAuthentication", Effect: "Allow", Action: []string{"rds-db:connect"},
			Resource: []string{fmt.Sprintf("arn:%s:rds-db:%s:%s:dbuser:*/%s", partition, region, account, o.DBIAMUser)},
			Why:      "--db-iam-user: the replication strategy's connections to the source and the new instance with IAM authentication tokens, as that database user only"})
	}
	return &Document{Version: "2012-10-17", Statement: kept}
}

// routeActions are the IAM actions the routes of kinds need, sorted, once each.
func routeActions(kinds ...string) []string {
	var out []string
	for _, k := range kinds {
		actions, err := workflow.IAMActions(k)
		if err != nil {
			panic(err) // the kinds are the workflow's own constants
		}
		out = append(out, actions...)
	}
	slices.Sort(out)
	return slices.Compact(out)
}
