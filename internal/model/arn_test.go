package model

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestARNParts(t *testing.T) {
	arn := "arn:aws:rds:eu-west-1:123456789012:db:orders-ro"
	assert.Equal(t, "eu-west-1", ARNRegion(arn))
	assert.Equal(t, "orders-ro", ARNLastPart(arn))
	assert.Equal(t, "", ARNRegion("orders-ro"), "a plain identifier has no region")
	assert.Equal(t, "orders-ro", ARNLastPart("orders-ro"), "a plain identifier is its own last part")
}
