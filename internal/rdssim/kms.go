package rdssim

import (
	"fmt"
	"strings"
	"time"
)

// Key states used by the simulator (KMS KeyState values).
const (
	keyEnabled         = "Enabled"
	keyDisabled        = "Disabled"
	keyPendingDeletion = "PendingDeletion"
)

type kmsKey struct {
	id, arn      string
	region       string
	state        string
	manager      string // CUSTOMER or AWS
	description  string
	created      time.Time
	deletionDate time.Time
	pendingDays  int32
	keyUsage     string
	keySpec      string
	multiRegion  bool
}

type kmsAlias struct {
	name     string
	targetID string
	created  time.Time
	updated  time.Time
}

func (s *Sim) aliasARN(region, name string) string {
	return fmt.Sprintf("arn:aws:kms:%s:%s:%s", region, s.account, name)
}

// awsManagedAliases are the AWS-managed keys every region has.
var awsManagedAliases = map[string]string{
	"alias/aws/rds":            "Default key that protects my RDS database volumes when no other key is defined",
	"alias/aws/secretsmanager": "Default key that protects my Secrets Manager data when no other key is defined",
}

func (s *Sim) seedManagedKeys(r *region, now time.Time) {
	for _, name := range []string{"alias/aws/rds", "alias/aws/secretsmanager"} {
		k := s.newKey(r, now, awsManagedAliases[name], "AWS")
		r.aliases[name] = &kmsAlias{name: name, targetID: k.id, created: now, updated: now}
	}
}

func (s *Sim) newKey(r *region, now time.Time, desc, manager string) *kmsKey {
	id := s.ids.uuid()
	k := &kmsKey{id: id, arn: fmt.Sprintf("arn:aws:kms:%s:%s:key/%s", r.name, s.account, id), region: r.name,
		state: keyEnabled, manager: manager, description: desc, created: now,
		keyUsage: "ENCRYPT_DECRYPT", keySpec: "SYMMETRIC_DEFAULT"}
	r.keys[id] = k
	return k
}

// findKey resolves a key id, key ARN, alias name or alias ARN in region r. foreign is true when
// the reference is an ARN of another region or account.
func (s *Sim) findKey(r *region, ref string) (k *kmsKey, foreign bool) {
	if strings.HasPrefix(ref, "arn:") {
		a, ok := parseARN(ref)
		if !ok || a.Service != "kms" {
			return nil, false
		}
		if a.Region != r.name || a.Account != s.account {
			return nil, true
		}
		switch a.Kind {
		case "key":
			ref = a.ID
		case "alias":
			ref = "alias/" + a.ID
		default:
			return nil, false
		}
	}
	if strings.HasPrefix(ref, "alias/") {
		al := r.aliases[ref]
		if al == nil {
			return nil, false
		}
		return r.keys[al.targetID], false
	}
	return r.keys[ref], false
}

// usableKey resolves a KmsKeyId given to RDS: it must exist in the request's region, be
// enabled and be a symmetric encryption key, else KMSKeyNotAccessibleFault.
//
// "Amazon RDS supports only symmetric KMS keys. You cannot use an asymmetric KMS key to
// encrypt data in an Amazon RDS database." (AWS KMS Developer Guide, "How Amazon RDS uses AWS
// KMS", docs.aws.amazon.com/kms/latest/developerguide/services-rds.html). A symmetric
// encryption key is KeySpec SYMMETRIC_DEFAULT with KeyUsage ENCRYPT_DECRYPT; asymmetric (RSA_*,
// ECC_*, SM2) and HMAC_* keys are not. The RDS API reference documents no dedicated error for
// it: KMSKeyNotAccessibleFault is the one error CopyDBSnapshot, RestoreDBClusterFromSnapshot and
// CreateDBInstance list for an unusable KmsKeyId, and the message says why.
func (s *Sim) usableKey(r *region, ref string) (*kmsKey, *apiError) {
	k, _ := s.findKey(r, ref)
	if k == nil || k.state != keyEnabled {
		return nil, errKeyNotAccessible(ref)
	}
	if k.keySpec != "SYMMETRIC_DEFAULT" || k.keyUsage != "ENCRYPT_DECRYPT" {
		return nil, errf("KMSKeyNotAccessibleFault",
			"The specified KMS key [%s] is not a symmetric encryption key (KeySpec %s, KeyUsage %s): Amazon RDS supports only symmetric encryption KMS keys.",
			ref, k.keySpec, k.keyUsage)
	}
	return k, nil
}

// keyByARN returns the key with the given ARN in any region.
func (s *Sim) keyByARN(keyARN string) *kmsKey {
	a, ok := parseARN(keyARN)
	if !ok {
		return nil
	}
	if r := s.regions[a.Region]; r != nil {
		return r.keys[a.ID]
	}
	return nil
}

// setKeyState changes a key's state and, when the key becomes unusable, fails the operations
// that depend on it.
func (s *Sim) setKeyState(k *kmsKey, state string, at time.Time, action string) {
	if k.state == state {
		return
	}
	k.state = state
	s.emit(at, k.region, "key", k.id, k.arn, state, action)
	if state != keyEnabled {
		for _, h := range keyLossHooks {
			h(s, k, at)
		}
	}
}

// keyLossHooks are told when a key becomes unusable (disabled or pending deletion); each
// resource family fails its in-flight operations that use the key.
var keyLossHooks []func(s *Sim, k *kmsKey, at time.Time)

func onKeyLoss(h func(s *Sim, k *kmsKey, at time.Time)) { keyLossHooks = append(keyLossHooks, h) }

// The kinds of call that can arm a key's disable (KeyDisableAt.OnCopy, KeyDisableAt.OnRestore).
const (
	KeyUseCopy    = "copy"    // CopyDBSnapshot that encrypts with the key
	KeyUseRestore = "restore" // RestoreDBInstanceFromDBSnapshot / RestoreDBClusterFromSnapshot into the key
)

// DisableKeyOnUse disables the key after (virtual time) the next call of the kind use
// (KeyUseCopy, KeyUseRestore) that uses it is accepted.
func (s *Sim) DisableKeyOnUse(region, keyRef, use string, after time.Duration) error {
	if use != KeyUseCopy && use != KeyUseRestore {
		return fmt.Errorf("rdssim: unknown key use %q", use)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	k, err := s.faultKey(region, keyRef)
	if err != nil {
		return err
	}
	s.faults.disableOnUse[keyUse{k.arn, use}] = after
	return nil
}

// keyUsed is called, under the lock, by a call of kind use accepted at now with the key arn:
// a disable armed for that use is scheduled in the same step, so it lands inside the call's
// timeline however slowly the caller reacts.
func (s *Sim) keyUsed(arn, use string, now time.Time) {
	ku := keyUse{arn, use}
	after, armed := s.faults.disableOnUse[ku]
	if !armed {
		return
	}
	delete(s.faults.disableOnUse, ku)
	if k := s.keyByARN(arn); k != nil {
		s.disableKeyLater(k, now.Add(after))
	}
}

// faultKey finds the key a fault names.
func (s *Sim) faultKey(region, keyRef string) (*kmsKey, error) {
	r := s.regions[region]
	if r == nil {
		return nil, fmt.Errorf("rdssim: unknown region %q", region)
	}
	k, _ := s.findKey(r, keyRef)
	if k == nil {
		return nil, fmt.Errorf("rdssim: no key %q in %s", keyRef, region)
	}
	return k, nil
}

// disableKeyLater disables the key at a virtual time unless it changed state meanwhile.
func (s *Sim) disableKeyLater(k *kmsKey, at time.Time) {
	s.at(at, func(at time.Time) {
		if k.state == keyEnabled {
			s.setKeyState(k, keyDisabled, at, "DisableKey")
		}
	})
}

// DisableKeyAt disables the KMS key (id, ARN or alias) of region at virtual time at (at once
// if at is not in the future), as if DisableKey had been called then.
func (s *Sim) DisableKeyAt(region, keyRef string, at time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.clock.now()
	s.settle(now)
	k, err := s.faultKey(region, keyRef)
	if err != nil {
		return err
	}
	if !at.After(now) {
		s.setKeyState(k, keyDisabled, now, "DisableKey")
		return nil
	}
	s.disableKeyLater(k, at)
	return nil
}
