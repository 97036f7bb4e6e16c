package rdssim_test

import (
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/rds"
	"github.com/aws/aws-sdk-go-v2/service/rds/types"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func paramValue(t *testing.T, c *rds.Client, group, name string) (string, string) {
	t.Helper()
	pg := rds.NewDescribeDBParametersPaginator(c, &rds.DescribeDBParametersInput{DBParameterGroupName: aws.String(group)})
	for pg.HasMorePages() {
		out, err := pg.NextPage(ctx)
		require.NoError(t, err)
		for _, p := range out.Parameters {
			if aws.ToString(p.ParameterName) == name {
				return aws.ToString(p.ParameterValue), aws.ToString(p.Source)
			}
		}
	}
	t.Fatalf("parameter %s not in %s", name, group)
	return "", ""
}

func TestDefaultGroupsExistInEveryRegion(t *testing.T) {
	t.Parallel()
	h := manual(t)
	for _, region := range h.Sim.Regions() {
		c := h.RDS(region)
		for _, name := range []string{"default.mysql8.0", "default.mysql5.7", "default.postgres16", "default.postgres13", "default.aurora-mysql8.0", "default.aurora-postgresql16"} {
			out, err := c.DescribeDBParameterGroups(ctx, &rds.DescribeDBParameterGroupsInput{DBParameterGroupName: aws.String(name)})
			require.NoError(t, err, name)
			assert.Equal(t, name[len("default."):], aws.ToString(out.DBParameterGroups[0].DBParameterGroupFamily))
		}
		cpg, err := c.DescribeDBClusterParameterGroups(ctx, &rds.DescribeDBClusterParameterGroupsInput{DBClusterParameterGroupName: aws.String("default.aurora-mysql8.0")})
		require.NoError(t, err)
		assert.Equal(t, "aurora-mysql8.0", aws.ToString(cpg.DBClusterParameterGroups[0].DBParameterGroupFamily))
		og, err := c.DescribeOptionGroups(ctx, &rds.DescribeOptionGroupsInput{OptionGroupName: aws.String("default:mysql-8-0")})
		require.NoError(t, err)
		assert.Equal(t, "mysql", aws.ToString(og.OptionGroupsList[0].EngineName))
		assert.Equal(t, "8.0", aws.ToString(og.OptionGroupsList[0].MajorEngineVersion))
		sg, err := c.DescribeDBSubnetGroups(ctx, &rds.DescribeDBSubnetGroupsInput{DBSubnetGroupName: aws.String("default")})
		require.NoError(t, err)
		assert.Len(t, sg.DBSubnetGroups[0].Subnets, 3)
		assert.Regexp(t, "^"+region+"[abc]$", aws.ToString(sg.DBSubnetGroups[0].Subnets[0].SubnetAvailabilityZone.Name))
	}
	// Every default parameter group is listed, through pages.
	c := h.RDS("us-east-1")
	n := 0
	pg := rds.NewDescribeDBParameterGroupsPaginator(c, &rds.DescribeDBParameterGroupsInput{MaxRecords: aws.Int32(20)})
	for pg.HasMorePages() {
		out, err := pg.NextPage(ctx)
		require.NoError(t, err)
		n += len(out.DBParameterGroups)
	}
	assert.Greater(t, n, 20)
	// TLS enforcement defaults: off for MySQL and PostgreSQL 13/14, on from PostgreSQL 15.
	v, src := paramValue(t, c, "default.mysql8.0", "require_secure_transport")
	assert.Equal(t, "0", v)
	assert.Equal(t, "engine-default", src)
	v, _ = paramValue(t, c, "default.postgres14", "rds.force_ssl")
	assert.Equal(t, "0", v)
	v, _ = paramValue(t, c, "default.postgres16", "rds.force_ssl")
	assert.Equal(t, "1", v)
}

func TestParameterGroupsAndTLSParameters(t *testing.T) {
	t.Parallel()
	h := manual(t)
	c := h.RDS("us-east-1")
	_, err := c.CreateDBParameterGroup(ctx, &rds.CreateDBParameterGroupInput{DBParameterGroupName: aws.String("PG-Strict"),
		DBParameterGroupFamily: aws.String("postgres14"), Description: aws.String("force ssl"),
		Tags: []types.Tag{{Key: aws.String("k"), Value: aws.String("v")}}})
	require.NoError(t, err)
	_, err = c.CreateDBParameterGroup(ctx, &rds.CreateDBParameterGroupInput{DBParameterGroupName: aws.String("pg-strict"),
		DBParameterGroupFamily: aws.String("postgres14"), Description: aws.String("dup")})
	var dup *types.DBParameterGroupAlreadyExistsFault
	require.True(t, errors.As(err, &dup), "got %v", err)
	_, err = c.CreateDBParameterGroup(ctx, &rds.CreateDBParameterGroupInput{DBParameterGroupName: aws.String("x"),
		DBParameterGroupFamily: aws.String("postgres99"), Description: aws.String("bad family")})
	assert.Equal(t, "InvalidParameterValue", apiCode(t, err))
	// A custom group's name is letters, digits and single hyphens (SDK doc of
	// CreateDBParameterGroupInput.DBParameterGroupName): the period of AWS's own default groups
	// is refused in a custom one.
	for _, bad := range []string{"a.b", "default.postgres14-copy", "1a", "a-", "a--b", "a_b"} {
		_, err = c.CreateDBParameterGroup(ctx, &rds.CreateDBParameterGroupInput{DBParameterGroupName: aws.String(bad),
			DBParameterGroupFamily: aws.String("postgres14"), Description: aws.String("bad name")})
		assert.Equal(t, "InvalidParameterValue", apiCode(t, err), bad)
	}

	_, err = c.ModifyDBParameterGroup(ctx, &rds.ModifyDBParameterGroupInput{DBParameterGroupName: aws.String("pg-strict"),
		Parameters: []types.Parameter{{ParameterName: aws.String("rds.force_ssl"), ParameterValue: aws.String("1"), ApplyMethod: types.ApplyMethodImmediate}}})
	require.NoError(t, err)
	v, src := paramValue(t, c, "pg-strict", "rds.force_ssl")
	assert.Equal(t, "1", v)
	assert.Equal(t, "user", src)
	user, err := c.DescribeDBParameters(ctx, &rds.DescribeDBParametersInput{DBParameterGroupName: aws.String("pg-strict"), Source: aws.String("user")})
	require.NoError(t, err)
	require.Len(t, user.Parameters, 1)

	for name, p := range map[string]types.Parameter{
		"unknown":          {ParameterName: aws.String("nope"), ParameterValue: aws.String("1"), ApplyMethod: types.ApplyMethodImmediate},
		"bad value":        {ParameterName: aws.String("rds.force_ssl"), ParameterValue: aws.String("2"), ApplyMethod: types.ApplyMethodImmediate},
		"static immediate": {ParameterName: aws.String("max_connections"), ParameterValue: aws.String("100"), ApplyMethod: types.ApplyMethodImmediate},
	} {
		_, err = c.ModifyDBParameterGroup(ctx, &rds.ModifyDBParameterGroupInput{DBParameterGroupName: aws.String("pg-strict"), Parameters: []types.Parameter{p}})
		assert.Contains(t, []string{"InvalidParameterValue", "InvalidParameterCombination"}, apiCode(t, err), name)
	}
	_, err = c.ModifyDBParameterGroup(ctx, &rds.ModifyDBParameterGroupInput{DBParameterGroupName: aws.String("pg-strict"),
		Parameters: []types.Parameter{{ParameterName: aws.String("max_connections"), ParameterValue: aws.String("100"), ApplyMethod: types.ApplyMethodPendingReboot}}})
	require.NoError(t, err)
	_, err = c.ModifyDBParameterGroup(ctx, &rds.ModifyDBParameterGroupInput{DBParameterGroupName: aws.String("default.postgres14"),
		Parameters: []types.Parameter{{ParameterName: aws.String("rds.force_ssl"), ParameterValue: aws.String("1"), ApplyMethod: types.ApplyMethodImmediate}}})
	assert.Equal(t, "InvalidParameterValue", apiCode(t, err), "default groups are read-only")
	_, err = c.DescribeDBParameters(ctx, &rds.DescribeDBParametersInput{DBParameterGroupName: aws.String("nope")})
	var nf *types.DBParameterGroupNotFoundFault
	require.True(t, errors.As(err, &nf), "got %v", err)
	assert.Equal(t, 404, httpStatus(t, err))

	// Cluster parameter groups: require_secure_transport on aurora-mysql.
	_, err = c.CreateDBClusterParameterGroup(ctx, &rds.CreateDBClusterParameterGroupInput{DBClusterParameterGroupName: aws.String("am-tls"),
		DBParameterGroupFamily: aws.String("aurora-mysql8.0"), Description: aws.String("tls")})
	require.NoError(t, err)
	_, err = c.ModifyDBClusterParameterGroup(ctx, &rds.ModifyDBClusterParameterGroupInput{DBClusterParameterGroupName: aws.String("am-tls"),
		Parameters: []types.Parameter{{ParameterName: aws.String("require_secure_transport"), ParameterValue: aws.String("ON"), ApplyMethod: types.ApplyMethodImmediate}}})
	require.NoError(t, err)
	cp, err := c.DescribeDBClusterParameters(ctx, &rds.DescribeDBClusterParametersInput{DBClusterParameterGroupName: aws.String("am-tls"), Source: aws.String("user")})
	require.NoError(t, err)
	require.Len(t, cp.Parameters, 1)
	assert.Equal(t, "ON", aws.ToString(cp.Parameters[0].ParameterValue))
	_, err = c.CreateDBClusterParameterGroup(ctx, &rds.CreateDBClusterParameterGroupInput{DBClusterParameterGroupName: aws.String("x"),
		DBParameterGroupFamily: aws.String("mysql8.0"), Description: aws.String("not aurora")})
	assert.Equal(t, "InvalidParameterValue", apiCode(t, err))
	_, err = c.DescribeDBClusterParameters(ctx, &rds.DescribeDBClusterParametersInput{DBClusterParameterGroupName: aws.String("nope")})
	var cnf *types.DBClusterParameterGroupNotFoundFault
	require.True(t, errors.As(err, &cnf), "got %v", err)

	// Groups are taggable by ARN.
	arn := "arn:aws:rds:us-east-1:" + h.Sim.AccountID() + ":pg:pg-strict"
	tags, err := c.ListTagsForResource(ctx, &rds.ListTagsForResourceInput{ResourceName: aws.String(arn)})
	require.NoError(t, err)
	require.Len(t, tags.TagList, 1)
}

func TestSubnetAndOptionGroups(t *testing.T) {
	t.Parallel()
	h := manual(t)
	c := h.RDS("us-east-1")
	out, err := c.CreateDBSubnetGroup(ctx, &rds.CreateDBSubnetGroupInput{DBSubnetGroupName: aws.String("App-Subnets"),
		DBSubnetGroupDescription: aws.String("app"), SubnetIds: []string{"subnet-aaa", "subnet-bbb", "subnet-ccc"}})
	require.NoError(t, err)
	g := out.DBSubnetGroup
	assert.Equal(t, "app-subnets", aws.ToString(g.DBSubnetGroupName))
	assert.NotEmpty(t, aws.ToString(g.VpcId))
	assert.Contains(t, aws.ToString(g.DBSubnetGroupArn), ":subgrp:app-subnets")
	azs := map[string]bool{}
	for _, sn := range g.Subnets {
		azs[aws.ToString(sn.SubnetAvailabilityZone.Name)] = true
	}
	assert.Len(t, azs, 3)
	// A subnet keeps its AZ in every group that uses it.
	out2, err := c.CreateDBSubnetGroup(ctx, &rds.CreateDBSubnetGroupInput{DBSubnetGroupName: aws.String("two"),
		DBSubnetGroupDescription: aws.String("two"), SubnetIds: []string{"subnet-ccc", "subnet-aaa"}})
	require.NoError(t, err)
	assert.Equal(t, aws.ToString(g.Subnets[2].SubnetAvailabilityZone.Name), aws.ToString(out2.DBSubnetGroup.Subnets[0].SubnetAvailabilityZone.Name))

	_, err = c.CreateDBSubnetGroup(ctx, &rds.CreateDBSubnetGroupInput{DBSubnetGroupName: aws.String("one-az"),
		DBSubnetGroupDescription: aws.String("x"), SubnetIds: []string{"subnet-aaa"}})
	var cover *types.DBSubnetGroupDoesNotCoverEnoughAZs
	require.True(t, errors.As(err, &cover), "got %v", err)
	_, err = c.CreateDBSubnetGroup(ctx, &rds.CreateDBSubnetGroupInput{DBSubnetGroupName: aws.String("two"),
		DBSubnetGroupDescription: aws.String("x"), SubnetIds: []string{"subnet-aaa", "subnet-bbb"}})
	var exists *types.DBSubnetGroupAlreadyExistsFault
	require.True(t, errors.As(err, &exists), "got %v", err)
	_, err = c.DescribeDBSubnetGroups(ctx, &rds.DescribeDBSubnetGroupsInput{DBSubnetGroupName: aws.String("nope")})
	var snf *types.DBSubnetGroupNotFoundFault
	require.True(t, errors.As(err, &snf), "got %v", err)
	assert.Equal(t, 404, httpStatus(t, err))

	og, err := c.CreateOptionGroup(ctx, &rds.CreateOptionGroupInput{OptionGroupName: aws.String("mysql-audit"), EngineName: aws.String("mysql"),
		MajorEngineVersion: aws.String("8.0"), OptionGroupDescription: aws.String("audit")})
	require.NoError(t, err)
	assert.Equal(t, "mysql-audit", aws.ToString(og.OptionGroup.OptionGroupName))
	_, err = c.CreateOptionGroup(ctx, &rds.CreateOptionGroupInput{OptionGroupName: aws.String("x"), EngineName: aws.String("mysql"),
		MajorEngineVersion: aws.String("9.9"), OptionGroupDescription: aws.String("x")})
	assert.Equal(t, "InvalidParameterValue", apiCode(t, err))
	list, err := c.DescribeOptionGroups(ctx, &rds.DescribeOptionGroupsInput{EngineName: aws.String("mysql"), MajorEngineVersion: aws.String("8.0")})
	require.NoError(t, err)
	assert.Len(t, list.OptionGroupsList, 2, "default:mysql-8-0 and mysql-audit")

	// Instances refer to the groups: existing ones are used and reported, missing ones are the
	// docs/aws-behaviour.md#errors 404 faults.
	in := mysqlInput("db")
	in.DBSubnetGroupName = aws.String("app-subnets")
	in.OptionGroupName = aws.String("mysql-audit")
	inst := createAvailable(t, h, c, in)
	assert.Equal(t, "app-subnets", aws.ToString(inst.DBSubnetGroup.DBSubnetGroupName))
	assert.Len(t, inst.DBSubnetGroup.Subnets, 3)
	assert.Equal(t, "mysql-audit", aws.ToString(inst.OptionGroupMemberships[0].OptionGroupName))
	for name, tc := range map[string]struct {
		mod  func(*rds.CreateDBInstanceInput)
		code string
	}{
		"parameter group": {func(in *rds.CreateDBInstanceInput) { in.DBParameterGroupName = aws.String("nope") }, "DBParameterGroupNotFound"},
		"subnet group":    {func(in *rds.CreateDBInstanceInput) { in.DBSubnetGroupName = aws.String("nope") }, "DBSubnetGroupNotFoundFault"},
		"option group":    {func(in *rds.CreateDBInstanceInput) { in.OptionGroupName = aws.String("nope") }, "OptionGroupNotFoundFault"},
		"family":          {func(in *rds.CreateDBInstanceInput) { in.DBParameterGroupName = aws.String("default.postgres16") }, "InvalidParameterCombination"},
		"option engine":   {func(in *rds.CreateDBInstanceInput) { in.OptionGroupName = aws.String("default:postgres-16") }, "InvalidParameterCombination"},
	} {
		in := mysqlInput("db2")
		tc.mod(in)
		_, err := c.CreateDBInstance(ctx, in)
		assert.Equal(t, tc.code, apiCode(t, err), name)
		if tc.code != "InvalidParameterCombination" {
			assert.Equal(t, 404, httpStatus(t, err), name)
		}
	}
	_, err = c.ModifyDBInstance(ctx, &rds.ModifyDBInstanceInput{DBInstanceIdentifier: aws.String("db"), DBParameterGroupName: aws.String("nope"), ApplyImmediately: aws.Bool(true)})
	assert.Equal(t, "DBParameterGroupNotFound", apiCode(t, err))
	h.Advance(time.Minute)
}
