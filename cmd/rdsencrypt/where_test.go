package main

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

// Printed commands carry this invocation's flags: rdsencrypt's all of them, the AWS CLI's the
// region, endpoint and profile (review T16: without them an aws command acts on the shell's
// default account and region), each flag once however often the message is made pasteable.
func TestPasteableCarriesTheFlags(t *testing.T) {
	a := &app{opts: globalOptions{StateDir: "/var/lib/rds enc", Region: "eu-west-1", Profile: "prod"}}
	msg := "aws rds modify-db-instance --db-instance-identifier shop --db-parameter-group-name app && aws rds reboot-db-instance --db-instance-identifier shop, then rdsencrypt resume 0a1b2c3d; or aws kms enable-key --key-id k --region eu-west-1"
	want := "aws --region eu-west-1 --profile prod rds modify-db-instance --db-instance-identifier shop --db-parameter-group-name app && " +
		"aws --region eu-west-1 --profile prod rds reboot-db-instance --db-instance-identifier shop, " +
		"then rdsencrypt --state-dir '/var/lib/rds enc' --region eu-west-1 --profile prod resume 0a1b2c3d; " +
		"or aws --profile prod kms enable-key --key-id k --region eu-west-1"
	got := a.pasteable(msg)
	assert.Equal(t, want, got)
	assert.Equal(t, want, a.pasteable(got), "idempotent")
	assert.Equal(t, msg, (&app{}).pasteable(msg), "no flags given, nothing added")
}
