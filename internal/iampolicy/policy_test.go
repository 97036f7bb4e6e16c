package iampolicy

import (
	"encoding/json"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rdsencrypt/rdsencrypt/internal/workflow"
)

// The policy allows exactly what the route tables say the selected migrations need: an
// action a step declares without a statement to allow it is missing from the policy, and
// fails here by name.
func TestPolicyAllowsWhatTheRoutesNeed(t *testing.T) {
	for _, tc := range []struct {
		o     Options
		kinds []string
	}{
		{Options{}, []string{workflow.KindInstance}},
		{Options{CrossRegion: true}, []string{workflow.KindInstance}},
		{Options{Cluster: true}, []string{workflow.KindInstance, workflow.KindCluster}},
	} {
		needed := routeActions(tc.kinds...)
		got := New(tc.o).Actions()
		for _, a := range needed {
			assert.Contains(t, got, a, "%v: the routes need %s and no statement allows it", tc.kinds, a)
		}
		assert.Equal(t, needed, got, "%v", tc.kinds)
	}
}

func TestInstancePolicyHasNoClusterAction(t *testing.T) {
	cluster, err := workflow.IAMActions(workflow.KindCluster)
	require.NoError(t, err)
	instance, err := workflow.IAMActions(workflow.KindInstance)
	require.NoError(t, err)
	got := New(Options{}).Actions()
	for _, a := range cluster {
		if !slices.Contains(instance, a) {
			assert.NotContains(t, got, a, "only cluster migrations need %s", a)
		}
	}
	assert.Contains(t, New(Options{Cluster: true}).Actions(), "rds:CreateDBClusterSnapshot")
}

func TestPolicyIsScopedAndValidJSON(t *testing.T) {
	doc := New(Options{Region: "eu-west-1", Account: "123456789012", Partition: "aws-cn"})
	b, err := doc.JSON()
	require.NoError(t, err)
	var back map[string]any
	require.NoError(t, json.Unmarshal(b, &back))
	assert.Equal(t, "2012-10-17", back["Version"])
	for _, s := range doc.Statement {
		assert.Equal(t, "Allow", s.Effect, s.Sid)
		assert.NotEmpty(t, s.Why, s.Sid)
		for _, r := range s.Resource {
			if r != "*" {
				assert.Regexp(t, `^arn:aws-cn:((rds|kms|ec2|secretsmanager):eu-west-1|iam:):123456789012:`, r, s.Sid)
			}
		}
	}
	for _, s := range New(Options{Region: "eu-west-1", CrossRegion: true}).Statement {
		for _, r := range s.Resource {
			assert.NotContains(t, r, "eu-west-1", "cross-region policies name every region")
		}
	}
	assert.NotContains(t, doc.Without("rds:DeleteDBSnapshot").Actions(), "rds:DeleteDBSnapshot")
}

// --db-iam-user adds rds-db:connect for that database user on any instance (the new one's
// resource id is not known before the restore); without it, no database access at all.
func TestDBIAMUserAddsConnectForThatUser(t *testing.T) {
	without := New(Options{Region: "us-east-1", Account: "123456789012"})
	assert.NotContains(t, without.Actions(), "rds-db:connect")
	doc := New(Options{Region: "us-east-1", Account: "123456789012", DBIAMUser: "migrator"})
	var found bool
	for _, s := range doc.Statement {
		if slices.Contains(s.Action, "rds-db:connect") {
			found = true
			assert.Equal(t, []string{"rds-db:connect"}, s.Action)
			assert.Equal(t, []string{"arn:aws:rds-db:us-east-1:123456789012:dbuser:*/migrator"}, s.Resource)
		}
	}
	require.True(t, found)
}
