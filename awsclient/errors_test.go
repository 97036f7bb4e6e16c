package awsclient

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestIsNothingToModify(t *testing.T) {
	none := &Error{Kind: KindInvalidParameter, Code: "InvalidParameterCombination", Message: "No modifications were requested"}
	assert.True(t, IsNothingToModify(fmt.Errorf("modify db1: %w", none)))
	assert.False(t, IsNothingToModify(&Error{Kind: KindInvalidParameter, Code: "InvalidParameterCombination", Message: "Cannot combine"}))
	assert.False(t, IsNothingToModify(nil))
}
