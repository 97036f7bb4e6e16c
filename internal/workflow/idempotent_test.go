package workflow

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/rdsencrypt/rdsencrypt/internal/model"
)

func awsErr(kind model.Failure) error {
	return &model.Error{Failure: kind, Op: "DeleteDBInstance", Resource: "orders-enc-0a1b2c3d", Err: errors.New(kind.String())}
}

// A retried deletion meets its first attempt's effect: the resource busy being deleted, or its
// final snapshot already taken. Instances and clusters treat both the same way (they once
// differed: only clusters accepted the final snapshot already taken).
func TestDeletedAcceptsWhatARetryMeets(t *testing.T) {
	deleting := func() bool { return true }
	available := func() bool { return false }
	assert.NoError(t, deleted(nil, available))
	assert.NoError(t, deleted(awsErr(model.FailureNotFound), available), "gone already")
	assert.NoError(t, deleted(awsErr(model.FailureInvalidState), deleting))
	assert.NoError(t, deleted(awsErr(model.FailureAlreadyExists), deleting), "the first attempt took the final snapshot")
	assert.Error(t, deleted(awsErr(model.FailureAlreadyExists), available), "the final snapshot name is someone else's")
	assert.Error(t, deleted(awsErr(model.FailureInvalidState), available))
	assert.Error(t, deleted(awsErr(model.FailureAccessDenied), deleting), "not an error a retry meets")
}

func TestRenamedAcceptsWhatARetryMeets(t *testing.T) {
	renamedAlready := func() bool { return true }
	notYet := func() bool { return false }
	for _, k := range []model.Failure{model.FailureNotFound, model.FailureAlreadyExists, model.FailureInvalidState} {
		assert.NoError(t, renamed(awsErr(k), renamedAlready), k.String())
		assert.Error(t, renamed(awsErr(k), notYet), k.String())
	}
	assert.Error(t, renamed(awsErr(model.FailureAccessDenied), renamedAlready))
}
