package workflow

import (
	"context"
	"fmt"
	"time"

	"github.com/rdsencrypt/rdsencrypt/internal/model"
)

// The managed master password (docs/aws-behaviour.md#managed-master-password): a source
// whose master password RDS keeps in Secrets Manager (MasterUserSecret) loses it on the way,
// since a restore comes back without a secret and with the snapshot's password. After the
// cutover and once writes may resume, the manage-master-password step turns
// ManageMasterUserPassword on for the new instance, or the new cluster, which holds it for
// Aurora. RDS then generates a new password in a new secret: applications must read the new
// secret from then on. The source's secret stays with the retired source, keeps rotating,
// and is deleted with it at cleanup.

// StepManagePassword is the step of both routes that turns ManageMasterUserPassword on.
const StepManagePassword = "manage-master-password"

// MasterSecret is the managed master user secret of a migration whose source has one.
type MasterSecret struct {
	// SourceARN is the source's secret: it stays with the retired source (and with the
	// source again after a rollback) and is deleted with it at cleanup.
	SourceARN string `json:"source_secret_arn"`
	// KmsKeyID is the key that encrypts the source's secret; the new one uses it too.
	KmsKeyID string `json:"secret_kms_key_id,omitempty"`
	// NewARN is the new resource's secret, once created: applications read it from then on.
	NewARN string `json:"new_secret_arn,omitempty"`
}

// masterSecretOf is the plan's record of the source's managed secret (nil: none).
func masterSecretOf(arn, kmsKeyID string) *MasterSecret {
	if arn == "" {
		return nil
	}
	return &MasterSecret{SourceARN: arn, KmsKeyID: kmsKeyID}
}

// managesPassword says whether a planned step applies: the manage-master-password step is
// planned only for a source with a managed secret.
func managesPassword(stepKind string, s *MasterSecret) bool {
	return stepKind != StepManagePassword || s != nil
}

// masterSecretWarning is the plan's warning, up front.
func masterSecretWarning(what, source string, s *MasterSecret) string {
	return fmt.Sprintf("the master password of %s %s is managed in Secrets Manager (%s). A restore comes back without it, so after cutover, "+
		"once writes may resume, step %s turns ManageMasterUserPassword on for the new %s: RDS then sets a NEW master password in a NEW secret. "+
		"Applications must read the new secret (its ARN is in the report); the old secret stays with the retired source and is deleted with it at cleanup",
		what, source, s.SourceARN, StepManagePassword, what)
}

// masterSecretDetails are the lines the cutover and manage-master-password approvals add.
func masterSecretDetails(r *run) []string {
	s := r.st.MasterSecret
	if s == nil {
		return nil
	}
	return []string{
		fmt.Sprintf("The master password is managed in Secrets Manager: after cutover step %s gives %s a NEW password in a NEW secret; "+
			"applications must then read the new secret, not %s (it stays with the retired source until cleanup deletes it).", StepManagePassword, r.st.Source, s.SourceARN),
	}
}

// masterSecretCleanupNote warns, in the cleanup approval, that the old secret goes with the
// retired source.
func masterSecretCleanupNote(r *run) []string {
	s := r.st.MasterSecret
	if s == nil {
		return nil
	}
	line := fmt.Sprintf("RDS deletes the retired source's master password secret %s with it: anything still reading that secret loses access.", s.SourceARN)
	if s.NewARN != "" {
		line += " " + r.st.Source + "'s password is in " + s.NewARN + "."
	}
	return []string{line}
}

// managePasswordStep is the step of both routes; describe names the resource kind.
func managePasswordStep(what string, action string, permissions []string) step {
	return step{
		name: StepManagePassword, actions: []string{action}, mutating: true,
		describe: func(p *Plan, n Names) string {
			return fmt.Sprintf("turn on ManageMasterUserPassword for the new %s %s: RDS sets a new master password in a new Secrets Manager secret (applications must read it)", what, p.Source)
		},
		// ModifyDB* with ManageMasterUserPassword: RDS creates and tags the secret on the
		// caller's behalf (RDS user guide, "Permissions required for Secrets Manager
		// integration"), with kms:DescribeKey for the secret's key.
		permissions: permissions,
		estimate:    estimate{base: 2 * time.Minute},
		undo:        "rollback deletes the new " + what + ", and RDS its secret with it; the source kept its own secret throughout",
		approval: func(r *run, a *Approval) {
			a.Details = append(a.Details, masterSecretDetails(r)...)
		},
	}
}

var managePasswordPermissions = []string{"secretsmanager:CreateSecret", "secretsmanager:TagResource", "kms:DescribeKey"}

// managedInstanceStep turns ManageMasterUserPassword on for the new instance.
var managedInstanceStep = func() step {
	s := managePasswordStep("instance", "ModifyDBInstance", append([]string{"rds:DescribeDBInstances"}, managePasswordPermissions...))
	s.observe, s.apply, s.wait = observeInstanceSecret, applyInstanceSecret, waitInstanceSecret
	return s
}()

// managedClusterStep turns ManageMasterUserPassword on for the new cluster.
var managedClusterStep = func() step {
	s := managePasswordStep("cluster", "ModifyDBCluster", append([]string{"rds:DescribeDBClusters"}, managePasswordPermissions...))
	s.observe, s.apply, s.wait = observeClusterSecret, applyClusterSecret, waitClusterSecret
	return s
}()

// noteNewSecret journals the new resource's secret, once Describe shows it.
func (r *run) noteNewSecret(arn string) error {
	if arn == "" || r.st.MasterSecret == nil || r.st.MasterSecret.NewARN == arn {
		return nil
	}
	r.st.MasterSecret.NewARN = arn
	r.log("the master password of %s is now in Secrets Manager secret %s: applications must read this secret", r.st.Source, arn)
	return r.save()
}

// masterSecret returns the journal's record of the source's secret, filling it from the
// source (described by its resource id) when the journal lacks it (an older journal).
func (r *run) masterSecret(ctx context.Context) (*MasterSecret, error) {
	if r.st.MasterSecret != nil {
		return r.st.MasterSecret, nil
	}
	var arn, key string
	if r.st.Kind == KindCluster {
		cl, err := r.api.DescribeClusterByResourceID(ctx, r.st.SourceRID)
		if err != nil {
			return nil, err
		}
		arn, key = cl.MasterUserSecretARN, cl.MasterUserSecretKmsKeyID
	} else {
		src, err := r.source(ctx)
		if err != nil {
			return nil, err
		}
		arn, key = src.MasterUserSecretARN, src.MasterUserSecretKmsKeyID
	}
	if arn == "" {
		return nil, errorf(r.st.Source, "rdsencrypt status "+r.st.ID, nil, "the source of migration %s has no managed master password secret to replace", r.st.ID)
	}
	r.st.MasterSecret = masterSecretOf(arn, key)
	return r.st.MasterSecret, r.save()
}

// newSecretOf is the new resource's secret ARN, unless it is the source's (which a resource
// that is not the new one would show).
func (r *run) newSecretOf(arn string) string {
	if r.st.MasterSecret == nil || arn == r.st.MasterSecret.SourceARN {
		return ""
	}
	return arn
}

func observeInstanceSecret(ctx context.Context, r *run) (bool, error) {
	if _, err := r.masterSecret(ctx); err != nil {
		return false, err
	}
	inst, err := r.target(ctx)
	if err != nil {
		return false, err
	}
	return r.newSecretOf(inst.MasterUserSecretARN) != "", nil
}

func applyInstanceSecret(ctx context.Context, r *run) error {
	inst, err := r.target(ctx)
	if err != nil {
		return err
	}
	if inst.MasterUserSecretARN != "" {
		return nil
	}
	if _, err := r.waitInstance(ctx, inst.ResourceID, func(i *model.Instance) bool { return i.Status == model.StatusAvailable }); err != nil {
		return err
	}
	ms, err := r.masterSecret(ctx)
	if err != nil {
		return err
	}
	_, err = r.api.ManageInstanceMasterPassword(ctx, inst.ID, ms.KmsKeyID)
	if err != nil && !model.IsNothingToModify(err) { // a retried call whose first attempt went through
		return errorf(inst.ID, "rdsencrypt resume "+r.st.ID, err, "turning on ManageMasterUserPassword for %s failed", inst.ID)
	}
	return nil
}

func waitInstanceSecret(ctx context.Context, r *run) error {
	inst, err := r.target(ctx)
	if err != nil {
		return err
	}
	inst, err = r.waitInstance(ctx, inst.ResourceID, func(i *model.Instance) bool {
		return i.Status == model.StatusAvailable && r.newSecretOf(i.MasterUserSecretARN) != ""
	})
	if err != nil {
		return err
	}
	return r.noteNewSecret(inst.MasterUserSecretARN)
}

func observeClusterSecret(ctx context.Context, r *run) (bool, error) {
	if _, err := r.masterSecret(ctx); err != nil {
		return false, err
	}
	cl, err := r.targetCluster(ctx)
	if err != nil {
		return false, err
	}
	return r.newSecretOf(cl.MasterUserSecretARN) != "", nil
}

func applyClusterSecret(ctx context.Context, r *run) error {
	cl, err := r.targetCluster(ctx)
	if err != nil {
		return err
	}
	if cl.MasterUserSecretARN != "" {
		return nil
	}
	if _, err := r.waitCluster(ctx, cl.ResourceID, model.IsClusterAvailable); err != nil {
		return err
	}
	ms, err := r.masterSecret(ctx)
	if err != nil {
		return err
	}
	_, err = r.api.ManageClusterMasterPassword(ctx, cl.ID, ms.KmsKeyID)
	if err != nil && !model.IsNothingToModify(err) {
		return errorf(cl.ID, "rdsencrypt resume "+r.st.ID, err, "turning on ManageMasterUserPassword for cluster %s failed", cl.ID)
	}
	return nil
}

func waitClusterSecret(ctx context.Context, r *run) error {
	cl, err := r.targetCluster(ctx)
	if err != nil {
		return err
	}
	cl, err = r.waitCluster(ctx, cl.ResourceID, func(c *model.Cluster) bool {
		return model.IsClusterAvailable(c) && r.newSecretOf(c.MasterUserSecretARN) != ""
	})
	if err != nil {
		return err
	}
	return r.noteNewSecret(cl.MasterUserSecretARN)
}
