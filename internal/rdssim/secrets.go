package rdssim

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// The master user secrets RDS manages in Secrets Manager (ManageMasterUserPassword), and the
// part of the Secrets Manager API that reads them (secrets_api.go). What is modelled and the
// sources: docs/aws-behaviour.md#managed-master-password.

// managedRotationDays is how often RDS rotates a managed master user secret by default
// (RDS user guide, "Password management with Amazon RDS and AWS Secrets Manager").
const managedRotationDays = 7

// secretsManagerKeyAlias is the AWS managed key that encrypts a secret when
// MasterUserSecretKmsKeyId is not given (ModifyDBInstance API reference).
const secretsManagerKeyAlias = "alias/aws/secretsmanager"

// secret is a Secrets Manager secret RDS created for a DB instance's or an Aurora cluster's
// master user.
type secret struct {
	lifecycle
	r       *region
	arn     string
	name    string // rds!db-<uuid> or rds!cluster-<uuid>
	kmsKey  string // key ARN; "" when aws/secretsmanager encrypts it
	desc    string
	tags    []Tag
	created time.Time
	changed time.Time
	rotated time.Time
	read    time.Time // LastAccessedDate (AWS keeps the date only)
	// versions, oldest first; the last one is AWSCURRENT, the one before AWSPREVIOUS.
	versions []secretVersion
	// onRotate changes the database password to the new one (the data plane), if any.
	onRotate func(password string)
}

type secretVersion struct {
	id       string
	username string
	password string
	created  time.Time
}

type secretsState struct {
	byARN map[string]*secret
}

func secretsOf(r *region) *secretsState {
	return regionExt(r, "secrets", func() *secretsState { return &secretsState{byARN: map[string]*secret{}} })
}

func (sec *secret) current() secretVersion { return sec.versions[len(sec.versions)-1] }

// value is the SecretString RDS stores: {"username":...,"password":...}.
func (v secretVersion) value() string {
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false) // like AWS: & < > stay as they are
	_ = enc.Encode(struct {
		Username string `json:"username"`
		Password string `json:"password"`
	}{v.username, v.password})
	return strings.TrimSuffix(b.String(), "\n")
}

// passwordChars are the characters of a generated master password. RDS's generated
// passwords mix letters, digits and punctuation; the characters RDS forbids in a master
// password ("/", `"`, "@" and space) are left out.
const passwordChars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789!#$%&()*+,-.:;<=>?[]^_{|}~"

func (s *Sim) newPassword() string { return s.ids.chars(passwordChars, 28) }

// createMasterSecret creates the managed secret of a DB instance (kind "db") or cluster
// (kind "cluster") owned by ownerARN, holding username and a generated password, and
// schedules its rotation. kmsKeyArn is the MasterUserSecretKmsKeyId in force.
func (s *Sim) createMasterSecret(r *region, kind, ownerARN, username, kmsKeyArn string, now time.Time) *secret {
	name := "rds!" + kind + "-" + s.ids.uuid()
	sec := &secret{r: r, name: name, created: now, changed: now,
		arn: fmt.Sprintf("arn:aws:secretsmanager:%s:%s:secret:%s-%s", r.name, s.account, name,
			s.ids.chars("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789", 6)),
		tags: []Tag{{Key: "aws:secretsmanager:owningService", Value: "rds"}},
	}
	if kind == "cluster" {
		sec.desc = "Secret associated with primary RDS DB cluster: " + ownerARN
		sec.tags = append(sec.tags, Tag{Key: "aws:rds:primaryDBClusterArn", Value: ownerARN})
	} else {
		sec.desc = "Secret associated with primary RDS DB instance: " + ownerARN
		sec.tags = append(sec.tags, Tag{Key: "aws:rds:primaryDBInstanceArn", Value: ownerARN})
	}
	if k := s.managedKey(r, secretsManagerKeyAlias); k == nil || k.arn != kmsKeyArn {
		sec.kmsKey = kmsKeyArn
	}
	sec.versions = []secretVersion{{id: s.ids.uuid(), username: username, password: s.newPassword(), created: now}}
	sec.rotated = now
	secretsOf(r).byARN[sec.arn] = sec
	s.emit(now, r.name, "secret", sec.name, sec.arn, "created", "")
	s.scheduleRotation(sec, now)
	return sec
}

// scheduleRotation rotates sec every managedRotationDays from `from` until it is deleted.
func (s *Sim) scheduleRotation(sec *secret, from time.Time) {
	s.timeline(sec, from, step{managedRotationDays * 24 * time.Hour, func(at time.Time) {
		s.rotateSecret(sec, at)
	}})
}

// rotateSecret gives sec a new AWSCURRENT version with a new password; the old one becomes
// AWSPREVIOUS. RDS changes the database password with it.
func (s *Sim) rotateSecret(sec *secret, at time.Time) {
	if sec == nil || sec.gone {
		return
	}
	cur := sec.current()
	v := secretVersion{id: s.ids.uuid(), username: cur.username, password: s.newPassword(), created: at}
	sec.versions = append(sec.versions, v)
	if len(sec.versions) > 2 {
		sec.versions = sec.versions[len(sec.versions)-2:]
	}
	sec.rotated, sec.changed = at, at
	if sec.onRotate != nil {
		sec.onRotate(v.password)
	}
	s.emit(at, sec.r.name, "secret", sec.name, sec.arn, "rotated", "")
	s.scheduleRotation(sec, at)
}

// deleteSecret removes a managed secret: RDS deletes it with its instance or cluster, and
// when management is turned off. It is modelled as gone at once (GetSecretValue answers
// ResourceNotFoundException); AWS may keep it scheduled for deletion for a while, during
// which it cannot be read either.
func (s *Sim) deleteSecret(r *region, arn string, at time.Time) {
	st := secretsOf(r)
	sec := st.byARN[arn]
	if sec == nil {
		return
	}
	sec.gone = true
	delete(st.byARN, arn)
	s.emit(at, r.name, "secret", sec.name, sec.arn, "deleted", "")
}

// secretByID finds a secret by ARN (full, or without its 6-character suffix) or by name.
func (s *Sim) secretByID(r *region, id string) *secret {
	st := secretsOf(r)
	if sec := st.byARN[id]; sec != nil {
		return sec
	}
	for _, sec := range st.byARN {
		if sec.name == id || sec.arn[:len(sec.arn)-7] == id {
			return sec
		}
	}
	return nil
}

// secretStatus is the SecretStatus of a MasterUserSecret.
func secretStatus(r *region, arn string) string {
	if secretsOf(r).byARN[arn] == nil {
		return "impaired"
	}
	return "active"
}

// MasterSecretValue returns the current username and password of the managed secret arn of
// the default region or any other (for tests that check the database accepts them).
func (s *Sim) MasterSecretValue(arn string) (username, password string, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.settle(s.clock.now())
	for _, r := range s.regions {
		if sec := secretsOf(r).byARN[arn]; sec != nil {
			v := sec.current()
			return v.username, v.password, true
		}
	}
	return "", "", false
}

// newInstanceSecret creates the managed secret of inst and returns its password. A rotation
// changes the data plane's password with it.
func (s *Sim) newInstanceSecret(inst *instance, now time.Time) string {
	sec := s.createMasterSecret(inst.r, "db", inst.arn(s), inst.cfg.MasterUsername, inst.cfg.MasterUserSecretKmsKeyArn, now)
	inst.secretARN = sec.arn
	sec.onRotate = func(password string) { s.dataSetPassword(inst, password) }
	return sec.current().password
}

// newClusterSecret creates the managed secret of an Aurora cluster (the cluster holds it;
// its instances have none).
func (s *Sim) newClusterSecret(cl *cluster, now time.Time) {
	sec := s.createMasterSecret(cl.r, "cluster", cl.arn(s), cl.cfg.MasterUsername, cl.cfg.MasterUserSecretKmsKeyArn, now)
	cl.secretARN = sec.arn
}
