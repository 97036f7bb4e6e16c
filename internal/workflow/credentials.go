package workflow

import (
	"context"
	"errors"
	"fmt"

	"github.com/rdsencrypt/rdsencrypt/internal/model"
)

// EnvDBPassword is the environment variable the master password may come from.
const EnvDBPassword = "RDSENCRYPT_DB_PASSWORD"

// CredentialChain finds an instance's master password, in the order docs/replication.md
// gives: the instance's RDS-managed secret, else the --db-secret secret, else the
// environment. It keeps nothing.
type CredentialChain struct {
	// Secrets reads Secrets Manager in a region; nil: no secret is read.
	Secrets func(region string) model.Secrets
	// SecretARN is --db-secret: a secret in RDS's {"username","password"} format.
	SecretARN string
	// EnvPassword is RDSENCRYPT_DB_PASSWORD's value ("" when unset).
	EnvPassword string
}

// MasterPassword implements DBCredentials.
func (c CredentialChain) MasterPassword(ctx context.Context, inst *model.Instance) (string, error) {
	if c.Secrets != nil {
		for _, arn := range []string{inst.MasterUserSecretARN, c.SecretARN} {
			if arn == "" {
				continue
			}
			creds, err := c.Secrets(inst.Region).MasterCredentials(ctx, arn)
			if err != nil {
				return "", fmt.Errorf("read secret %s: %w", arn, err)
			}
			return creds.Password.Reveal(), nil
		}
	}
	if c.EnvPassword != "" {
		return c.EnvPassword, nil
	}
	return "", errors.New("no managed master user secret, no --db-secret and no " + EnvDBPassword)
}
