package rdssim

import (
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
)

// KMS JSON 1.1 operations (X-Amz-Target: TrentService.<Op>).

func init() {
	registerKMS("CreateKey", kmsCreateKey)
	registerKMS("DescribeKey", kmsDescribeKey)
	registerKMS("ListKeys", kmsListKeys)
	registerKMS("CreateAlias", kmsCreateAlias)
	registerKMS("DeleteAlias", kmsDeleteAlias)
	registerKMS("ListAliases", kmsListAliases)
	registerKMS("EnableKey", kmsEnableKey)
	registerKMS("DisableKey", kmsDisableKey)
	registerKMS("ScheduleKeyDeletion", kmsScheduleKeyDeletion)
	registerKMS("CancelKeyDeletion", kmsCancelKeyDeletion)
}

func kmsErr(code, format string, args ...any) *apiError {
	return &apiError{Code: code, Message: fmt.Sprintf(format, args...), Status: 400}
}

func decodeKMS(c *call, v any) *apiError {
	if err := json.Unmarshal(c.body, v); err != nil {
		return kmsErr("SerializationException", "Could not parse request body: %v", err)
	}
	return nil
}

func epoch(t time.Time) float64 { return float64(t.UnixMilli()) / 1000 }

type kmsKeyMetadata struct {
	AWSAccountId                string   `json:"AWSAccountId"`
	Arn                         string   `json:"Arn"`
	CreationDate                float64  `json:"CreationDate"`
	CustomerMasterKeySpec       string   `json:"CustomerMasterKeySpec"`
	DeletionDate                *float64 `json:"DeletionDate,omitempty"`
	Description                 string   `json:"Description"`
	Enabled                     bool     `json:"Enabled"`
	EncryptionAlgorithms        []string `json:"EncryptionAlgorithms"`
	KeyId                       string   `json:"KeyId"`
	KeyManager                  string   `json:"KeyManager"`
	KeySpec                     string   `json:"KeySpec"`
	KeyState                    string   `json:"KeyState"`
	KeyUsage                    string   `json:"KeyUsage"`
	MultiRegion                 bool     `json:"MultiRegion"`
	Origin                      string   `json:"Origin"`
	PendingDeletionWindowInDays *int32   `json:"PendingDeletionWindowInDays,omitempty"`
}

func (s *Sim) keyMetadata(k *kmsKey) kmsKeyMetadata {
	m := kmsKeyMetadata{AWSAccountId: s.account, Arn: k.arn, CreationDate: epoch(k.created),
		CustomerMasterKeySpec: k.keySpec, Description: k.description, Enabled: k.state == keyEnabled,
		EncryptionAlgorithms: []string{"SYMMETRIC_DEFAULT"}, KeyId: k.id, KeyManager: k.manager,
		KeySpec: k.keySpec, KeyState: k.state, KeyUsage: k.keyUsage, MultiRegion: k.multiRegion, Origin: "AWS_KMS"}
	if k.state == keyPendingDeletion {
		d := epoch(k.deletionDate)
		m.DeletionDate = &d
		days := k.pendingDays
		m.PendingDeletionWindowInDays = &days
	}
	return m
}

// kmsKeyArg resolves the KeyId of a KMS request (NotFoundException when unknown).
func (s *Sim) kmsKeyArg(c *call, ref string) (*kmsKey, *apiError) {
	if ref == "" {
		return nil, kmsErr("ValidationException", "1 validation error detected: Value null at 'keyId' failed to satisfy constraint: Member must not be null")
	}
	if strings.HasPrefix(ref, "arn:") {
		if _, ok := parseARN(ref); !ok {
			return nil, kmsErr("InvalidArnException", "Invalid arn %s", ref)
		}
	}
	k, _ := s.findKey(c.r, ref)
	if k == nil {
		if strings.HasPrefix(ref, "alias/") || strings.Contains(ref, ":alias/") {
			return nil, kmsErr("NotFoundException", "Alias %s is not found.", s.aliasARN(c.r.name, strings.TrimPrefix(ref, "arn:aws:kms:"+c.r.name+":"+s.account+":")))
		}
		return nil, kmsErr("NotFoundException", "Key '%s' does not exist", ref)
	}
	return k, nil
}

func kmsCreateKey(c *call) (any, error) {
	var in struct {
		Description           string
		KeyUsage              string
		KeySpec               string
		CustomerMasterKeySpec string
		MultiRegion           bool
	}
	if e := decodeKMS(c, &in); e != nil {
		return nil, e
	}
	k := c.sim.newKey(c.r, c.now, in.Description, "CUSTOMER")
	if in.KeyUsage != "" {
		k.keyUsage = in.KeyUsage
	}
	if in.KeySpec != "" {
		k.keySpec = in.KeySpec
	} else if in.CustomerMasterKeySpec != "" {
		k.keySpec = in.CustomerMasterKeySpec
	}
	k.multiRegion = in.MultiRegion
	c.sim.emit(c.now, c.r.name, "key", k.id, k.arn, k.state, "CreateKey")
	return map[string]any{"KeyMetadata": c.sim.keyMetadata(k)}, nil
}

func kmsDescribeKey(c *call) (any, error) {
	var in struct{ KeyId string }
	if e := decodeKMS(c, &in); e != nil {
		return nil, e
	}
	k, e := c.sim.kmsKeyArg(c, in.KeyId)
	if e != nil {
		return nil, e
	}
	return map[string]any{"KeyMetadata": c.sim.keyMetadata(k)}, nil
}

// kmsPage applies Limit/Marker paging (marker = index of the next item).
func kmsPage(n int, limit int, marker string) (from, to int, next string, e *apiError) {
	if limit == 0 {
		limit = 50
	}
	if limit < 1 || limit > 1000 {
		return 0, 0, "", kmsErr("ValidationException", "Limit must be between 1 and 1000")
	}
	if marker != "" {
		i, err := strconv.Atoi(marker)
		if err != nil || i < 0 || i > n {
			return 0, 0, "", kmsErr("InvalidMarkerException", "Invalid marker %s", marker)
		}
		from = i
	}
	to = from + limit
	if to >= n {
		return from, n, "", nil
	}
	return from, to, strconv.Itoa(to), nil
}

func kmsListKeys(c *call) (any, error) {
	var in struct {
		Limit  int
		Marker string
	}
	if e := decodeKMS(c, &in); e != nil {
		return nil, e
	}
	keys := make([]*kmsKey, 0, len(c.r.keys))
	for _, k := range c.r.keys {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i].id < keys[j].id })
	from, to, next, e := kmsPage(len(keys), in.Limit, in.Marker)
	if e != nil {
		return nil, e
	}
	out := []map[string]string{}
	for _, k := range keys[from:to] {
		out = append(out, map[string]string{"KeyId": k.id, "KeyArn": k.arn})
	}
	res := map[string]any{"Keys": out, "Truncated": next != ""}
	if next != "" {
		res["NextMarker"] = next
	}
	return res, nil
}

var aliasNameRE = regexp.MustCompile(`^alias/[a-zA-Z0-9/_-]{1,250}$`)

func kmsCreateAlias(c *call) (any, error) {
	var in struct{ AliasName, TargetKeyId string }
	if e := decodeKMS(c, &in); e != nil {
		return nil, e
	}
	if !aliasNameRE.MatchString(in.AliasName) {
		return nil, kmsErr("ValidationException", "1 validation error detected: Value '%s' at 'aliasName' failed to satisfy constraint: Member must satisfy regular expression pattern: ^alias/[a-zA-Z0-9/_-]+$", in.AliasName)
	}
	if strings.HasPrefix(in.AliasName, "alias/aws/") {
		return nil, kmsErr("InvalidAliasNameException", "Alias %s cannot begin with alias/aws/; that prefix is reserved for AWS managed keys.", in.AliasName)
	}
	if _, dup := c.r.aliases[in.AliasName]; dup {
		return nil, kmsErr("AlreadyExistsException", "An alias with the name %s already exists", c.sim.aliasARN(c.r.name, in.AliasName))
	}
	if strings.HasPrefix(in.TargetKeyId, "alias/") || strings.Contains(in.TargetKeyId, ":alias/") {
		return nil, kmsErr("ValidationException", "TargetKeyId must be a key id or key ARN")
	}
	k, e := c.sim.kmsKeyArg(c, in.TargetKeyId)
	if e != nil {
		return nil, e
	}
	if k.state == keyPendingDeletion {
		return nil, kmsErr("KMSInvalidStateException", "%s is pending deletion.", k.arn)
	}
	c.r.aliases[in.AliasName] = &kmsAlias{name: in.AliasName, targetID: k.id, created: c.now, updated: c.now}
	return nil, nil
}

func kmsDeleteAlias(c *call) (any, error) {
	var in struct{ AliasName string }
	if e := decodeKMS(c, &in); e != nil {
		return nil, e
	}
	if strings.HasPrefix(in.AliasName, "alias/aws/") {
		return nil, kmsErr("NotAuthorizedException", "Cannot delete AWS managed alias %s", in.AliasName)
	}
	if _, ok := c.r.aliases[in.AliasName]; !ok {
		return nil, kmsErr("NotFoundException", "Alias %s is not found.", c.sim.aliasARN(c.r.name, in.AliasName))
	}
	delete(c.r.aliases, in.AliasName)
	return nil, nil
}

func kmsListAliases(c *call) (any, error) {
	var in struct {
		KeyId  string
		Limit  int
		Marker string
	}
	if e := decodeKMS(c, &in); e != nil {
		return nil, e
	}
	var target *kmsKey
	if in.KeyId != "" {
		k, e := c.sim.kmsKeyArg(c, in.KeyId)
		if e != nil {
			return nil, e
		}
		target = k
	}
	names := make([]string, 0, len(c.r.aliases))
	for n, a := range c.r.aliases {
		if target == nil || a.targetID == target.id {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	from, to, next, e := kmsPage(len(names), in.Limit, in.Marker)
	if e != nil {
		return nil, e
	}
	out := []map[string]any{}
	for _, n := range names[from:to] {
		a := c.r.aliases[n]
		out = append(out, map[string]any{"AliasName": a.name, "AliasArn": c.sim.aliasARN(c.r.name, a.name),
			"TargetKeyId": a.targetID, "CreationDate": epoch(a.created), "LastUpdatedDate": epoch(a.updated)})
	}
	res := map[string]any{"Aliases": out, "Truncated": next != ""}
	if next != "" {
		res["NextMarker"] = next
	}
	return res, nil
}

// customerKey resolves a key that the caller may manage (not AWS-managed).
func (s *Sim) customerKey(c *call, ref, op string) (*kmsKey, *apiError) {
	k, e := s.kmsKeyArg(c, ref)
	if e != nil {
		return nil, e
	}
	if k.manager == "AWS" {
		return nil, kmsErr("AccessDeniedException", "User: arn:aws:iam::%s:root is not authorized to perform: kms:%s on resource: %s because no resource-based policy allows the kms:%s action", s.account, op, k.arn, op)
	}
	return k, nil
}

func kmsEnableKey(c *call) (any, error) {
	var in struct{ KeyId string }
	if e := decodeKMS(c, &in); e != nil {
		return nil, e
	}
	k, e := c.sim.customerKey(c, in.KeyId, "EnableKey")
	if e != nil {
		return nil, e
	}
	if k.state == keyPendingDeletion {
		return nil, kmsErr("KMSInvalidStateException", "%s is pending deletion.", k.arn)
	}
	c.sim.setKeyState(k, keyEnabled, c.now, "EnableKey")
	return nil, nil
}

func kmsDisableKey(c *call) (any, error) {
	var in struct{ KeyId string }
	if e := decodeKMS(c, &in); e != nil {
		return nil, e
	}
	k, e := c.sim.customerKey(c, in.KeyId, "DisableKey")
	if e != nil {
		return nil, e
	}
	if k.state == keyPendingDeletion {
		return nil, kmsErr("KMSInvalidStateException", "%s is pending deletion.", k.arn)
	}
	c.sim.setKeyState(k, keyDisabled, c.now, "DisableKey")
	return nil, nil
}

func kmsScheduleKeyDeletion(c *call) (any, error) {
	var in struct {
		KeyId               string
		PendingWindowInDays *int32
	}
	if e := decodeKMS(c, &in); e != nil {
		return nil, e
	}
	k, e := c.sim.customerKey(c, in.KeyId, "ScheduleKeyDeletion")
	if e != nil {
		return nil, e
	}
	days := int32(30)
	if in.PendingWindowInDays != nil {
		days = *in.PendingWindowInDays
	}
	if days < 7 || days > 30 {
		return nil, kmsErr("ValidationException", "1 validation error detected: Value '%d' at 'pendingWindowInDays' failed to satisfy constraint: Member must have value between 7 and 30", days)
	}
	if k.state == keyPendingDeletion {
		return nil, kmsErr("KMSInvalidStateException", "%s is pending deletion.", k.arn)
	}
	k.pendingDays = days
	k.deletionDate = c.now.Add(time.Duration(days) * 24 * time.Hour)
	c.sim.setKeyState(k, keyPendingDeletion, c.now, "ScheduleKeyDeletion")
	return map[string]any{"KeyId": k.arn, "DeletionDate": epoch(k.deletionDate), "KeyState": k.state,
		"PendingWindowInDays": days}, nil
}

func kmsCancelKeyDeletion(c *call) (any, error) {
	var in struct{ KeyId string }
	if e := decodeKMS(c, &in); e != nil {
		return nil, e
	}
	k, e := c.sim.customerKey(c, in.KeyId, "CancelKeyDeletion")
	if e != nil {
		return nil, e
	}
	if k.state != keyPendingDeletion {
		return nil, kmsErr("KMSInvalidStateException", "%s is not pending deletion.", k.arn)
	}
	k.deletionDate = time.Time{}
	c.sim.setKeyState(k, keyDisabled, c.now, "CancelKeyDeletion")
	return map[string]any{"KeyId": k.arn}, nil
}
