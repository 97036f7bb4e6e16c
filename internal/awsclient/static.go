package awsclient

import (
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
)

// NewForSimulator builds a client with fixed dummy credentials, for the simulator: requests
// are still SigV4-signed, so the simulator tells regions apart by the credential scope.
// cfg.EndpointURL must point at the simulator.
func NewForSimulator(cfg Config) *Client {
	awsCfg := aws.Config{
		Region:      cfg.Region,
		Credentials: credentials.NewStaticCredentialsProvider("AKIDSIMULATOR", "simulator-secret", ""),
	}
	return NewFromAWSConfig(awsCfg, cfg)
}
