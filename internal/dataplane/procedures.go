package dataplane

// rdsProcedures are RDS for MariaDB's stored procedures for binary log retention and
// replication from an external source, with the signatures of the RDS user guide ("Configuring,
// starting, and stopping binary log (binlog) replication", "Ending a session or query",
// "mysql.rds_set_configuration"). They run as rdsadmin (SQL SECURITY DEFINER), which is how the
// master user, who has no SUPER, can configure replication on RDS. docs/data-plane.md lists them.
var rdsProcedures = []string{
	`CREATE TABLE mysql.rds_configuration (name VARCHAR(100) NOT NULL PRIMARY KEY, value VARCHAR(100),
	  description VARCHAR(300) NOT NULL) ENGINE=InnoDB`,
	`INSERT INTO mysql.rds_configuration VALUES
	  ('binlog retention hours', NULL, 'binlog retention hours specifies the duration in hours before binary logs are automatically deleted.'),
	  ('source delay', '0', 'source delay specifies replication delay in seconds between current instance and its master.'),
	  ('target delay', '0', 'target delay specifies replication delay in seconds between current instance and its future read-replica.')`,

	`CREATE DEFINER='rdsadmin'@'localhost' PROCEDURE mysql.rds_set_configuration(IN p_name VARCHAR(30), IN p_value INT)
	BEGIN
	  IF p_name = 'binlog retention hours' THEN
	    IF p_value IS NOT NULL AND (p_value < 1 OR p_value > 2160) THEN
	      SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'For binlog retention hours the value must be between 1 and 2160 inclusive or be NULL';
	    END IF;
	    UPDATE mysql.rds_configuration SET value = p_value WHERE name = p_name;
	    SET GLOBAL binlog_expire_logs_seconds = IFNULL(p_value, 0) * 3600;
	  ELSEIF p_name IN ('source delay', 'target delay') THEN
	    IF p_value IS NULL OR p_value < 0 OR p_value > 86400 THEN
	      SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'The delay must be between 0 and 86400 seconds';
	    END IF;
	    UPDATE mysql.rds_configuration SET value = p_value WHERE name = p_name;
	  ELSE
	    SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'Invalid configuration name';
	  END IF;
	END`,

	`CREATE DEFINER='rdsadmin'@'localhost' PROCEDURE mysql.rds_show_configuration()
	BEGIN
	  SELECT name, value, description FROM mysql.rds_configuration ORDER BY name;
	END`,

	`CREATE DEFINER='rdsadmin'@'localhost' PROCEDURE mysql.rds_set_external_master(IN host_name VARCHAR(255),
	  IN host_port INT, IN replication_user_name VARCHAR(255), IN replication_user_password VARCHAR(255),
	  IN mysql_binary_log_file_name VARCHAR(255), IN mysql_binary_log_file_location INT, IN ssl_encryption INT)
	BEGIN
	  SET @rds_sql = CONCAT('CHANGE MASTER TO MASTER_HOST=', QUOTE(host_name), ', MASTER_PORT=', host_port,
	    ', MASTER_USER=', QUOTE(replication_user_name), ', MASTER_PASSWORD=', QUOTE(replication_user_password),
	    ', MASTER_LOG_FILE=', QUOTE(mysql_binary_log_file_name), ', MASTER_LOG_POS=', mysql_binary_log_file_location,
	    ', MASTER_SSL=', IFNULL(ssl_encryption, 0), ', MASTER_USE_GTID=no');
	  PREPARE rds_stmt FROM @rds_sql;
	  EXECUTE rds_stmt;
	  DEALLOCATE PREPARE rds_stmt;
	  SET @rds_sql = NULL;
	END`,

	`CREATE DEFINER='rdsadmin'@'localhost' PROCEDURE mysql.rds_set_external_master_gtid(IN host_name VARCHAR(255),
	  IN host_port INT, IN replication_user_name VARCHAR(255), IN replication_user_password VARCHAR(255),
	  IN gtid VARCHAR(255), IN ssl_encryption INT)
	BEGIN
	  SET GLOBAL gtid_slave_pos = gtid;
	  SET @rds_sql = CONCAT('CHANGE MASTER TO MASTER_HOST=', QUOTE(host_name), ', MASTER_PORT=', host_port,
	    ', MASTER_USER=', QUOTE(replication_user_name), ', MASTER_PASSWORD=', QUOTE(replication_user_password),
	    ', MASTER_SSL=', IFNULL(ssl_encryption, 0), ', MASTER_USE_GTID=slave_pos');
	  PREPARE rds_stmt FROM @rds_sql;
	  EXECUTE rds_stmt;
	  DEALLOCATE PREPARE rds_stmt;
	  SET @rds_sql = NULL;
	END`,

	`CREATE DEFINER='rdsadmin'@'localhost' PROCEDURE mysql.rds_start_replication()
	BEGIN
	  START SLAVE;
	  SELECT 'Slave running normally.' AS Message;
	END`,

	`CREATE DEFINER='rdsadmin'@'localhost' PROCEDURE mysql.rds_stop_replication()
	BEGIN
	  STOP SLAVE;
	  SELECT 'Slave is down or disabled' AS Message;
	END`,

	// The master user has no SLAVE MONITOR (masterPrivileges): this is how it reads the replica
	// status. RDS's answers with Source/Replica column names (its user guide's example), this
	// one with SHOW SLAVE STATUS's own; the tool reads either.
	`CREATE DEFINER='rdsadmin'@'localhost' PROCEDURE mysql.rds_replica_status()
	BEGIN
	  SHOW SLAVE STATUS;
	END`,

	`CREATE DEFINER='rdsadmin'@'localhost' PROCEDURE mysql.rds_reset_external_master()
	BEGIN
	  STOP SLAVE;
	  RESET SLAVE ALL;
	  SELECT 'Slave has been reset' AS Message;
	END`,

	`CREATE DEFINER='rdsadmin'@'localhost' PROCEDURE mysql.rds_kill(IN thread BIGINT)
	BEGIN
	  IF (SELECT USER FROM information_schema.PROCESSLIST WHERE ID = thread) IN ('rdsadmin', 'rdsrepladmin', 'system user') THEN
	    SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'ERROR: You cannot kill threads of rdsadmin or of the system';
	  END IF;
	  SET @rds_sql = CONCAT('KILL ', thread);
	  PREPARE rds_stmt FROM @rds_sql;
	  EXECUTE rds_stmt;
	  DEALLOCATE PREPARE rds_stmt;
	END`,

	`CREATE DEFINER='rdsadmin'@'localhost' PROCEDURE mysql.rds_kill_query(IN thread BIGINT)
	BEGIN
	  IF (SELECT USER FROM information_schema.PROCESSLIST WHERE ID = thread) IN ('rdsadmin', 'rdsrepladmin', 'system user') THEN
	    SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'ERROR: You cannot kill queries of rdsadmin or of the system';
	  END IF;
	  SET @rds_sql = CONCAT('KILL QUERY ', thread);
	  PREPARE rds_stmt FROM @rds_sql;
	  EXECUTE rds_stmt;
	  DEALLOCATE PREPARE rds_stmt;
	END`,
}
