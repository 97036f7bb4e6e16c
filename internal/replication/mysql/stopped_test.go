package mysql

import (
	"maps"
	"testing"
)

// TestReplicaStatusColumns reads the applied position and the threads' state under MySQL
// 8.0.22+'s SHOW REPLICA STATUS names and under MariaDB's (and MySQL's SHOW SLAVE STATUS)
// names: the temporary replica's stop position is Relay_Source_Log_File/Exec_Source_Log_Pos on
// MySQL 8, Relay_Master_Log_File/Exec_Master_Log_Pos on MariaDB. RDS for MariaDB's
// mysql.rds_replica_status answers with Source/Replica names but Seconds_Behind_Master (the RDS
// user guide's example).
func TestReplicaStatusColumns(t *testing.T) {
	mysql8 := map[string]string{
		"Replica_IO_State": "", "Source_Host": "10.0.0.5", "Source_User": "rdsencrypt_x", "Source_Port": "3306",
		"Source_Log_File": "mysql-bin-changelog.000412", "Read_Source_Log_Pos": "9000",
		"Relay_Source_Log_File": "mysql-bin-changelog.000411", "Exec_Source_Log_Pos": "4567",
		"Replica_IO_Running": "No", "Replica_SQL_Running": "No", "Seconds_Behind_Source": "",
		"Last_IO_Error": "", "Last_SQL_Error": "", "Last_IO_Errno": "0",
	}
	maria := map[string]string{
		"Slave_IO_State": "", "Master_Host": "10.0.0.5", "Master_User": "rdsencrypt_x", "Master_Port": "3306",
		"Master_Log_File": "mysql-bin-changelog.000412", "Read_Master_Log_Pos": "9000",
		"Relay_Master_Log_File": "mysql-bin-changelog.000411", "Exec_Master_Log_Pos": "4567",
		"Slave_IO_Running": "No", "Slave_SQL_Running": "No", "Seconds_Behind_Master": "",
		"Last_IO_Error": "", "Last_SQL_Error": "", "Last_IO_Errno": "0",
	}
	// mysql.rds_replica_status: MySQL 8's names, but Seconds_Behind_Master.
	rdsMaria := maps.Clone(mysql8)
	delete(rdsMaria, "Seconds_Behind_Source")
	rdsMaria["Seconds_Behind_Master"] = ""
	want := ReplicaStatus{Configured: true, SourceHost: "10.0.0.5", SourcePort: 3306, SourceUser: "rdsencrypt_x",
		Executed: Position{"mysql-bin-changelog.000411", 4567}, Read: Position{"mysql-bin-changelog.000412", 9000}, SecondsBehind: -1}
	for name, m := range map[string]map[string]string{"MySQL 8 SHOW REPLICA STATUS": mysql8, "MariaDB SHOW SLAVE STATUS": maria,
		"RDS for MariaDB mysql.rds_replica_status": rdsMaria} {
		if got := statusFrom(m); got != want {
			t.Errorf("%s: %+v, want %+v", name, got, want)
		}
	}
	running := map[string]string{"Source_Host": "h", "Replica_IO_Running": "Connecting", "Replica_SQL_Running": "Yes", "Seconds_Behind_Source": "7"}
	if st := statusFrom(running); !st.IOConnecting || !st.SQLRunning || st.SecondsBehind != 7 {
		t.Errorf("running MySQL 8 replica: %+v", st)
	}
}

// TestGapsPossible: a parallel applier that does not keep the source's commit order may have
// applied transactions past Exec_Source_Log_Pos when it stops.
func TestGapsPossible(t *testing.T) {
	for _, c := range []struct {
		workers  int
		preserve bool
		want     bool
	}{{0, false, false}, {1, false, false}, {4, true, false}, {4, false, true}} {
		if got := gapsPossible(c.workers, c.preserve); got != c.want {
			t.Errorf("gapsPossible(%d, %v) = %v", c.workers, c.preserve, got)
		}
	}
}
