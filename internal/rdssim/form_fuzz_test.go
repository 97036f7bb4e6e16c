package rdssim

import (
	"encoding/xml"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"
)

// FuzzQueryParser feeds arbitrary request bodies to the AWS Query parser (form.go) and to
// the whole RDS endpoint. Neither may panic; every bad input must get an AWS error
// response (4xx ErrorResponse with a code), never a 500. The committed corpus in
// testdata/fuzz/FuzzQueryParser runs as an ordinary test; extend it with
//
//	go test ./integration/rdssim -run '^$' -fuzz FuzzQueryParser -fuzztime 60s
func FuzzQueryParser(f *testing.F) {
	for _, seed := range []string{
		"Action=DescribeDBInstances&Version=2014-10-31",
		"Action=CreateDBSnapshot&Version=2014-10-31&DBInstanceIdentifier=db1&DBSnapshotIdentifier=s1&Tags.Tag.1.Key=a&Tags.Tag.1.Value=b",
		"Action=DescribeDBInstances&Version=2014-10-31&Filters.Filter.1.Name=db-instance-id&Filters.Filter.1.Values.Value.1=x",
		"Action=ModifyDBInstance&Version=2014-10-31&DBInstanceIdentifier=db1&VpcSecurityGroupIds=&ApplyImmediately=maybe",
		"Action=CreateDBInstance&Version=2014-10-31&Tags.Tag.0.Key=a&Tags.Tag.x.Value=b&AllocatedStorage=99999999999",
		"Action=AddTagsToResource&Version=2014-10-31&ResourceName=arn:aws:rds:us-east-1:123456789012:db:&Tags.Tag.1.Key=aws:x",
		"%zz=1&Action",
	} {
		f.Add(seed)
	}
	sim := New(Options{ManualClock: true, Start: time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)})
	f.Fuzz(func(t *testing.T, body string) {
		if form, err := url.ParseQuery(body); err == nil {
			exerciseParams(newParams(form))
			if strings.Contains(form.Get("Action"), "SimTestPanic") {
				return // the panic handler of panic_internal_test.go
			}
		}
		req := httptest.NewRequest(http.MethodPost, "/", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=AKIDFUZZ/20250301/us-east-1/rds/aws4_request, SignedHeaders=host, Signature=0")
		rec := httptest.NewRecorder()
		sim.ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Fatalf("body %q: HTTP %d: %s", body, rec.Code, rec.Body.String())
		}
		if rec.Code == http.StatusOK {
			return
		}
		var er struct {
			Error struct{ Type, Code, Message string }
		}
		if err := xml.Unmarshal(rec.Body.Bytes(), &er); err != nil || er.Error.Code == "" {
			t.Fatalf("body %q: HTTP %d without an AWS error response: %s", body, rec.Code, rec.Body.String())
		}
	})
}

// exerciseParams reads the parameters of a form every way the handlers do.
func exerciseParams(p *params) {
	for k := range p.v {
		p.has(k)
		p.get(k)
		p.boolp(k)
		p.intp(k)
		p.timep(k)
		p.required(k)
		name, _, _ := strings.Cut(k, ".")
		p.list(name, "member")
		p.tags(name)
		items, _ := p.structs(name, "Tag")
		for _, it := range items {
			it.get("Key")
			p.merge(it)
		}
		p.sub(name).list("EnableLogTypes", "member")
	}
	p.filters("db-instance-id", "dbi-resource-id")
	_ = p.Err()
}
