package integration

import (
	"bytes"
	"testing"

	"github.com/rdsencrypt/rdsencrypt/internal/fleet"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rdsencrypt/rdsencrypt/internal/rdssim"
	"github.com/rdsencrypt/rdsencrypt/internal/workflow"
)

func scanFinding(r *fleet.ScanResource, check string) *fleet.Finding {
	for i := range r.Findings {
		if r.Findings[i].Check == check {
			return &r.Findings[i]
		}
	}
	return nil
}

// TestScanExampleFleet scans the simulator's example fleet (two regions, instances with
// replicas, Aurora clusters, TLS-enforcing and lenient parameter groups, customer and AWS
// managed keys) with read-only calls.
func TestScanExampleFleet(t *testing.T) {
	e := newEnv(t)
	if e.h.Sim == nil {
		t.Skip("fixtures load into the in-process simulator only")
	}
	require.NoError(t, e.h.Sim.LoadFixture(bytes.NewReader(rdssim.ExampleFleet)))
	before := e.h.Calls()

	rep, err := fleet.Scan(e.ctx(), e.engine("", nil), []string{"us-east-1", "us-west-2"}, "alias/rdsencrypt")
	require.NoError(t, err)
	assertNoMutatingCalls(t, before, e.h.Calls())

	got := map[string]*fleet.ScanResource{}
	for i := range rep.Resources {
		r := &rep.Resources[i]
		got[r.Region+"/"+r.ID] = r
	}
	for _, member := range []string{"us-east-1/shop-aurora-1", "us-east-1/events-pg-1"} {
		assert.NotContains(t, got, member, "cluster members are reported with their cluster")
	}

	orders := got["us-east-1/orders-mysql"]
	require.NotNil(t, orders)
	assert.False(t, orders.Encrypted)
	assert.Equal(t, fleet.FactYes, orders.TLSEnforced, "mysql80-tls sets require_secure_transport=1")
	assert.Equal(t, "rdsencrypt migrate --region us-east-1 --db orders-mysql --kms-key alias/rdsencrypt", scanFinding(orders, fleet.CheckEncryption).Fix)
	assert.Equal(t, fleet.SeverityHigh, scanFinding(orders, fleet.CheckEncryption).Severity)
	assert.Nil(t, scanFinding(orders, fleet.CheckDeletionProtection))
	assert.Nil(t, scanFinding(orders, fleet.CheckIAMAuth))
	assert.ElementsMatch(t, []fleet.ScanReplica{
		{ID: "orders-mysql-ro1", Region: "us-east-1", Encrypted: fleet.FactNo},
		{ID: "orders-mysql-ro2", Region: "us-east-1", Encrypted: fleet.FactNo},
		{ID: "orders-mysql-dr", Region: "us-west-2", Encrypted: fleet.FactNo},
	}, orders.Replicas)

	dr := got["us-west-2/orders-mysql-dr"]
	require.NotNil(t, dr, "the cross-region replica is scanned in its region")
	assert.Equal(t, "us-east-1/orders-mysql", dr.ReplicaOf)
	assert.Contains(t, scanFinding(dr, fleet.CheckEncryption).Fix, "--db orders-mysql ")

	billing := got["us-east-1/billing-pg"]
	require.NotNil(t, billing)
	assert.Equal(t, fleet.FactNo, billing.TLSEnforced, "pg14-lenient sets rds.force_ssl=0")
	assert.Contains(t, scanFinding(billing, fleet.CheckTLS).Fix, "--db-parameter-group-name pg14-lenient")

	reports := got["us-east-1/reports-pg"]
	require.NotNil(t, reports)
	assert.Equal(t, fleet.SeverityCritical, scanFinding(reports, fleet.CheckPublicAccess).Severity)
	assert.Equal(t, fleet.FactYes, reports.TLSEnforced)
	assert.Equal(t, fleet.SeverityLow, scanFinding(reports, fleet.CheckBackups).Severity, "1 day of backups")

	legacy := got["us-east-1/legacy-mysql"]
	require.NotNil(t, legacy)
	assert.Equal(t, fleet.SeverityMedium, scanFinding(legacy, fleet.CheckBackups).Severity, "backups off")
	assert.NotNil(t, scanFinding(legacy, fleet.CheckLogExports))

	payments := got["us-east-1/payments-mysql"]
	require.NotNil(t, payments)
	assert.True(t, payments.Encrypted)
	assert.Equal(t, fleet.KeyCustomer, payments.KeyManager)
	assert.Nil(t, scanFinding(payments, fleet.CheckEncryption))

	audit := got["us-east-1/audit-pg"]
	require.NotNil(t, audit)
	assert.True(t, audit.Encrypted)
	assert.Equal(t, fleet.KeyAWSManaged, audit.KeyManager, "encrypted without a key: aws/rds")
	assert.Equal(t, fleet.SeverityInfo, scanFinding(audit, fleet.CheckCustomerKey).Severity)

	shop := got["us-east-1/shop-aurora"]
	require.NotNil(t, shop)
	assert.Equal(t, workflow.KindCluster, shop.Kind)
	assert.ElementsMatch(t, []string{"shop-aurora-1", "shop-aurora-2", "shop-aurora-3"}, shop.Members)
	assert.Equal(t, "rdsencrypt migrate --region us-east-1 --cluster shop-aurora --kms-key alias/rdsencrypt", scanFinding(shop, fleet.CheckEncryption).Fix)
	assert.True(t, shop.IAMAuth)
	assert.ElementsMatch(t, []string{"audit", "error", "slowquery"}, shop.LogExports)
	assert.NotEqual(t, fleet.FactUnknown, shop.TLSEnforced, "cluster parameter groups are read too")
	assert.Contains(t, shop.TLSParameter, "require_secure_transport")

	events := got["us-east-1/events-pg"]
	require.NotNil(t, events)
	assert.NotNil(t, scanFinding(events, fleet.CheckDeletionProtection))
	assert.NotNil(t, scanFinding(events, fleet.CheckIAMAuth))

	assert.Equal(t, 2, rep.Summary.Clusters)
	assert.Equal(t, len(rep.Resources)-2, rep.Summary.Instances)
	assert.Positive(t, rep.Summary.Findings[fleet.SeverityCritical])
	assert.Empty(t, rep.Errors)
}
