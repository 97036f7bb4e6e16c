package dataplane_test

import (
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/rds"

	"github.com/rdsencrypt/rdsencrypt/internal/dataplane"
	"github.com/rdsencrypt/rdsencrypt/internal/replication"
	"github.com/rdsencrypt/rdsencrypt/internal/replication/postgres"
)

// The changed keys the verification holds are bounded (review V11, docs/replication.md "Cost
// inside the freeze"): with Engine.MaxKeys 5, ten accounts written after the verification
// ahead make pgbench_accounts, the table holding the most, compared in full inside the freeze
// and say so; the teller written, one key, is still compared by its key.
func TestPostgresChangedKeysHeldAreBounded(t *testing.T) {
	e := start(t, dataplane.Postgres)
	e.logicalGroup("logical")
	inst := e.create("orders", "postgres", func(in *rds.CreateDBInstanceInput) {
		in.DBParameterGroupName, in.BackupRetentionPeriod = aws.String("logical"), aws.Int32(0)
	})
	e.pgbenchInit(aws.ToString(inst.Endpoint.Address), int(aws.ToInt32(inst.Endpoint.Port)), 1)
	src := pgEndpoint(inst)
	eng := &postgres.Engine{MaxKeys: 5}
	n := replication.NamesFor("mig00011")
	ctx := e.ctx
	dst := e.pgStreamed(eng, src, n, "orders", "orders-new")
	ahead, err := eng.VerifyAhead(ctx, src, dst, n)
	if err != nil {
		t.Fatal(err)
	}
	sc := e.mustPG(endpoint(inst))
	e.exec(sc, "UPDATE pgbench_accounts SET abalance = abalance + 1 WHERE aid <= 10")
	e.exec(sc, "UPDATE pgbench_tellers SET tbalance = tbalance + 1 WHERE tid = 1")
	sc.Close(ctx)
	v := e.pgFreezeAndVerify(eng, src, dst, n, ahead.Tables)
	got := map[string]replication.TableCheck{}
	for _, c := range v.Tables {
		got[c.Table] = c
	}
	accounts, tellers := got[`"public"."pgbench_accounts"`], got[`"public"."pgbench_tellers"`]
	if d := v.Differences(); len(d) > 0 || accounts.Table == "" || accounts.Ahead || accounts.SourceRows != 100000 ||
		!tellers.Ahead || tellers.KeysCompared != 1 ||
		!strings.Contains(v.Note, `"public"."pgbench_accounts" compared in full: more changed keys than the 5`) {
		t.Fatalf("verification inside the freeze with MaxKeys 5: %+v (note %q, warning %q)", v.Tables, v.Note, v.Warning)
	}
	if err := eng.Unfreeze(ctx, src, nil); err != nil {
		t.Fatal(err)
	}
}
