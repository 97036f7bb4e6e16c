package awsclient

import (
	"fmt"
	"testing"

	"github.com/rdsencrypt/rdsencrypt/internal/model"

	"github.com/stretchr/testify/assert"
)

func TestIsNothingToModify(t *testing.T) {
	none := &model.Error{Failure: model.FailureInvalidParameter, Code: "InvalidParameterCombination", Message: "No modifications were requested"}
	assert.True(t, model.IsNothingToModify(fmt.Errorf("modify db1: %w", none)))
	assert.False(t, model.IsNothingToModify(&model.Error{Failure: model.FailureInvalidParameter, Code: "InvalidParameterCombination", Message: "Cannot combine"}))
	assert.False(t, model.IsNothingToModify(nil))
}
