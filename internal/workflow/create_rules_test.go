package workflow

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/rdsencrypt/rdsencrypt/internal/model"
)

func TestCarryFollowsAWSCreationRules(t *testing.T) {
	small := model.InstanceSettings{Engine: "postgres", AllocatedStorage: 100, StorageType: "gp3", Iops: 3000,
		StorageThroughput: 125, DBParameterGroupName: "pg"}
	assert.NotContains(t, restoreCarry(small), model.Setting("Iops"))
	assert.NotContains(t, restoreCarry(small), model.Setting("StorageThroughput"))
	assert.Contains(t, restoreCarry(small), model.Setting("AllocatedStorage"))
	assert.Contains(t, restoreCarry(small), model.Setting("DBParameterGroupName"), "restore takes any group")
	assert.NotContains(t, replicaCarry(small, bySameRegionCopy), model.Setting("DBParameterGroupName"))
	assert.NotContains(t, replicaCarry(small, byCrossRegionCopy), model.Setting("DBParameterGroupName"))

	big := small
	big.AllocatedStorage, big.Iops, big.StorageThroughput = 400, 12000, 500
	assert.Contains(t, restoreCarry(big), model.Setting("Iops"))
	assert.Contains(t, replicaCarry(big, bySameRegionCopy), model.Setting("StorageThroughput"))

	oracle := model.InstanceSettings{Engine: "oracle-ee", AllocatedStorage: 200, StorageType: "gp3", Iops: 12000, DBParameterGroupName: "ora"}
	assert.Contains(t, restoreCarry(oracle), model.Setting("Iops"), "Oracle's threshold is 200 GiB")
	assert.Contains(t, replicaCarry(oracle, bySameRegionCopy), model.Setting("DBParameterGroupName"))

	mysql := model.InstanceSettings{Engine: "mysql", AllocatedStorage: 50, StorageType: "gp2", DBParameterGroupName: "my"}
	assert.NotContains(t, replicaCarry(mysql, bySameRegionCopy), model.Setting("DBParameterGroupName"))
	assert.Contains(t, replicaCarry(mysql, byCrossRegionCopy), model.Setting("DBParameterGroupName"))
	mariadb := mysql
	mariadb.Engine = "mariadb"
	assert.NotContains(t, replicaCarry(mariadb, byCrossRegionCopy), model.Setting("DBParameterGroupName"), "stricter reading: MariaDB is not named")

	sqlserver := model.InstanceSettings{Engine: "sqlserver-se", AllocatedStorage: 200, StorageType: "gp3", Iops: 3000, StorageThroughput: 125}
	for _, s := range []model.Setting{"AllocatedStorage", "StorageType", "Iops", "StorageThroughput"} {
		assert.NotContains(t, restoreCarry(sqlserver), s)
		assert.NotContains(t, replicaCarry(sqlserver, bySameRegionCopy), s)
	}
}
