package dataplane

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// SetPassword changes the password of a login user, as RDS does when the master password
// changes (a MasterUserPassword modify, or RDS creating or rotating the master user's
// managed secret). Replicas follow through replication.
func (s *Server) SetPassword(ctx context.Context, user, password string) error {
	switch s.engine {
	case Postgres:
		return s.pgAdmin(ctx, "postgres", func(c *pgx.Conn) error {
			_, err := c.Exec(ctx, fmt.Sprintf("ALTER ROLE %s PASSWORD %s", pgx.Identifier{user}.Sanitize(), quoteLiteral(password)))
			return err
		})
	case MariaDB:
		return s.mariaAdmin(ctx, func(db *sql.DB) error {
			_, err := db.ExecContext(ctx, "ALTER USER "+mariaUser(user)+" IDENTIFIED BY "+quoteLiteral(password))
			return err
		})
	}
	return fmt.Errorf("data plane: no password change for engine %s", s.engine)
}
