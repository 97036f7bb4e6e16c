package workflow

import (
	"context"
	"fmt"
	"strings"

	"github.com/rdsencrypt/rdsencrypt/internal/model"
)

// inspect reads the source and the key and checks everything that would make a migration
// fail later: it is the preflight of plan and migrate, and makes no mutating call.
func (e *Engine) inspect(ctx context.Context, api model.RDS, req MigrateRequest) (*model.Instance, *model.Key, error) {
	region := api.Region()
	src, err := api.DescribeInstance(ctx, req.Source)
	if err != nil {
		if model.IsNotFound(err) {
			return nil, nil, errorf(req.Source, "check the identifier and --region; `rdsencrypt scan --region "+region+"` lists the databases", nil,
				"DB instance %q not found in %s", req.Source, region)
		}
		return nil, nil, errorf(req.Source, "check credentials and --region, then retry", err, "cannot describe DB instance %s", req.Source)
	}
	retry := planCommand(KindInstance, src.ID, req.KmsKey)
	if err := checkInstanceKind(src, req.KmsKey); err != nil { // preflight_rules.go
		return nil, nil, err
	}
	if src.ClusterID != "" {
		return nil, nil, errorf(src.ID, "rdsencrypt migrate --cluster "+src.ClusterID+" --kms-key "+req.KmsKey, nil,
			"DB instance %s is a member of Aurora cluster %s: the cluster is migrated as a whole", src.ID, src.ClusterID)
	}
	if src.ReplicaSource != "" {
		return nil, nil, errorf(src.ID, "migrate the primary: rdsencrypt migrate --db "+model.ARNLastPart(src.ReplicaSource)+" --kms-key "+req.KmsKey, nil,
			"DB instance %s is a read replica of %s", src.ID, src.ReplicaSource)
	}
	if src.Status != model.StatusAvailable {
		return nil, nil, errorf(src.ID, "wait until it is available, then: "+retry, nil,
			"DB instance %s is %q, not available", src.ID, src.Status)
	}
	key, err := describeUsableKey(ctx, api, req.KmsKey, region)
	if err != nil {
		return nil, nil, err
	}
	ok, err := api.SupportsEncryption(ctx, src.Settings.Engine, src.Settings.EngineVersion, src.Settings.DBInstanceClass)
	if err != nil {
		return nil, nil, errorf(src.ID, "retry: "+retry, err, "cannot check encryption support of %s", src.Settings.DBInstanceClass)
	}
	if !ok {
		return nil, nil, errorf(src.ID, "move it to a class that supports encryption (e.g. a current db.m or db.r class) during a maintenance window, then "+retry, nil,
			"DB instance class %s with %s %s does not support storage encryption", src.Settings.DBInstanceClass, src.Settings.Engine, src.Settings.EngineVersion)
	}
	if err := checkEngineVersionOffered(ctx, api, src.ID, src.Settings.Engine, src.Settings.EngineVersion, retry); err != nil {
		return nil, nil, err
	}
	return src, key, nil
}

// planCommand is the plan command of a source, which a refusal names to run again.
func planCommand(kind, source, kmsKey string) string {
	flag := "--db"
	if kind == KindCluster {
		flag = "--cluster"
	}
	return fmt.Sprintf("rdsencrypt plan %s %s --kms-key %s", flag, source, kmsKey)
}

// describeUsableKey resolves a key reference and checks it is enabled and in the region.
func describeUsableKey(ctx context.Context, api model.RDS, ref, region string) (*model.Key, error) {
	if ref == "" {
		return nil, errorf("--kms-key", "pass --kms-key with a key id, ARN or alias (alias/aws/rds is the AWS-managed key)", nil, "no KMS key given")
	}
	if strings.HasPrefix(ref, "arn:") {
		if r := model.ARNRegion(ref); r != "" && r != region {
			return nil, errorf(ref, "use a key of "+region+" (KMS keys are regional)", nil,
				"KMS key %s is in %s, not in %s where the database is", ref, r, region)
		}
	}
	key, err := api.DescribeKey(ctx, ref)
	if err != nil {
		switch model.FailureOf(err) {
		case model.FailureNotFound:
			return nil, errorf(ref, "check the key id or alias and --region; `aws kms list-aliases --region "+region+"` lists them", nil,
				"KMS key %s not found in %s", ref, region)
		case model.FailureKeyNotAccessible, model.FailureAccessDenied:
			return nil, errorf(ref, "check that the key is enabled and that you may use it (kms:DescribeKey, kms:CreateGrant)", err,
				"KMS key %s in %s is not accessible", ref, region)
		}
		return nil, errorf(ref, "check kms:DescribeKey permission, then retry", err, "cannot describe KMS key %s", ref)
	}
	if !key.Enabled {
		return nil, errorf(ref, "enable it (aws kms enable-key) or choose another key", nil,
			"KMS key %s is %s, not enabled", key.ARN, key.State)
	}
	// RDS encrypts only with symmetric encryption keys (rdssim's usableKey cites the AWS
	// documentation); an asymmetric, HMAC or signing key would fail at the encrypted copy, after
	// the freeze and the snapshot. An empty spec or usage (not reported) is not refused.
	if (key.Spec != "" && key.Spec != "SYMMETRIC_DEFAULT") || (key.Usage != "" && key.Usage != "ENCRYPT_DECRYPT") {
		return nil, errorf(ref, "choose a symmetric encryption key (aws kms create-key creates one by default)", nil,
			"KMS key %s is %s for %s: RDS encrypts only with symmetric encryption keys (SYMMETRIC_DEFAULT, ENCRYPT_DECRYPT)",
			key.ARN, key.Spec, key.Usage)
	}
	if key.Region != "" && key.Region != region {
		return nil, errorf(ref, "use a key of "+region, nil, "KMS key %s is in %s, not %s", key.ARN, key.Region, region)
	}
	return key, nil
}

// activeMigrationOf returns the id of an unfinished migration of the source, if any.
func (e *Engine) activeMigrationOf(region, source string) (string, error) {
	states, problems, err := e.Store.List()
	if err != nil {
		return "", err
	}
	for _, c := range CorruptJournals(problems) {
		// A journal that cannot be read whose remains name this source blocks it; one that
		// names nothing readable is found by its tags in AWS (refuseOtherMigrations).
		if c.Source == source && (c.Region == "" || c.Region == region) {
			return c.ID, nil
		}
	}
	for _, st := range states {
		if st.Region != region || st.Source != source {
			continue
		}
		if IsOpen(st.Status) {
			return st.ID, nil
		}
	}
	return "", nil
}
