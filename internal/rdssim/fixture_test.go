package rdssim_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	"github.com/aws/aws-sdk-go-v2/service/rds/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rdsencrypt/rdsencrypt/internal/rdssim"
)

func TestLoadExampleFleet(t *testing.T) {
	t.Parallel()
	h := manual(t)
	before := h.Now()
	require.NoError(t, h.Sim.LoadFixture(bytes.NewReader(rdssim.ExampleFleet)))
	assert.Equal(t, before, h.Now(), "loading does not move the clock")
	assert.Empty(t, h.Calls(), "loading is not API traffic")
	east, west := h.RDS("us-east-1"), h.RDS("us-west-2")

	all := map[string]types.DBInstance{}
	for _, c := range []*rds.Client{east, west} {
		out, err := c.DescribeDBInstances(ctx, &rds.DescribeDBInstancesInput{})
		require.NoError(t, err)
		for _, i := range out.DBInstances {
			all[aws.ToString(i.DBInstanceIdentifier)] = i
			assert.Equal(t, "available", aws.ToString(i.DBInstanceStatus), aws.ToString(i.DBInstanceIdentifier))
			assert.True(t, aws.ToTime(i.InstanceCreateTime).Before(before))
		}
	}
	assert.Len(t, all, 6+4+4)

	// Settings of the main unencrypted instance.
	o := all["orders-mysql"]
	assert.False(t, aws.ToBool(o.StorageEncrypted))
	assert.Equal(t, int32(3307), aws.ToInt32(o.DbInstancePort))
	assert.True(t, aws.ToBool(o.MultiAZ))
	assert.Equal(t, "mysql80-tls", aws.ToString(o.DBParameterGroups[0].DBParameterGroupName))
	assert.Equal(t, "mysql80-audit", aws.ToString(o.OptionGroupMemberships[0].OptionGroupName))
	assert.Equal(t, "vpc-0a1b2c3d4e5f60718", aws.ToString(o.DBSubnetGroup.VpcId))
	assert.Equal(t, "us-east-1b", aws.ToString(o.DBSubnetGroup.Subnets[1].SubnetAvailabilityZone.Name))
	assert.Equal(t, int32(1000), aws.ToInt32(o.MaxAllocatedStorage))
	assert.Equal(t, int32(60), aws.ToInt32(o.MonitoringInterval))
	assert.True(t, aws.ToBool(o.PerformanceInsightsEnabled))
	assert.True(t, aws.ToBool(o.DeletionProtection))
	assert.Equal(t, "sun:05:00-sun:05:30", aws.ToString(o.PreferredMaintenanceWindow))
	assert.Equal(t, "rds-ca-rsa4096-g1", aws.ToString(o.CACertificateIdentifier))
	assert.Len(t, o.TagList, 2)

	// Replica tree: two same-region replicas (one cascading further) and one cross-region.
	assert.ElementsMatch(t, []string{"orders-mysql-ro1", "orders-mysql-ro2",
		"arn:aws:rds:us-west-2:" + h.Sim.AccountID() + ":db:orders-mysql-dr"}, o.ReadReplicaDBInstanceIdentifiers)
	assert.Equal(t, []string{"orders-mysql-ro2-cascade"}, all["orders-mysql-ro2"].ReadReplicaDBInstanceIdentifiers)
	assert.Equal(t, int32(3), aws.ToInt32(all["orders-mysql-ro2"].BackupRetentionPeriod))
	assert.Equal(t, "orders-mysql-ro2", aws.ToString(all["orders-mysql-ro2-cascade"].ReadReplicaSourceDBInstanceIdentifier))
	dr := all["orders-mysql-dr"]
	assert.Equal(t, "arn:aws:rds:us-east-1:"+h.Sim.AccountID()+":db:orders-mysql", aws.ToString(dr.ReadReplicaSourceDBInstanceIdentifier))
	assert.Equal(t, "dr-private", aws.ToString(dr.DBSubnetGroup.DBSubnetGroupName))

	// Encrypted ones: customer key and aws/rds.
	pay := all["payments-mysql"]
	assert.True(t, aws.ToBool(pay.StorageEncrypted))
	keys, err := h.KMS("us-east-1").DescribeKey(ctx, kmsDescribe("alias/payments-data"))
	require.NoError(t, err)
	assert.Equal(t, aws.ToString(keys.KeyMetadata.Arn), aws.ToString(pay.KmsKeyId))
	managed, err := h.KMS("us-east-1").DescribeKey(ctx, kmsDescribe("alias/aws/rds"))
	require.NoError(t, err)
	assert.Equal(t, aws.ToString(managed.KeyMetadata.Arn), aws.ToString(all["audit-pg"].KmsKeyId))
	assert.Equal(t, "db.m1.small", aws.ToString(all["legacy-mysql"].DBInstanceClass))

	// Parameter groups with force_ssl on and off.
	v, _ := paramValue(t, east, "pg16-strict", "rds.force_ssl")
	assert.Equal(t, "1", v)
	v, _ = paramValue(t, east, "pg14-lenient", "rds.force_ssl")
	assert.Equal(t, "0", v)
	v, _ = paramValue(t, east, "mysql80-tls", "require_secure_transport")
	assert.Equal(t, "1", v)

	// Clusters.
	shop := describeCluster(t, east, "shop-aurora")
	assert.Equal(t, "available", aws.ToString(shop.Status))
	require.Len(t, shop.DBClusterMembers, 3)
	for _, m := range shop.DBClusterMembers {
		assert.Equal(t, aws.ToString(m.DBInstanceIdentifier) == "shop-aurora-1", aws.ToBool(m.IsClusterWriter))
	}
	assert.Equal(t, int64(86400), aws.ToInt64(shop.BacktrackWindow))
	assert.Equal(t, "aurora-mysql80-tls", aws.ToString(shop.DBClusterParameterGroup))
	require.Len(t, shop.CustomEndpoints, 1)
	assert.True(t, strings.HasPrefix(shop.CustomEndpoints[0], "shop-analytics.cluster-custom-"))
	eps, err := east.DescribeDBClusterEndpoints(ctx, &rds.DescribeDBClusterEndpointsInput{DBClusterEndpointIdentifier: aws.String("shop-analytics")})
	require.NoError(t, err)
	assert.Equal(t, "available", aws.ToString(eps.DBClusterEndpoints[0].Status))
	assert.Equal(t, []string{"shop-aurora-3"}, eps.DBClusterEndpoints[0].StaticMembers)
	events := describeCluster(t, east, "events-pg")
	require.NotNil(t, events.ServerlessV2ScalingConfiguration)
	assert.Equal(t, 16.0, aws.ToFloat64(events.ServerlessV2ScalingConfiguration.MaxCapacity))
	assert.Equal(t, "aurora-iopt1", aws.ToString(events.StorageType))
	assert.Equal(t, "db.serverless", aws.ToString(all["events-pg-1"].DBInstanceClass))

	// The fleet's history is in the event log, as if it had been built through the API: the
	// middle replica was created, given backups, then snapshotted for its own replica.
	st := statuses(h, "instance", aws.ToString(all["orders-mysql-ro2"].DbiResourceId))
	assert.Equal(t, []string{"creating", "available", "modifying", "available", "modifying", "available"}, st)
}

func TestLoadFixtureErrors(t *testing.T) {
	t.Parallel()
	h := manual(t)
	for name, tc := range map[string]struct{ json, want string }{
		"syntax":         {`{"Regions": `, "fixture:"},
		"unknown member": {`{"Regionz": {}}`, "unknown field"},
		"unknown region": {`{"Regions": {"mars-1": {}}}`, `unknown region "mars-1"`},
		"api rule": {`{"Regions": {"us-east-1": {"Instances": [{"DBInstanceIdentifier": "x", "Engine": "mysql",
			"DBInstanceClass": "db.m1.small", "MasterUsername": "a", "MasterUserPassword": "secret-password",
			"AllocatedStorage": 20, "StorageEncrypted": true}]}}}`, "does not support encryption at rest"},
		"missing group": {`{"Regions": {"us-east-1": {"Clusters": [{"DBClusterIdentifier": "c", "Engine": "aurora-mysql",
			"MasterUsername": "a", "MasterUserPassword": "secret-password", "DBClusterParameterGroupName": "nope"}]}}}`, "DBClusterParameterGroupNotFound"},
	} {
		err := h.Sim.LoadFixture(strings.NewReader(tc.json))
		require.Error(t, err, name)
		assert.Contains(t, err.Error(), tc.want, name)
	}
}

func kmsDescribe(ref string) *kms.DescribeKeyInput {
	return &kms.DescribeKeyInput{KeyId: aws.String(ref)}
}
