package rdssim_test

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	"github.com/aws/aws-sdk-go-v2/service/rds/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rdsencrypt/rdsencrypt/internal/rdssim/simtest"
)

func TestCustomEndpoints(t *testing.T) {
	t.Parallel()
	h := manual(t)
	c := h.RDS("us-east-1")
	createCluster(t, h, c, auroraMySQLInput("shop"))
	createCluster(t, h, c, auroraMySQLInput("other"))
	for i := 1; i <= 3; i++ {
		addMember(t, h, c, "shop", fmt.Sprintf("shop-%d", i), "db.r6g.large", 1)
	}

	out, err := c.CreateDBClusterEndpoint(ctx, &rds.CreateDBClusterEndpointInput{DBClusterEndpointIdentifier: aws.String("Analytics"),
		DBClusterIdentifier: aws.String("shop"), EndpointType: aws.String("reader"), StaticMembers: []string{"shop-2", "shop-3"}})
	require.NoError(t, err)
	assert.Equal(t, "analytics", aws.ToString(out.DBClusterEndpointIdentifier))
	assert.Equal(t, "creating", aws.ToString(out.Status))
	assert.Equal(t, "CUSTOM", aws.ToString(out.EndpointType))
	assert.Equal(t, "READER", aws.ToString(out.CustomEndpointType))
	assert.Regexp(t, `^analytics\.cluster-custom-[a-z]{12}\.us-east-1\.rds\.amazonaws\.com$`, aws.ToString(out.Endpoint))
	assert.Equal(t, []string{"shop-2", "shop-3"}, out.StaticMembers)
	assert.Contains(t, aws.ToString(out.DBClusterEndpointArn), ":cluster-endpoint:analytics")
	assert.NotEmpty(t, aws.ToString(out.DBClusterEndpointResourceIdentifier))

	_, err = c.DeleteDBClusterEndpoint(ctx, &rds.DeleteDBClusterEndpointInput{DBClusterEndpointIdentifier: aws.String("analytics")})
	assert.Equal(t, "InvalidDBClusterEndpointStateFault", apiCode(t, err), "still creating")
	h.Advance(2 * time.Minute)

	_, err = c.CreateDBClusterEndpoint(ctx, &rds.CreateDBClusterEndpointInput{DBClusterEndpointIdentifier: aws.String("all-but-one"),
		DBClusterIdentifier: aws.String("shop"), EndpointType: aws.String("ANY"), ExcludedMembers: []string{"shop-1"}})
	require.NoError(t, err)

	// Identifiers are unique per region, across clusters.
	_, err = c.CreateDBClusterEndpoint(ctx, &rds.CreateDBClusterEndpointInput{DBClusterEndpointIdentifier: aws.String("analytics"),
		DBClusterIdentifier: aws.String("other"), EndpointType: aws.String("ANY")})
	var dup *types.DBClusterEndpointAlreadyExistsFault
	require.True(t, errors.As(err, &dup), "got %v", err)
	for name, in := range map[string]*rds.CreateDBClusterEndpointInput{
		"both lists":     {StaticMembers: []string{"shop-1"}, ExcludedMembers: []string{"shop-2"}, EndpointType: aws.String("ANY")},
		"foreign member": {StaticMembers: []string{"nope"}, EndpointType: aws.String("ANY")},
		"writer type":    {EndpointType: aws.String("WRITER")},
	} {
		in.DBClusterEndpointIdentifier, in.DBClusterIdentifier = aws.String("bad"), aws.String("shop")
		_, err = c.CreateDBClusterEndpoint(ctx, in)
		code := apiCode(t, err)
		assert.Contains(t, []string{"InvalidParameterValue", "InvalidParameterCombination"}, code, name)
	}
	_, err = c.CreateDBClusterEndpoint(ctx, &rds.CreateDBClusterEndpointInput{DBClusterEndpointIdentifier: aws.String("x"),
		DBClusterIdentifier: aws.String("nope"), EndpointType: aws.String("ANY")})
	var cnf *types.DBClusterNotFoundFault
	require.True(t, errors.As(err, &cnf), "got %v", err)
	for i := 3; i <= 5; i++ {
		_, err = c.CreateDBClusterEndpoint(ctx, &rds.CreateDBClusterEndpointInput{DBClusterEndpointIdentifier: aws.String(fmt.Sprintf("e%d", i)),
			DBClusterIdentifier: aws.String("shop"), EndpointType: aws.String("ANY")})
		require.NoError(t, err)
	}
	_, err = c.CreateDBClusterEndpoint(ctx, &rds.CreateDBClusterEndpointInput{DBClusterEndpointIdentifier: aws.String("e6"),
		DBClusterIdentifier: aws.String("shop"), EndpointType: aws.String("ANY")})
	var quota *types.DBClusterEndpointQuotaExceededFault
	require.True(t, errors.As(err, &quota), "got %v", err)
	assert.Equal(t, 403, httpStatus(t, err))
	h.Advance(2 * time.Minute)

	// Describe: WRITER and READER of every cluster plus the custom ones, with the docs/aws-behaviour.md#filters-and-pages filters.
	all, err := c.DescribeDBClusterEndpoints(ctx, &rds.DescribeDBClusterEndpointsInput{})
	require.NoError(t, err)
	assert.Len(t, all.DBClusterEndpoints, 2+2+5)
	custom, err := c.DescribeDBClusterEndpoints(ctx, &rds.DescribeDBClusterEndpointsInput{Filters: []types.Filter{
		{Name: aws.String("db-cluster-endpoint-type"), Values: []string{"custom"}},
		{Name: aws.String("db-cluster-endpoint-custom-type"), Values: []string{"reader"}}}})
	require.NoError(t, err)
	require.Len(t, custom.DBClusterEndpoints, 1)
	assert.Equal(t, "analytics", aws.ToString(custom.DBClusterEndpoints[0].DBClusterEndpointIdentifier))
	writers, err := c.DescribeDBClusterEndpoints(ctx, &rds.DescribeDBClusterEndpointsInput{Filters: []types.Filter{
		{Name: aws.String("db-cluster-endpoint-type"), Values: []string{"writer"}}}})
	require.NoError(t, err)
	require.Len(t, writers.DBClusterEndpoints, 2)
	assert.Equal(t, "other", aws.ToString(writers.DBClusterEndpoints[0].DBClusterIdentifier))
	byID, err := c.DescribeDBClusterEndpoints(ctx, &rds.DescribeDBClusterEndpointsInput{DBClusterEndpointIdentifier: aws.String("all-but-one")})
	require.NoError(t, err)
	require.Len(t, byID.DBClusterEndpoints, 1)
	assert.Equal(t, []string{"shop-1"}, byID.DBClusterEndpoints[0].ExcludedMembers)
	assert.Equal(t, "available", aws.ToString(byID.DBClusterEndpoints[0].Status))
	_, err = c.DescribeDBClusterEndpoints(ctx, &rds.DescribeDBClusterEndpointsInput{DBClusterIdentifier: aws.String("nope")})
	require.True(t, errors.As(err, &cnf), "got %v", err)

	// Paging through the endpoints with the paginator sees each one once.
	seen := map[string]bool{}
	pg := rds.NewDescribeDBClusterEndpointsPaginator(c, &rds.DescribeDBClusterEndpointsInput{MaxRecords: aws.Int32(20)})
	for pg.HasMorePages() {
		page, err := pg.NextPage(ctx)
		require.NoError(t, err)
		for _, ep := range page.DBClusterEndpoints {
			k := aws.ToString(ep.DBClusterEndpointIdentifier) + "/" + aws.ToString(ep.EndpointType)
			assert.False(t, seen[k], k)
			seen[k] = true
		}
	}
	assert.Len(t, seen, 9)

	// Modify, then delete; a member that leaves the cluster leaves the static list.
	mod, err := c.ModifyDBClusterEndpoint(ctx, &rds.ModifyDBClusterEndpointInput{DBClusterEndpointIdentifier: aws.String("analytics"),
		StaticMembers: []string{"shop-3"}})
	require.NoError(t, err)
	assert.Equal(t, "modifying", aws.ToString(mod.Status))
	assert.Equal(t, []string{"shop-3"}, mod.StaticMembers)
	h.Advance(2 * time.Minute)
	_, err = c.DeleteDBInstance(ctx, &rds.DeleteDBInstanceInput{DBInstanceIdentifier: aws.String("shop-3"), SkipFinalSnapshot: aws.Bool(true)})
	require.NoError(t, err)
	h.Advance(time.Hour)
	byID, err = c.DescribeDBClusterEndpoints(ctx, &rds.DescribeDBClusterEndpointsInput{DBClusterEndpointIdentifier: aws.String("analytics")})
	require.NoError(t, err)
	assert.Empty(t, byID.DBClusterEndpoints[0].StaticMembers)

	del, err := c.DeleteDBClusterEndpoint(ctx, &rds.DeleteDBClusterEndpointInput{DBClusterEndpointIdentifier: aws.String("analytics")})
	require.NoError(t, err)
	assert.Equal(t, "deleting", aws.ToString(del.Status))
	h.Advance(time.Minute)
	_, err = c.DeleteDBClusterEndpoint(ctx, &rds.DeleteDBClusterEndpointInput{DBClusterEndpointIdentifier: aws.String("analytics")})
	var nf *types.DBClusterEndpointNotFoundFault
	require.True(t, errors.As(err, &nf), "got %v", err)
	assert.Equal(t, 400, httpStatus(t, err), "DBClusterEndpointNotFoundFault is a 400 (docs/aws-behaviour.md#errors)")
	// The identifier is free again, also for another cluster.
	_, err = c.CreateDBClusterEndpoint(ctx, &rds.CreateDBClusterEndpointInput{DBClusterEndpointIdentifier: aws.String("analytics"),
		DBClusterIdentifier: aws.String("other"), EndpointType: aws.String("ANY")})
	require.NoError(t, err)
	assert.Equal(t, []string{"creating", "available", "modifying", "available", "deleting", "deleted"},
		statusesByID(h, "cluster-endpoint", "analytics")[:6])
}

// statusesByID returns the status sequence of the events of a type recorded under an id.
func statusesByID(h *simtest.Harness, typ, id string) []string {
	var out []string
	for _, e := range h.Events() {
		if e.Type == typ && e.ID == id {
			out = append(out, e.Status)
		}
	}
	return out
}
