package rdssim

import (
	"encoding/json"
	"net/http"
	"sort"
	"strings"
	"time"
)

// Secrets Manager JSON 1.1 operations (X-Amz-Target: secretsmanager.<Op>), as the SDK's
// service/secretsmanager client sends them. Only the reads of the secrets RDS manages are
// served: there is no CreateSecret, since only RDS creates secrets here.

const secretsTargetPrefix = "secretsmanager."

var secretsHandlers = map[string]func(c *call, sec *secret) (any, *apiError){
	"GetSecretValue": getSecretValue,
	"DescribeSecret": describeSecret,
}

func isSecretsManager(req *http.Request) bool {
	return strings.HasPrefix(req.Header.Get("X-Amz-Target"), secretsTargetPrefix)
}

func smErr(code, msg string) *apiError { return &apiError{Code: code, Message: msg, Status: 400} }

// errSecretNotFound is Secrets Manager's answer for a secret that does not exist (or was
// deleted): ResourceNotFoundException, "Secrets Manager can't find the specified secret."
func errSecretNotFound() *apiError {
	return smErr("ResourceNotFoundException", "Secrets Manager can't find the specified secret.")
}

// secretsService is Secrets Manager over awsJson1_1: every operation names one secret.
var secretsService = jsonService{target: secretsTargetPrefix, signing: "secretsmanager", internal: "InternalServiceError",
	known: func(op string) bool { _, ok := secretsHandlers[op]; return ok },
	serve: func(c *call) (any, *apiError) {
		s, r := c.sim, c.r
		var in struct{ SecretId string }
		if err := json.Unmarshal(c.body, &in); err != nil {
			return nil, smErr("SerializationException", "Could not parse request body: "+err.Error())
		}
		if in.SecretId == "" {
			return nil, smErr("ValidationException", "1 validation error detected: Value null at 'secretId' failed to satisfy constraint: Member must not be null")
		}
		sec := s.secretByID(r, in.SecretId)
		res := in.SecretId
		switch {
		case sec != nil:
			res = sec.arn
		case !strings.HasPrefix(res, "arn:"):
			res = "arn:aws:secretsmanager:" + r.name + ":" + s.account + ":secret:" + in.SecretId
		}
		// Secrets Manager refuses with AccessDeniedException (Service Authorization Reference,
		// AWS Secrets Manager: secretsmanager:GetSecretValue and secretsmanager:DescribeSecret
		// on the secret's ARN).
		c.denyCode = "AccessDeniedException"
		c.checks = []authzCheck{{action: "secretsmanager:" + c.action, resources: []string{res}}}
		if e := s.authorize(c); e != nil {
			return nil, e
		}
		if sec == nil {
			return nil, errSecretNotFound()
		}
		return secretsHandlers[c.action](c, sec)
	}}

func getSecretValue(c *call, sec *secret) (any, *apiError) {
	var in struct{ VersionId, VersionStage string }
	_ = json.Unmarshal(c.body, &in)
	n := len(sec.versions)
	v, stage := sec.versions[n-1], "AWSCURRENT"
	switch {
	case in.VersionId != "":
		found := false
		for i, cand := range sec.versions {
			if cand.id == in.VersionId {
				v, found = cand, true
				if i < n-1 {
					stage = "AWSPREVIOUS"
				}
			}
		}
		if !found {
			return nil, smErr("ResourceNotFoundException", "Secrets Manager can't find the specified secret value for VersionId: "+in.VersionId)
		}
		if in.VersionStage != "" && in.VersionStage != stage {
			return nil, smErr("InvalidParameterException", "You provided a VersionStage that is not associated to the provided VersionId.")
		}
	case in.VersionStage == "AWSPREVIOUS" && n > 1:
		v, stage = sec.versions[n-2], "AWSPREVIOUS"
	case in.VersionStage != "" && in.VersionStage != "AWSCURRENT":
		return nil, smErr("ResourceNotFoundException", "Secrets Manager can't find the specified secret value for staging label: "+in.VersionStage)
	}
	sec.read = c.now.UTC().Truncate(24 * time.Hour)
	return map[string]any{
		"ARN": sec.arn, "Name": sec.name, "VersionId": v.id, "SecretString": v.value(),
		"VersionStages": []string{stage}, "CreatedDate": epoch(v.created),
	}, nil
}

type smTag struct {
	Key   string `json:"Key"`
	Value string `json:"Value"`
}

type smRotationRules struct {
	AutomaticallyAfterDays int `json:"AutomaticallyAfterDays"`
}

type smDescribeSecret struct {
	ARN                string              `json:"ARN"`
	Name               string              `json:"Name"`
	Description        string              `json:"Description"`
	KmsKeyId           string              `json:"KmsKeyId,omitempty"`
	RotationEnabled    bool                `json:"RotationEnabled"`
	RotationRules      smRotationRules     `json:"RotationRules"`
	LastRotatedDate    float64             `json:"LastRotatedDate"`
	LastChangedDate    float64             `json:"LastChangedDate"`
	LastAccessedDate   *float64            `json:"LastAccessedDate,omitempty"`
	NextRotationDate   float64             `json:"NextRotationDate"`
	Tags               []smTag             `json:"Tags"`
	VersionIdsToStages map[string][]string `json:"VersionIdsToStages"`
	OwningService      string              `json:"OwningService"`
	CreatedDate        float64             `json:"CreatedDate"`
	PrimaryRegion      string              `json:"PrimaryRegion"`
}

func describeSecret(c *call, sec *secret) (any, *apiError) {
	out := smDescribeSecret{ARN: sec.arn, Name: sec.name, Description: sec.desc, KmsKeyId: sec.kmsKey,
		RotationEnabled: true, RotationRules: smRotationRules{AutomaticallyAfterDays: managedRotationDays},
		LastRotatedDate: epoch(sec.rotated), LastChangedDate: epoch(sec.changed),
		NextRotationDate:   epoch(sec.rotated.Add(managedRotationDays * 24 * time.Hour)),
		VersionIdsToStages: map[string][]string{}, OwningService: "rds",
		CreatedDate: epoch(sec.created), PrimaryRegion: sec.r.name}
	if !sec.read.IsZero() {
		d := epoch(sec.read)
		out.LastAccessedDate = &d
	}
	for _, t := range sec.tags {
		out.Tags = append(out.Tags, smTag(t))
	}
	sort.Slice(out.Tags, func(i, j int) bool { return out.Tags[i].Key < out.Tags[j].Key })
	for i, v := range sec.versions {
		stage := "AWSCURRENT"
		if i < len(sec.versions)-1 {
			stage = "AWSPREVIOUS"
		}
		out.VersionIdsToStages[v.id] = []string{stage}
	}
	return out, nil
}
