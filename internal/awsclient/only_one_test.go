package awsclient

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rdsencrypt/rdsencrypt/internal/model"
)

// twoInstances answers a lookup by resource id with two instances: a lookup that expects one
// resource must refuse it, not act on the first.
const twoInstances = `<DBInstances>` +
	`<DBInstance><DBInstanceIdentifier>app</DBInstanceIdentifier><DbiResourceId>db-ABC</DbiResourceId><DBInstanceStatus>available</DBInstanceStatus></DBInstance>` +
	`<DBInstance><DBInstanceIdentifier>other</DBInstanceIdentifier><DbiResourceId>db-ABC</DbiResourceId><DBInstanceStatus>available</DBInstanceStatus></DBInstance>` +
	`</DBInstances>`

func TestALookupThatFindsTwoResourcesIsAnError(t *testing.T) {
	for name, cfg := range map[string]Config{"one call": {}, "coalesced": {CoalesceWindow: time.Millisecond}} {
		t.Run(name, func(t *testing.T) {
			f := newFakeAWS(t)
			f.reply("DescribeDBInstances", ok("DescribeDBInstances", twoInstances))
			api := f.client(cfg).Default()
			inst, err := api.DescribeInstanceByResourceID(t.Context(), "db-ABC")
			require.Error(t, err)
			assert.Nil(t, inst)
			assert.False(t, model.IsNotFound(err))
			assert.Contains(t, err.Error(), "2 resources answer to")
			assert.Contains(t, err.Error(), "db-ABC")

			_, err = api.DescribeInstance(t.Context(), "app")
			assert.ErrorContains(t, err, "expected one")
		})
	}
}
