package awsclient

import (
	"context"

	"github.com/rdsencrypt/rdsencrypt/internal/model"

	"github.com/aws/aws-sdk-go-v2/service/kms"
)

// DescribeKey resolves a key reference. Alias names are case sensitive, so ref is passed
// as given.
func (c *regionClient) DescribeKey(ctx context.Context, ref string) (*model.Key, error) {
	ctx = withTarget(ctx, ref)
	out, err := c.kms.DescribeKey(ctx, &kms.DescribeKeyInput{KeyId: &ref})
	if err != nil {
		return nil, translateError("DescribeKey", ref, err)
	}
	md := out.KeyMetadata
	if md == nil {
		return nil, notFound("DescribeKey", ref, "KMS key")
	}
	return &model.Key{
		ID:      str(md.KeyId),
		ARN:     str(md.Arn),
		Region:  c.region,
		Enabled: md.Enabled,
		State:   string(md.KeyState),
		Manager: string(md.KeyManager),
		Spec:    string(md.KeySpec),
		Usage:   string(md.KeyUsage),
	}, nil
}
