package awsclient

import (
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/rds/types"
)

func snapshotFrom(region string, d *types.DBSnapshot) *Snapshot {
	return &Snapshot{
		ID:               normalizeID(str(d.DBSnapshotIdentifier)),
		ARN:              str(d.DBSnapshotArn),
		Region:           region,
		Status:           str(d.Status),
		SourceID:         normalizeID(str(d.DBInstanceIdentifier)),
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

func clusterSnapshotFrom(region string, d *types.DBClusterSnapshot) *Snapshot {
	return &Snapshot{
		ID:               normalizeID(str(d.DBClusterSnapshotIdentifier)),
		ARN:              str(d.DBClusterSnapshotArn),
		Region:           region,
		Status:           str(d.Status),
		SourceID:         normalizeID(str(d.DBClusterIdentifier)),
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
