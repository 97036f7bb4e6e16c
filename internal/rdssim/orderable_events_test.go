package rdssim_test

import (
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	"github.com/aws/aws-sdk-go-v2/service/rds/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestOrderableOptionsAndEncryptionSupport(t *testing.T) {
	t.Parallel()
	h := manual(t)
	c := h.RDS("us-east-1")
	supports := map[string]bool{}
	versions := map[string]bool{}
	pg := rds.NewDescribeOrderableDBInstanceOptionsPaginator(c, &rds.DescribeOrderableDBInstanceOptionsInput{Engine: aws.String("mysql"), MaxRecords: aws.Int32(20)})
	pages := 0
	for pg.HasMorePages() {
		out, err := pg.NextPage(ctx)
		require.NoError(t, err)
		pages++
		for _, o := range out.OrderableDBInstanceOptions {
			assert.Equal(t, "mysql", aws.ToString(o.Engine))
			supports[aws.ToString(o.DBInstanceClass)] = aws.ToBool(o.SupportsStorageEncryption)
			versions[aws.ToString(o.EngineVersion)] = true
		}
	}
	assert.Greater(t, pages, 1)
	assert.True(t, versions["8.0.40"] && versions["5.7.44"])
	for _, cl := range []string{"db.t1.micro", "db.m1.small", "db.m1.medium", "db.m1.large", "db.m2.xlarge"} {
		v, ok := supports[cl]
		assert.True(t, ok && !v, cl)
	}
	for _, cl := range []string{"db.t3.micro", "db.m5.large", "db.r6g.large"} {
		assert.True(t, supports[cl], cl)
	}
	one, err := c.DescribeOrderableDBInstanceOptions(ctx, &rds.DescribeOrderableDBInstanceOptionsInput{Engine: aws.String("postgres"),
		EngineVersion: aws.String("16.6"), DBInstanceClass: aws.String("db.m1.small")})
	require.NoError(t, err)
	require.Len(t, one.OrderableDBInstanceOptions, 1)
	assert.False(t, aws.ToBool(one.OrderableDBInstanceOptions[0].SupportsStorageEncryption))
	aurora, err := c.DescribeOrderableDBInstanceOptions(ctx, &rds.DescribeOrderableDBInstanceOptionsInput{Engine: aws.String("aurora-postgresql"),
		DBInstanceClass: aws.String("db.serverless")})
	require.NoError(t, err)
	assert.NotEmpty(t, aurora.OrderableDBInstanceOptions)
	_, err = c.DescribeOrderableDBInstanceOptions(ctx, &rds.DescribeOrderableDBInstanceOptionsInput{Engine: aws.String("nosql")})
	assert.Equal(t, "InvalidParameterValue", apiCode(t, err))

	// Encryption at rest on such a class is refused at create, and at restore of an
	// encrypted snapshot.
	in := mysqlInput("old")
	in.DBInstanceClass = aws.String("db.m1.small")
	in.StorageEncrypted = aws.Bool(true)
	_, err = c.CreateDBInstance(ctx, in)
	assert.Equal(t, "InvalidParameterCombination", apiCode(t, err))
	in.StorageEncrypted = nil
	createAvailable(t, h, c, in)
	enc := mysqlInput("enc")
	enc.StorageEncrypted = aws.Bool(true)
	createAvailable(t, h, c, enc)
	_, err = c.CreateDBSnapshot(ctx, &rds.CreateDBSnapshotInput{DBInstanceIdentifier: aws.String("enc"), DBSnapshotIdentifier: aws.String("enc-s")})
	require.NoError(t, err)
	advanceUntilSnapshot(t, h, c, "enc-s", "available")
	_, err = c.RestoreDBInstanceFromDBSnapshot(ctx, &rds.RestoreDBInstanceFromDBSnapshotInput{DBInstanceIdentifier: aws.String("enc-old"),
		DBSnapshotIdentifier: aws.String("enc-s"), DBInstanceClass: aws.String("db.t1.micro")})
	assert.Equal(t, "InvalidParameterCombination", apiCode(t, err))
	_, err = c.RestoreDBInstanceFromDBSnapshot(ctx, &rds.RestoreDBInstanceFromDBSnapshotInput{DBInstanceIdentifier: aws.String("enc-new"),
		DBSnapshotIdentifier: aws.String("enc-s"), DBInstanceClass: aws.String("db.t3.micro")})
	require.NoError(t, err)
}

func TestDescribeEvents(t *testing.T) {
	t.Parallel()
	h := manual(t)
	c := h.RDS("us-east-1")
	createAvailable(t, h, c, mysqlInput("db"))
	createCluster(t, h, c, auroraMySQLInput("cl"))
	_, err := c.CreateDBClusterSnapshot(ctx, &rds.CreateDBClusterSnapshotInput{DBClusterIdentifier: aws.String("cl"), DBClusterSnapshotIdentifier: aws.String("cl-s")})
	require.NoError(t, err)
	advanceUntilClusterSnapshot(t, h, c, "cl-s", "available")
	// Another region's events stay there.
	createCluster(t, h, h.RDS("us-west-2"), auroraMySQLInput("cl"))

	messages := func(in *rds.DescribeEventsInput) []string {
		t.Helper()
		var out []string
		pg := rds.NewDescribeEventsPaginator(c, in)
		for pg.HasMorePages() {
			page, err := pg.NextPage(ctx)
			require.NoError(t, err)
			for _, e := range page.Events {
				out = append(out, aws.ToString(e.Message))
			}
		}
		return out
	}
	start := testStart.Add(-time.Minute)
	assert.Equal(t, []string{"Creating DB instance", "Backing up DB instance", "DB instance created"},
		messages(&rds.DescribeEventsInput{SourceType: types.SourceTypeDbInstance, SourceIdentifier: aws.String("db"), StartTime: &start}))
	assert.Equal(t, []string{"Creating DB cluster", "Backing up DB cluster", "DB cluster created", "Backing up DB cluster", "Finished DB cluster backup"},
		messages(&rds.DescribeEventsInput{SourceType: types.SourceTypeDbCluster, SourceIdentifier: aws.String("cl"), StartTime: &start}))
	assert.Equal(t, []string{"Creating manual cluster snapshot", "Manual cluster snapshot created"},
		messages(&rds.DescribeEventsInput{SourceType: types.SourceTypeDbClusterSnapshot, SourceIdentifier: aws.String("cl-s"), StartTime: &start}))

	out, err := c.DescribeEvents(ctx, &rds.DescribeEventsInput{SourceType: types.SourceTypeDbCluster, StartTime: &start, MaxRecords: aws.Int32(20)})
	require.NoError(t, err)
	require.NotEmpty(t, out.Events)
	e := out.Events[0]
	assert.Equal(t, types.SourceTypeDbCluster, e.SourceType)
	assert.Equal(t, "arn:aws:rds:us-east-1:"+h.Sim.AccountID()+":cluster:cl", aws.ToString(e.SourceArn))
	assert.Equal(t, []string{"creation"}, e.EventCategories)
	assert.Equal(t, testStart.Add(10*time.Minute+2*time.Minute), aws.ToTime(e.Date), "created after the instance")

	// The default window is the last hour; Duration widens it; categories filter.
	assert.Empty(t, messages(&rds.DescribeEventsInput{Duration: aws.Int32(1)}))
	assert.Len(t, messages(&rds.DescribeEventsInput{SourceType: types.SourceTypeDbInstance, Duration: aws.Int32(24 * 60)}), 3)
	assert.Equal(t, []string{"Backing up DB instance"},
		messages(&rds.DescribeEventsInput{SourceType: types.SourceTypeDbInstance, StartTime: &start, EventCategories: []string{"backup"}}))
	end := testStart.Add(time.Minute)
	assert.Equal(t, []string{"Creating DB instance"}, messages(&rds.DescribeEventsInput{StartTime: &start, EndTime: &end}))
	_, err = c.DescribeEvents(ctx, &rds.DescribeEventsInput{SourceIdentifier: aws.String("db")})
	assert.Equal(t, "InvalidParameterCombination", apiCode(t, err), "SourceIdentifier needs SourceType")

	// Paging: 20 per page, each event once.
	for i := range 12 {
		_, err := c.CreateDBClusterSnapshot(ctx, &rds.CreateDBClusterSnapshotInput{DBClusterIdentifier: aws.String("cl"),
			DBClusterSnapshotIdentifier: aws.String("p" + string(rune('a'+i)))})
		require.NoError(t, err)
		h.Advance(5 * time.Minute)
	}
	all := messages(&rds.DescribeEventsInput{StartTime: &start, MaxRecords: aws.Int32(20)})
	assert.Greater(t, len(all), 40)
}
