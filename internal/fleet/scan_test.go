package fleet

import (
	"strings"
	"testing"

	"github.com/rdsencrypt/rdsencrypt/internal/model"
	"github.com/rdsencrypt/rdsencrypt/internal/replication"
	"github.com/rdsencrypt/rdsencrypt/internal/workflow"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func findingOf(r ScanResource, check string) *Finding {
	for i := range r.Findings {
		if r.Findings[i].Check == check {
			return &r.Findings[i]
		}
	}
	return nil
}

func TestAnalyzeInstanceUnencryptedAndOpen(t *testing.T) {
	inst := model.Instance{ID: "billing", Region: "us-east-1", Status: "available",
		Settings: model.InstanceSettings{Engine: "postgres", EngineVersion: "14.15", DBParameterGroupName: "pg14-lenient",
			PubliclyAccessible: true, BackupRetentionPeriod: 0}}
	facts := ScanFacts{Params: map[string]string{ParamKey("us-east-1", "pg14-lenient", "rds.force_ssl"): "0"}, KmsKey: "alias/rds"}
	r := AnalyzeInstance(inst, facts)

	assert.False(t, r.Encrypted)
	assert.Equal(t, FactNo, r.TLSEnforced)
	assert.Equal(t, "rds.force_ssl=0", r.TLSParameter)
	enc := findingOf(r, CheckEncryption)
	require.NotNil(t, enc)
	assert.Equal(t, SeverityHigh, enc.Severity)
	assert.Equal(t, "rdsencrypt migrate --region us-east-1 --db billing --kms-key alias/rds", enc.Fix)
	assert.Equal(t, SeverityCritical, findingOf(r, CheckPublicAccess).Severity)
	assert.Contains(t, findingOf(r, CheckTLS).Fix, "modify-db-parameter-group")
	assert.Contains(t, findingOf(r, CheckTLS).Fix, "ParameterName=rds.force_ssl,ParameterValue=1")
	assert.Equal(t, SeverityMedium, findingOf(r, CheckBackups).Severity)
	assert.Contains(t, findingOf(r, CheckLogExports).Fix, `"postgresql"`)
	assert.NotNil(t, findingOf(r, CheckIAMAuth))
	assert.NotNil(t, findingOf(r, CheckDeletionProtection))
	assert.Equal(t, SeverityCritical, r.Worst())
	for i := 1; i < len(r.Findings); i++ {
		assert.LessOrEqual(t, r.Findings[i-1].Severity.Rank(), r.Findings[i].Severity.Rank(), "most severe first")
	}
}

func TestAnalyzeInstanceWellConfigured(t *testing.T) {
	key := "arn:aws:kms:us-east-1:123456789012:key/k1"
	inst := model.Instance{ID: "orders", Region: "us-east-1", Replicas: []string{"orders-ro", "arn:aws:rds:us-west-2:123456789012:db:orders-dr"},
		Settings: model.InstanceSettings{Engine: "mysql", EngineVersion: "8.0.40", DBParameterGroupName: "mysql80-tls",
			StorageEncrypted: true, KmsKeyID: key, IAMDatabaseAuthenticationEnabled: true, DeletionProtection: true,
			EnabledCloudwatchLogsExports: []string{"error"}, BackupRetentionPeriod: 7}}
	facts := ScanFacts{Params: map[string]string{ParamKey("us-east-1", "mysql80-tls", "require_secure_transport"): "1"},
		KeyManagers: map[string]string{key: "CUSTOMER"},
		Encrypted:   map[string]bool{InstanceKey("us-east-1", "orders-ro"): true}}
	r := AnalyzeInstance(inst, facts)
	assert.Empty(t, r.Findings)
	assert.Equal(t, KeyCustomer, r.KeyManager)
	assert.Equal(t, FactYes, r.TLSEnforced)
	assert.Equal(t, []ScanReplica{{ID: "orders-ro", Region: "us-east-1", Encrypted: FactYes},
		{ID: "orders-dr", Region: "us-west-2", Encrypted: FactUnknown}}, r.Replicas)
}

func TestAnalyzeInstanceDetails(t *testing.T) {
	key := "arn:aws:kms:us-east-1:123456789012:key/aws-rds"
	base := model.InstanceSettings{Engine: "postgres", EngineVersion: "16.6", DBParameterGroupName: "default.postgres16",
		IAMDatabaseAuthenticationEnabled: true, DeletionProtection: true, EnabledCloudwatchLogsExports: []string{"postgresql"}, BackupRetentionPeriod: 3}

	t.Run("postgres 15+ defaults to TLS on", func(t *testing.T) {
		r := AnalyzeInstance(model.Instance{ID: "a", Region: "us-east-1", Settings: base},
			ScanFacts{Params: map[string]string{ParamKey("us-east-1", "default.postgres16", "rds.force_ssl"): ""}})
		assert.Equal(t, FactYes, r.TLSEnforced)
		assert.Equal(t, SeverityLow, findingOf(r, CheckBackups).Severity, "3 days is short")
	})
	t.Run("default group cannot be modified", func(t *testing.T) {
		s := base
		s.EngineVersion = "14.1"
		s.DBParameterGroupName = "default.postgres14"
		r := AnalyzeInstance(model.Instance{ID: "a", Region: "us-east-1", Settings: s},
			ScanFacts{Params: map[string]string{ParamKey("us-east-1", "default.postgres14", "rds.force_ssl"): ""}})
		assert.Equal(t, FactNo, r.TLSEnforced)
		assert.Contains(t, findingOf(r, CheckTLS).Fix, "create a custom parameter group")
	})
	t.Run("unread parameter is unknown, not a finding", func(t *testing.T) {
		r := AnalyzeInstance(model.Instance{ID: "a", Region: "us-east-1", Settings: base}, ScanFacts{})
		assert.Equal(t, FactUnknown, r.TLSEnforced)
		assert.Nil(t, findingOf(r, CheckTLS))
	})
	t.Run("aws managed key", func(t *testing.T) {
		s := base
		s.StorageEncrypted, s.KmsKeyID = true, key
		r := AnalyzeInstance(model.Instance{ID: "a", Region: "us-east-1", Settings: s},
			ScanFacts{KeyManagers: map[string]string{key: "AWS"}})
		assert.Equal(t, KeyAWSManaged, r.KeyManager)
		assert.Equal(t, SeverityInfo, findingOf(r, CheckCustomerKey).Severity)
		assert.Nil(t, findingOf(r, CheckEncryption))
	})
	t.Run("unencrypted replica names its primary", func(t *testing.T) {
		s := base
		s.BackupRetentionPeriod = 0
		r := AnalyzeInstance(model.Instance{ID: "orders-dr", Region: "us-west-2",
			ReplicaSource: "arn:aws:rds:us-east-1:123456789012:db:orders", Settings: s}, ScanFacts{})
		assert.Equal(t, "us-east-1/orders", r.ReplicaOf)
		assert.Equal(t, "rdsencrypt migrate --region us-east-1 --db orders --kms-key KEY   (its read replicas are recreated encrypted)",
			findingOf(r, CheckEncryption).Fix)
		assert.Nil(t, findingOf(r, CheckBackups), "replicas have no backups of their own")
	})
	t.Run("unencrypted replica of an encrypted primary", func(t *testing.T) {
		s := base
		s.StorageEncrypted, s.KmsKeyID = true, key
		r := AnalyzeInstance(model.Instance{ID: "p", Region: "us-east-1", Replicas: []string{"r"}, Settings: s},
			ScanFacts{Encrypted: map[string]bool{InstanceKey("us-east-1", "r"): false}, KeyManagers: map[string]string{key: "CUSTOMER"}})
		assert.Equal(t, SeverityHigh, findingOf(r, CheckReplicaEncryption).Severity)
	})
}

func TestAnalyzeCluster(t *testing.T) {
	c := model.Cluster{ID: "shop", Region: "us-east-1", Status: "available",
		Members: []model.ClusterMember{{InstanceID: "shop-1", IsWriter: true}, {InstanceID: "shop-2"}},
		Settings: model.ClusterSettings{Engine: "aurora-mysql", EngineVersion: "8.0.mysql_aurora.3.08.0",
			DBClusterParameterGroupName: "aurora-tls", BackupRetentionPeriod: 10}}
	members := []model.Instance{{ID: "shop-1"}, {ID: "shop-2", Settings: model.InstanceSettings{PubliclyAccessible: true}}}
	r := AnalyzeCluster(c, members, ScanFacts{Params: map[string]string{ParamKey("us-east-1", "aurora-tls", "require_secure_transport"): "OFF"}})
	assert.Equal(t, workflow.KindCluster, r.Kind)
	assert.Equal(t, []string{"shop-1", "shop-2"}, r.Members)
	assert.Equal(t, []string{"shop-2"}, r.PublicMembers)
	assert.Equal(t, "rdsencrypt migrate --region us-east-1 --cluster shop --kms-key KEY", findingOf(r, CheckEncryption).Fix)
	assert.Contains(t, findingOf(r, CheckPublicAccess).Fix, "--db-instance-identifier shop-2")
	assert.Contains(t, findingOf(r, CheckTLS).Fix, "modify-db-cluster-parameter-group")
	assert.Contains(t, findingOf(r, CheckTLS).Fix, "ParameterValue=ON")
	assert.Contains(t, findingOf(r, CheckLogExports).Fix, "modify-db-cluster")
	assert.Nil(t, findingOf(r, CheckBackups))

	r = AnalyzeCluster(c, nil, ScanFacts{})
	assert.Equal(t, FactUnknown, r.TLSEnforced)
	assert.Equal(t, SeverityInfo, findingOf(r, CheckTLS).Severity, "an unread cluster parameter is said, not guessed")
}

func TestScanSummarize(t *testing.T) {
	rep := &ScanReport{Resources: []ScanResource{
		{Kind: workflow.KindInstance, Region: "us-west-2", ID: "b", Findings: []Finding{{Severity: SeverityHigh}}},
		{Kind: workflow.KindCluster, Region: "us-east-1", ID: "c", Encrypted: true, Findings: []Finding{{Severity: SeverityLow}, {Severity: SeverityLow}}},
		{Kind: workflow.KindInstance, Region: "us-east-1", ID: "a"},
	}}
	rep.Summarize()
	assert.Equal(t, []string{"c", "a", "b"}, []string{rep.Resources[0].ID, rep.Resources[1].ID, rep.Resources[2].ID})
	assert.Equal(t, ScanSummary{Instances: 2, Clusters: 1, Unencrypted: 2, Findings: map[Severity]int{SeverityHigh: 1, SeverityLow: 2}}, rep.Summary)
}

func TestScanFactsArePerRegion(t *testing.T) {
	s := model.InstanceSettings{Engine: "postgres", EngineVersion: "16.6", DBParameterGroupName: "app"}
	facts := ScanFacts{Params: map[string]string{ParamKey("us-east-1", "app", "rds.force_ssl"): "1", ParamKey("eu-west-1", "app", "rds.force_ssl"): "0"}}
	assert.Equal(t, FactYes, AnalyzeInstance(model.Instance{ID: "a", Region: "us-east-1", Settings: s}, facts).TLSEnforced)
	assert.Equal(t, FactNo, AnalyzeInstance(model.Instance{ID: "a", Region: "eu-west-1", Settings: s}, facts).TLSEnforced,
		"a group of the same name in another region is another group")
}

// TestAddLeftovers: a slot left by a migration is a high finding (it fills the storage), the
// other objects low ones, each with the fix it came with.
func TestAddLeftovers(t *testing.T) {
	r := ScanResource{Findings: []Finding{{Check: CheckBackups, Severity: SeverityMedium}}}
	r.AddLeftovers([]workflow.Leftover{{Object: "role rdsencrypt_a", Fix: "DROP ROLE rdsencrypt_a"},
		{Object: "slot rdsencrypt_a", Migration: "a", Fix: "rdsencrypt rollback a"},
		{Object: "slot rdsencrypt_b", Migration: "b", InUse: true}})
	if r.Replication == nil || !r.Replication.Checked || len(r.Replication.Objects) != 3 {
		t.Fatalf("replication %+v", r.Replication)
	}
	got := []string{}
	for _, f := range r.Findings {
		got = append(got, string(f.Severity)+" "+f.Check+" "+f.Fix)
	}
	// A running migration's slot (review S11) is low, with no fix.
	want := []string{"high " + CheckReplicationObjects + " rdsencrypt rollback a", "medium " + CheckBackups + " ",
		"low " + CheckReplicationObjects + " DROP ROLE rdsencrypt_a", "low " + CheckReplicationObjects + " "}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("findings %q, want %q", got, want)
	}
}

// A reverse slot of a completed migration is rated by its state (review S7): read and small is
// low (working until cleanup); not read, or keeping more than SlotWALWarnBytes, is high, and
// the message says which and how much WAL it keeps.
func TestSlotLeftoverIsRatedByItsState(t *testing.T) {
	cleanup := "rdsencrypt cleanup abcd1234"
	for _, c := range []struct {
		slot *replication.SlotState
		sev  Severity
		says string
	}{
		{&replication.SlotState{Active: true, RetainedWAL: 64 << 20}, SeverityLow, "read by the reverse stream of migration abcd1234, keeps 64 MiB of WAL"},
		{&replication.SlotState{Active: false, RetainedWAL: 64 << 20}, SeverityHigh, "NOT read by anyone, keeps 64 MiB of WAL"},
		{&replication.SlotState{Active: true, RetainedWAL: 3 << 30}, SeverityHigh, "read, but keeps 3072 MiB of WAL (over 1024 MiB)"},
		{nil, SeverityHigh, "until the storage is full"},
	} {
		r := ScanResource{}
		r.AddLeftovers([]workflow.Leftover{{Object: "slot rdsencrypt_abcd1234_rev", Migration: "abcd1234", Fix: cleanup, Slot: c.slot}})
		if len(r.Findings) != 1 || r.Findings[0].Severity != c.sev || !strings.Contains(r.Findings[0].Message, c.says) || r.Findings[0].Fix != cleanup {
			t.Errorf("slot %+v: %+v, want %s saying %q", c.slot, r.Findings, c.sev, c.says)
		}
	}
}
