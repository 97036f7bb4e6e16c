package workflow

import (
	"context"
	"fmt"
	"time"

	"github.com/rdsencrypt/rdsencrypt/internal/model"
)

// EnvDBPassword is the environment variable the master password may come from.
const EnvDBPassword = "RDSENCRYPT_DB_PASSWORD"

// DBLogin is who the tool connects to an instance's database as, and with what. It lives in
// memory only: never journaled, logged or reported (Password prints as [REDACTED]).
type DBLogin struct {
	User     string
	Password model.Password
	// Expires is when Password stops being accepted for new connections (an IAM
	// authentication token); zero when it does not expire.
	Expires time.Time
	// Host is the endpoint an IAM database authentication token was built for, "" for a
	// password: a token serves no other instance, and the cutover's renames move an
	// instance to another endpoint, where its cached token is of no use.
	Host string
}

// IsToken says whether Password is an IAM database authentication token.
func (l DBLogin) IsToken() bool { return l.Host != "" }

// usableAt says whether the login still serves new connections to host: a token only at the
// endpoint it was built for, and only with more than a minute of its life left.
func (l DBLogin) usableAt(host string) bool {
	if !l.IsToken() {
		return true
	}
	return l.Host == host && time.Until(l.Expires) > time.Minute
}

// TokenBuilder builds an IAM database authentication token for user at host:port in region
// (awsclient.Client.DBAuthToken).
type TokenBuilder func(ctx context.Context, region, host string, port int32, user string) (string, error)

// tokenLife is how long the tool uses an IAM token: RDS accepts it for 15 minutes for new
// connections; a minute is kept in hand.
const tokenLife = 14 * time.Minute

// DBCredentials gives the login of an instance's database, for the replication strategy
// (docs/replication.md#credentials).
type DBCredentials interface {
	Login(ctx context.Context, inst *model.Instance) (DBLogin, error)
}

// PasswordPrompt asks the operator for inst's master password. The command line provides
// one when a person is at a terminal; the workflow never touches the terminal itself.
type PasswordPrompt func(ctx context.Context, inst *model.Instance) (string, error)

// CredentialChain finds an instance's master password, in the order docs/replication.md
// gives: the instance's RDS-managed secret, else the --db-secret secret, else the
// environment, else the prompt. It keeps nothing.
type CredentialChain struct {
	// Secrets reads Secrets Manager in a region; nil: no secret is read.
	Secrets func(region string) model.Secrets
	// SecretARN is --db-secret: a secret in RDS's {"username","password"} format.
	SecretARN string
	// EnvPassword is RDSENCRYPT_DB_PASSWORD's value ("" when unset).
	EnvPassword string
	// Prompt asks at a terminal; nil when no person can answer.
	Prompt PasswordPrompt
	// IAMUser is --db-iam-user: on an instance with IAM database authentication on, the tool
	// connects as this database user with a token from Token instead of a password. The
	// user must exist in the database with the rds_iam role (PostgreSQL) or the
	// AWSAuthenticationPlugin (MySQL/MariaDB) and the rights the replication strategy needs.
	IAMUser string
	Token   TokenBuilder
}

// Login implements DBCredentials. With --db-iam-user, an instance with IAM database
// authentication on gets a token for that user; otherwise the user is the secret's when a
// secret answers, else the instance's master user.
func (c CredentialChain) Login(ctx context.Context, inst *model.Instance) (DBLogin, error) {
	if c.IAMUser != "" && c.Token != nil && inst.Settings.IAMDatabaseAuthenticationEnabled {
		token, err := c.Token(ctx, inst.Region, inst.Endpoint, inst.Settings.Port, c.IAMUser)
		if err != nil {
			return DBLogin{}, err
		}
		return DBLogin{User: c.IAMUser, Password: model.Password(token), Expires: time.Now().Add(tokenLife), Host: inst.Endpoint}, nil
	}
	if c.Secrets != nil {
		for _, arn := range []string{inst.MasterUserSecretARN, c.SecretARN} {
			if arn == "" {
				continue
			}
			creds, err := c.Secrets(inst.Region).MasterCredentials(ctx, arn)
			if err != nil {
				return DBLogin{}, fmt.Errorf("read secret %s: %w", arn, err)
			}
			return DBLogin{User: creds.Username, Password: creds.Password}, nil
		}
	}
	login := DBLogin{User: inst.MasterUsername, Password: model.Password(c.EnvPassword)}
	if login.Password == "" && c.Prompt != nil {
		pw, err := c.Prompt(ctx, inst)
		if err != nil {
			return DBLogin{}, fmt.Errorf("ask for the master password of %s: %w", inst.ID, err)
		}
		login.Password = model.Password(pw)
	}
	if login.Password == "" {
		return DBLogin{}, fmt.Errorf("no master password for %s: it has no RDS-managed secret; pass --db-secret ARN, set %s, or run on a terminal to be asked", inst.ID, EnvDBPassword)
	}
	return login, nil
}
