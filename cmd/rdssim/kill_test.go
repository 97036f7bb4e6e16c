package main

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/rds"

	"github.com/rdsencrypt/rdsencrypt/internal/dataplane"
)

// TestKill9LeavesNoServer: with --data-plane, kill -9 of the simulator takes its database
// servers with it (Pdeathsig), and the next data plane removes the dead one's files.
func TestKill9LeavesNoServer(t *testing.T) {
	dataplane.RequireEngine(t, dataplane.Postgres, dataplane.MariaDB)
	bin := filepath.Join(t.TempDir(), "rdssim")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	cmd := exec.Command(bin, "--addr", "127.0.0.1:0", "--data-plane", "--example-fleet=false", "--speed", "1")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	lines := make(chan string, 100)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			select {
			case lines <- sc.Text():
			default: // nobody reads any more
			}
		}
	}()
	var addr, root string
	addrRE, rootRE := regexp.MustCompile(`rdssim listening"? addr=(\S+)`), regexp.MustCompile(`data plane on"? root=(\S+)`)
	for addr == "" {
		select {
		case l := <-lines:
			if m := rootRE.FindStringSubmatch(l); m != nil {
				root = m[1]
			}
			if m := addrRE.FindStringSubmatch(l); m != nil {
				addr = m[1]
			}
		case <-time.After(2 * time.Minute):
			t.Fatal("the simulator did not log its address")
		}
	}
	if root == "" {
		t.Fatal("no data root in the log")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	c := client(addr, "us-east-1")
	for id, engine := range map[string]string{"pg": "postgres", "maria": "mariadb"} {
		if _, err := c.CreateDBInstance(ctx, &rds.CreateDBInstanceInput{DBInstanceIdentifier: aws.String(id), Engine: aws.String(engine),
			DBInstanceClass: aws.String("db.t3.micro"), MasterUsername: aws.String("admin"), MasterUserPassword: aws.String("secret-password"),
			AllocatedStorage: aws.Int32(20), BackupRetentionPeriod: aws.Int32(0)}); err != nil {
			t.Fatal(err)
		}
	}
	resp, err := http.Post(fmt.Sprintf("http://%s/_sim/advance?seconds=3600", addr), "application/json", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	servers := dataplane.Descendants(cmd.Process.Pid)
	if len(servers) < 2 {
		t.Fatalf("%d server processes under the simulator, want at least 2", len(servers))
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	deadline := time.Now().Add(60 * time.Second)
	for {
		var alive []int
		for _, pid := range servers {
			if running(pid) {
				alive = append(alive, pid)
			}
		}
		if len(alive) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("servers still running 60s after kill -9: %v", alive)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if _, err := os.Stat(root); err != nil {
		t.Fatalf("the killed simulator's root %s is already gone: %v", root, err)
	}
	m, err := dataplane.NewManager()
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if _, err := os.Stat(root); !os.IsNotExist(err) {
		t.Fatalf("the killed simulator's root %s survived the next data plane: %v", root, err)
	}
}

// running reports whether pid is a live (not zombie) process.
func running(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	return len(f) > 0 && f[0] != "Z"
}
