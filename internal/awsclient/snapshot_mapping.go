package awsclient

import (
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/rds/types"

	"github.com/rdsencrypt/rdsencrypt/internal/model"
)

func snapshotFrom(region string, d *types.DBSnapshot) *model.Snapshot {
	return &model.Snapshot{
		ID:               model.NormalizeID(str(d.DBSnapshotIdentifier)),
		ARN:              str(d.DBSnapshotArn),
		Region:           region,
		Status:           str(d.Status),
		SourceID:         model.NormalizeID(str(d.DBInstanceIdentifier)),
		SourceResource:   str(d.DbiResourceId),
		Engine:           str(d.Engine),
		Encrypted:        storageEncrypted(d.Encrypted, d.StorageEncryptionType),
		KmsKeyID:         str(d.KmsKeyId),
		PercentProgress:  aws.ToInt32(d.PercentProgress),
		AllocatedStorage: aws.ToInt32(d.AllocatedStorage),
		SnapshotType:     str(d.SnapshotType),
		CreateTime:       timeOf(d.SnapshotCreateTime),
		Tags:             tagsFrom(d.TagList),
	}
}

func clusterSnapshotFrom(region string, d *types.DBClusterSnapshot) *model.Snapshot {
	return &model.Snapshot{
		ID:               model.NormalizeID(str(d.DBClusterSnapshotIdentifier)),
		ARN:              str(d.DBClusterSnapshotArn),
		Region:           region,
		Status:           str(d.Status),
		SourceID:         model.NormalizeID(str(d.DBClusterIdentifier)),
		SourceResource:   str(d.DbClusterResourceId),
		Engine:           str(d.Engine),
		Encrypted:        storageEncrypted(d.StorageEncrypted, d.StorageEncryptionType),
		KmsKeyID:         str(d.KmsKeyId),
		PercentProgress:  aws.ToInt32(d.PercentProgress),
		AllocatedStorage: aws.ToInt32(d.AllocatedStorage),
		SnapshotType:     str(d.SnapshotType),
		CreateTime:       timeOf(d.SnapshotCreateTime),
		Tags:             tagsFrom(d.TagList),
	}
}
