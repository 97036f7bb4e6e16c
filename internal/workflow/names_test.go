package workflow

import (
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var awsIdentifier = regexp.MustCompile(`^[a-z][a-z0-9]*(-[a-z0-9]+)*$`)

func TestNamesForShortSource(t *testing.T) {
	n := NamesFor("0a1b2c3d", "orders")
	assert.Equal(t, "orders-enc-0a1b2c3d", n.Target)
	assert.Equal(t, "orders-old-0a1b2c3d", n.Retired)
	assert.Equal(t, "rdsencrypt-0a1b2c3d-orders-unencrypted", n.Snapshot)
	assert.Equal(t, "rdsencrypt-0a1b2c3d-orders-encrypted", n.EncryptedSnapshot)
	assert.Equal(t, "rdsencrypt-0a1b2c3d-orders-final", n.FinalSnapshot)
}

func TestNamesForLongSourceStayValid(t *testing.T) {
	for _, src := range []string{
		strings.Repeat("a", 63),
		strings.Repeat("ab-", 21)[:63],
		"x" + strings.Repeat("-y", 31),
		strings.Repeat("a", 49) + "-" + strings.Repeat("b", 13),
	} {
		n := NamesFor("0a1b2c3d", src)
		for _, id := range []string{n.Target, n.Retired} {
			assert.LessOrEqual(t, len(id), 63, id)
			assert.Regexp(t, awsIdentifier, id)
		}
		assert.NotEqual(t, n.Target, n.Retired)
		for _, id := range []string{n.Snapshot, n.EncryptedSnapshot, n.FinalSnapshot} {
			assert.LessOrEqual(t, len(id), 255, id)
			assert.Regexp(t, awsIdentifier, id)
		}
	}
}

func TestNewMigrationIDIsValidAndRandom(t *testing.T) {
	a, err := NewMigrationID()
	require.NoError(t, err)
	b, err := NewMigrationID()
	require.NoError(t, err)
	assert.True(t, ValidMigrationID(a), a)
	assert.NotEqual(t, a, b)
	assert.False(t, ValidMigrationID("../etc"))
}
