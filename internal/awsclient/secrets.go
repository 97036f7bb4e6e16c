package awsclient

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/rdsencrypt/rdsencrypt/internal/model"
)

// secretsClient implements model.Secrets for one region with the SDK's secretsmanager
// client.
type secretsClient struct {
	region string
	sm     *secretsmanager.Client
}

var _ model.Secrets = (*secretsClient)(nil)

// Secrets returns the Secrets Manager implementation for a region ("" means the default),
// to read the master user secrets RDS manages.
func (c *Client) Secrets(region string) model.Secrets {
	if region == "" {
		region = c.aws.Region
	}
	apiOptions := c.middlewares(region)
	return &secretsClient{region: region, sm: secretsmanager.NewFromConfig(c.aws, func(o *secretsmanager.Options) {
		o.Region = region
		o.APIOptions = append(o.APIOptions, apiOptions...)
		if c.cfg.EndpointURL != "" {
			o.BaseEndpoint = aws.String(c.cfg.EndpointURL)
		}
	})}
}

func (s *secretsClient) MasterCredentials(ctx context.Context, secretARN string) (*model.Credentials, error) {
	ctx = withTarget(ctx, secretARN)
	out, err := s.sm.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(secretARN)})
	if err != nil {
		return nil, translateError("GetSecretValue", secretARN, err)
	}
	// RDS stores {"username": ..., "password": ...} (RDS user guide, "Password management
	// with Amazon RDS and AWS Secrets Manager"). The error never quotes the value.
	var v struct {
		Username string `json:"username"`
		Password string `json:"password"`
	}
	if err := json.Unmarshal([]byte(aws.ToString(out.SecretString)), &v); err != nil || v.Username == "" || v.Password == "" {
		return nil, &model.Error{Op: "GetSecretValue", Resource: secretARN,
			Message: fmt.Sprintf("secret %s does not hold the {\"username\",\"password\"} value RDS stores", secretARN)}
	}
	return &model.Credentials{Username: v.Username, Password: model.Password(v.Password)}, nil
}

func (s *secretsClient) DescribeSecret(ctx context.Context, secretARN string) (*model.Secret, error) {
	ctx = withTarget(ctx, secretARN)
	out, err := s.sm.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String(secretARN)})
	if err != nil {
		return nil, translateError("DescribeSecret", secretARN, err)
	}
	sec := &model.Secret{ARN: aws.ToString(out.ARN), Name: aws.ToString(out.Name), KmsKeyID: aws.ToString(out.KmsKeyId),
		OwningService: aws.ToString(out.OwningService), LastRotated: aws.ToTime(out.LastRotatedDate),
		NextRotation: aws.ToTime(out.NextRotationDate), Tags: model.Tags{}}
	if aws.ToBool(out.RotationEnabled) && out.RotationRules != nil {
		sec.RotationDays = int(aws.ToInt64(out.RotationRules.AutomaticallyAfterDays))
	}
	for _, t := range out.Tags {
		sec.Tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	return sec, nil
}
