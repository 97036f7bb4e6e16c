package awsclient

import (
	"context"
	"fmt"
	"net"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/feature/rds/auth"
)

// DBAuthToken builds an IAM database authentication token for user at the instance endpoint
// host:port in region, signed with the client's AWS credentials: RDS accepts it as the
// password for 15 minutes, over TLS only (RDS user guide, "Connecting to your DB instance
// using IAM authentication"). Building it makes no AWS call. The caller needs
// rds-db:connect on arn:aws:rds-db:<region>:<account>:dbuser:<DbiResourceId>/<user>.
func (c *Client) DBAuthToken(ctx context.Context, region, host string, port int32, user string) (string, error) {
	if region == "" {
		region = c.aws.Region
	}
	endpoint := net.JoinHostPort(host, strconv.Itoa(int(port)))
	token, err := auth.BuildAuthToken(ctx, endpoint, region, user, c.aws.Credentials)
	if err != nil {
		return "", fmt.Errorf("IAM authentication token for %s at %s: %w", user, endpoint, err)
	}
	return token, nil
}
