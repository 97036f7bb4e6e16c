package workflow

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestClusterNamesForShortSource(t *testing.T) {
	n := ClusterNamesFor("0a1b2c3d", "shop")
	assert.Equal(t, "shop-enc-0a1b2c3d", n.Target)
	assert.Equal(t, "shop-old-0a1b2c3d", n.Retired)
	assert.Equal(t, "rdsencrypt-0a1b2c3d-shop-unencrypted", n.Snapshot)
	assert.Equal(t, "rdsencrypt-0a1b2c3d-shop-final", n.FinalSnapshot)
	assert.Equal(t, "shop-1-enc-0a1b2c3d", n.MemberTarget("shop-1"))
	assert.Equal(t, "shop-1-old-0a1b2c3d", n.MemberRetired("shop-1"))
	assert.Equal(t, "shop-ro-enc-0a1b2c3d", n.TempEndpoint("shop-ro"))
}

func TestClusterNamesForLongSourceStayValidAndDistinct(t *testing.T) {
	long := strings.Repeat("a", 50) + "-reader-"
	for _, src := range []string{strings.Repeat("c", 63), strings.Repeat("ab-", 21)[:63], "x" + strings.Repeat("-y", 31)} {
		n := ClusterNamesFor("0a1b2c3d", src)
		for _, name := range []string{n.Target, n.Retired, n.Snapshot, n.FinalSnapshot,
			n.MemberTarget(long + "1"), n.MemberRetired(long + "1"), n.TempEndpoint(long + "1")} {
			assert.LessOrEqual(t, len(name), 63, name)
			assert.Regexp(t, awsIdentifier, name)
		}
	}
	n := ClusterNamesFor("0a1b2c3d", "shop")
	assert.NotEqual(t, n.MemberTarget(long+"1"), n.MemberTarget(long+"2"), "shortened member names stay distinct")
	assert.NotEqual(t, n.MemberRetired(long+"1"), n.MemberRetired(long+"2"))
	assert.Equal(t, n.MemberTarget(long+"1"), ClusterNamesFor("0a1b2c3d", "shop").MemberTarget(long+"1"), "deterministic")
}
