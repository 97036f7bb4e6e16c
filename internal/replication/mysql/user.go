package mysql

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
)

// NewPassword is a fresh random password for the replication user. It is never stored: the
// target keeps it in its replication settings, and a resumed run that must attach again sets a
// new one (EnsureUser).
func NewPassword() string {
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// EnsureUser creates the replication user (or sets its password when it exists) with
// REPLICATION SLAVE only: the least privilege a replica's connection needs to read the
// binary log. requireSSL makes the server refuse it over plaintext.
func (c *Conn) EnsureUser(ctx context.Context, name, password string, requireSSL bool) error {
	require := "NONE"
	if requireSSL {
		require = "SSL"
	}
	if err := c.exec(ctx, fmt.Sprintf("CREATE USER IF NOT EXISTS '%s'@'%%' IDENTIFIED BY ? REQUIRE %s", name, require), password); err != nil {
		return err
	}
	if err := c.exec(ctx, fmt.Sprintf("ALTER USER '%s'@'%%' IDENTIFIED BY ? REQUIRE %s", name, require), password); err != nil {
		return err
	}
	return c.exec(ctx, fmt.Sprintf("GRANT REPLICATION SLAVE ON *.* TO '%s'@'%%'", name))
}

// DropUser drops the replication user (nothing when it does not exist).
func (c *Conn) DropUser(ctx context.Context, name string) error {
	return c.exec(ctx, fmt.Sprintf("DROP USER IF EXISTS '%s'@'%%'", name))
}

// Users lists the tool's replication users on the server (scan and cleanup find forgotten ones).
func (c *Conn) Users(ctx context.Context) ([]string, error) {
	rows, err := c.db.QueryContext(ctx, "SELECT User FROM mysql.user WHERE User LIKE 'rdsencrypt\\_%' ORDER BY User")
	if err != nil {
		return nil, c.errorf("listing replication users: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var u string
		if err := rows.Scan(&u); err != nil {
			return nil, err
		}
		out = append(out, u)
	}
	return out, rows.Err()
}
