package workflow

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rdsencrypt/rdsencrypt/internal/model"
	"github.com/rdsencrypt/rdsencrypt/internal/replication"
)

type fakeSecrets map[string]string

func (f fakeSecrets) MasterCredentials(_ context.Context, arn string) (*model.Credentials, error) {
	pw, ok := f[arn]
	if !ok {
		return nil, &model.Error{Op: "GetSecretValue", Resource: arn, Failure: model.FailureNotFound}
	}
	return &model.Credentials{Username: "app", Password: model.Password(pw)}, nil
}

func (f fakeSecrets) DescribeSecret(context.Context, string) (*model.Secret, error) { return nil, nil }

func TestCredentialChainOrder(t *testing.T) {
	ctx := context.Background()
	sec := fakeSecrets{"managed": "from-managed", "given": "from-flag"}
	asked := 0
	chain := CredentialChain{Secrets: func(string) model.Secrets { return sec }, SecretARN: "given", EnvPassword: "from-env",
		Prompt: func(_ context.Context, inst *model.Instance) (string, error) {
			asked++
			return "typed-for-" + inst.ID, nil
		}}
	login, err := chain.Login(ctx, &model.Instance{MasterUserSecretARN: "managed"})
	require.NoError(t, err)
	assert.Equal(t, DBLogin{User: "app", Password: "from-managed"}, login, "the instance's managed secret first")
	login, err = chain.Login(ctx, &model.Instance{MasterUsername: "master"})
	require.NoError(t, err)
	assert.Equal(t, model.Password("from-flag"), login.Password, "then --db-secret")
	chain.SecretARN = ""
	login, err = chain.Login(ctx, &model.Instance{MasterUsername: "master"})
	require.NoError(t, err)
	assert.Equal(t, DBLogin{User: "master", Password: "from-env"}, login, "then the environment, as the master user")
	chain.EnvPassword = ""
	login, err = chain.Login(ctx, &model.Instance{ID: "db1", MasterUsername: "master"})
	require.NoError(t, err)
	assert.Equal(t, DBLogin{User: "master", Password: "typed-for-db1"}, login, "then the prompt")
	assert.Equal(t, 1, asked, "asked only once the others had nothing")
	chain.Prompt = nil
	_, err = chain.Login(ctx, &model.Instance{ID: "db1"})
	require.Error(t, err)
	assert.NotContains(t, err.Error(), "\n")
	for _, what := range []string{"db1", "--db-secret", EnvDBPassword, "terminal"} {
		assert.Contains(t, err.Error(), what, "the error names what to provide")
	}
	chain.SecretARN = "missing"
	_, err = chain.Login(ctx, &model.Instance{})
	assert.ErrorContains(t, err, "missing")
}

// describeByRID answers DescribeInstanceByResourceID from a map; nothing else is called.
type describeByRID struct {
	model.RDS
	byRID map[string]*model.Instance
}

func (d describeByRID) DescribeInstanceByResourceID(_ context.Context, rid string) (*model.Instance, error) {
	if inst, ok := d.byRID[rid]; ok {
		return inst, nil
	}
	return nil, &model.Error{Op: "DescribeDBInstances", Resource: rid, Failure: model.FailureNotFound}
}

// Each instance logs in with its own password (review R17): the restored target with the
// source's until step manage-master-password gives it its own secret; after that, the retired
// source still with its own, not the new instance's. On the old code one password served the
// whole run, so the retired source got the new instance's.
func TestReplicationLoginIsPerInstance(t *testing.T) {
	ctx := context.Background()
	pg := model.InstanceSettings{Engine: "postgres"}
	src := &model.Instance{ID: "shop", ResourceID: "db-SRC", MasterUserSecretARN: "arn:src", MasterUsername: "master", Settings: pg}
	target := &model.Instance{ID: "shop-encrypted", ResourceID: "db-NEW", MasterUsername: "master", Settings: pg}
	sec := fakeSecrets{"arn:src": "source-pw", "arn:new": "new-pw"}
	e := &Engine{Replication: map[string]replication.Engine{"postgres": fakeEngine{}},
		Credentials: CredentialChain{Secrets: func(string) model.Secrets { return sec }}}
	newRun := func() *run {
		return &run{e: e, st: &State{ID: "m1", Source: "shop", SourceRID: "db-SRC"},
			api: describeByRID{byRID: map[string]*model.Instance{"db-SRC": src}}}
	}
	r := newRun()
	ep, err := r.endpointOf(ctx, target)
	require.NoError(t, err)
	assert.Equal(t, "source-pw", ep.Password, "restored from the source's snapshot: the source's password")

	// After cutover: the new instance has its own secret, the retired source keeps its own.
	newInst := *target
	newInst.ID, newInst.MasterUserSecretARN = "shop", "arn:new"
	old := *src
	old.ID = "shop-retired"
	for _, order := range [][]*model.Instance{{&newInst, &old}, {&old, &newInst}} {
		r := newRun()
		for _, inst := range order {
			ep, err := r.endpointOf(ctx, inst)
			require.NoError(t, err)
			want := map[string]string{"db-SRC": "source-pw", "db-NEW": "new-pw"}[inst.ResourceID]
			assert.Equal(t, want, ep.Password, "%s logs in with its own password", inst.ID)
		}
	}
}

// A prompt is asked once per instance of a run: the target, restored from the source, does
// not ask again; another migration's source is asked for its own.
func TestReplicationPromptsOncePerInstance(t *testing.T) {
	ctx := context.Background()
	pg := model.InstanceSettings{Engine: "postgres"}
	var asked []string
	e := &Engine{Replication: map[string]replication.Engine{"postgres": fakeEngine{}},
		Credentials: CredentialChain{Prompt: func(_ context.Context, inst *model.Instance) (string, error) {
			asked = append(asked, inst.ID)
			return inst.ID + "-pw", nil
		}}}
	for _, id := range []string{"orders", "billing"} {
		src := &model.Instance{ID: id, ResourceID: "db-" + id, MasterUsername: "master", Settings: pg}
		target := &model.Instance{ID: id + "-encrypted", ResourceID: "db-" + id + "-new", MasterUsername: "master", Settings: pg}
		r := &run{e: e, st: &State{ID: id, Source: id, SourceRID: src.ResourceID},
			api: describeByRID{byRID: map[string]*model.Instance{src.ResourceID: src}}}
		for _, inst := range []*model.Instance{src, target, src} {
			ep, err := r.endpointOf(ctx, inst)
			require.NoError(t, err)
			assert.Equal(t, id+"-pw", ep.Password)
		}
	}
	assert.Equal(t, []string{"orders", "billing"}, asked)
}

type fakeEngine struct{ replication.Engine }

// With --db-iam-user, an instance with IAM database authentication on gets a token for its
// own endpoint, one that expires; an instance without it falls back to the password chain.
// The restored target, which otherwise logs in as the source, gets a token of its own.
func TestIAMTokenPerInstanceEndpoint(t *testing.T) {
	ctx := context.Background()
	var built []string
	chain := CredentialChain{EnvPassword: "env-pw", IAMUser: "migrator",
		Token: func(_ context.Context, region, host string, port int32, user string) (string, error) {
			built = append(built, fmt.Sprintf("%s %s:%d %s", region, host, port, user))
			return "token-for-" + host, nil
		}}
	iam := model.InstanceSettings{Engine: "postgres", Port: 5432, IAMDatabaseAuthenticationEnabled: true}
	login, err := chain.Login(ctx, &model.Instance{ID: "db1", Region: "eu-west-1", Endpoint: "db1.example", MasterUsername: "master", Settings: iam})
	require.NoError(t, err)
	assert.Equal(t, "migrator", login.User)
	assert.Equal(t, model.Password("token-for-db1.example"), login.Password)
	assert.True(t, login.IsToken())
	assert.WithinDuration(t, time.Now().Add(tokenLife), login.Expires, time.Minute)
	login, err = chain.Login(ctx, &model.Instance{ID: "db2", Endpoint: "db2.example", MasterUsername: "master",
		Settings: model.InstanceSettings{Engine: "postgres", Port: 5432}})
	require.NoError(t, err)
	assert.Equal(t, DBLogin{User: "master", Password: "env-pw"}, login, "IAM authentication off: the password chain")

	src := &model.Instance{ID: "shop", ResourceID: "db-SRC", Region: "eu-west-1", Endpoint: "shop.example", MasterUsername: "master", Settings: iam}
	target := &model.Instance{ID: "shop-new", ResourceID: "db-NEW", Region: "eu-west-1", Endpoint: "shop-new.example", MasterUsername: "master", Settings: iam}
	built = nil
	e := &Engine{Replication: map[string]replication.Engine{"postgres": fakeEngine{}}, Credentials: chain}
	r := &run{e: e, st: &State{ID: "m1", Source: "shop", SourceRID: "db-SRC"},
		api: describeByRID{byRID: map[string]*model.Instance{"db-SRC": src}}}
	ep, err := r.endpointOf(ctx, target)
	require.NoError(t, err)
	assert.Equal(t, "token-for-shop-new.example", ep.Password, "a token is for one endpoint")
	assert.True(t, ep.Token)
	assert.Equal(t, "migrator", ep.User)
	assert.Contains(t, built, "eu-west-1 shop-new.example:5432 migrator")
	assert.Equal(t, "[REDACTED]", fmt.Sprint(DBLogin{Password: "token"}.Password), "a token prints redacted")
}

// The cutover renames the new instance to the source's name: the same ResourceID answers at
// another endpoint, and the token cached for the old one is not reused (review S4).
func TestIAMTokenFollowsTheRename(t *testing.T) {
	ctx := context.Background()
	var hosts []string
	chain := CredentialChain{IAMUser: "migrator",
		Token: func(_ context.Context, _, host string, _ int32, _ string) (string, error) {
			hosts = append(hosts, host)
			return "token-for-" + host, nil
		}}
	iam := model.InstanceSettings{Engine: "postgres", Port: 5432, IAMDatabaseAuthenticationEnabled: true}
	newInst := &model.Instance{ID: "shop-new", ResourceID: "db-NEW", Endpoint: "shop-new.example", MasterUsername: "master", Settings: iam}
	e := &Engine{Replication: map[string]replication.Engine{"postgres": fakeEngine{}}, Credentials: chain}
	r := &run{e: e, st: &State{ID: "m1", Source: "shop"}}
	for range 2 {
		ep, err := r.endpointOf(ctx, newInst)
		require.NoError(t, err)
		assert.Equal(t, "token-for-shop-new.example", ep.Password)
	}
	renamed := *newInst
	renamed.ID, renamed.Endpoint = "shop", "shop.example"
	ep, err := r.endpointOf(ctx, &renamed)
	require.NoError(t, err)
	assert.Equal(t, "token-for-shop.example", ep.Password, "a token for the endpoint the instance has now")
	assert.Equal(t, []string{"shop-new.example", "shop.example"}, hosts, "one token per endpoint, cached while it stands")
}
