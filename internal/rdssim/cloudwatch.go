package rdssim

import (
	"fmt"
	"math"
	"net/http"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/aws/smithy-go/encoding/cbor"
)

// CloudWatch GetMetricData for the AWS/RDS metrics DatabaseConnections, WriteIOPS and
// WriteThroughput (bytes written per second) of DB instances (dimension DBInstanceIdentifier),
// fed by the client sessions of workload.go. WriteThroughput is the workload's changed data
// per second while sessions are open: the model writes each changed byte once, so what a
// snapshot holds equals what was written (on AWS a block written twice is stored once, so
// the metric is an upper bound of a snapshot's changes).
//
// Wire protocol: the aws-sdk-go-v2 service/cloudwatch client pinned in go.mod (v1.76.0)
// speaks Smithy RPC v2 CBOR (api_client.go: rpcv2.NewCBOR): POST
// /service/GraniteServiceVersion20100801/operation/GetMetricData, Content-Type
// application/cbor, Smithy-Protocol: rpc-v2-cbor; timestamps are CBOR tag 1 (epoch seconds);
// errors are a CBOR map with __type and message, plus X-Amzn-Query-Error "Code;Sender" for
// the query-compatible error codes.
//
// Rules (CloudWatch API reference, GetMetricData and MetricDataQuery): at most 500 queries;
// each Id starts with a lower-case letter and holds letters, digits and underscores; a query
// has exactly one of MetricStat and Expression; Period is 1, 5, 10, 30 or a multiple of 60;
// StartTime is before EndTime. RDS publishes its instance metrics once a minute (RDS user
// guide, "Amazon CloudWatch metrics for Amazon RDS"): a datapoint covers whole minutes, and a
// minute is reported once it has ended. Results are newest first unless ScanBy is
// TimestampAscending.

const cloudWatchPath = "/service/GraniteServiceVersion20100801/operation/"

func isCloudWatch(req *http.Request) bool { return strings.HasPrefix(req.URL.Path, cloudWatchPath) }

// metricPoint is a change of an instance identifier's metrics: from at on, the values hold
// (present false: no instance answers to the name, nothing is published).
type metricPoint struct {
	at          time.Time
	connections float64
	writeIOPS   float64
	writeBytes  float64 // WriteThroughput, bytes per second
	present     bool
}

func metricSeries(r *region) map[string][]metricPoint {
	return *regionExt(r, "metrics", func() *map[string][]metricPoint { m := map[string][]metricPoint{}; return &m })
}

func (s *Sim) recordMetrics(r *region, name string, at time.Time, connections, iops, bytesPerSecond float64) {
	s.appendMetric(r, name, metricPoint{at: at, connections: connections, writeIOPS: iops, writeBytes: bytesPerSecond, present: true})
}

func (s *Sim) endMetrics(r *region, name string, at time.Time) {
	s.appendMetric(r, name, metricPoint{at: at})
}

func (s *Sim) appendMetric(r *region, name string, p metricPoint) {
	m := metricSeries(r)
	list := m[name]
	if n := len(list); n > 0 {
		last := list[n-1]
		if last.connections == p.connections && last.writeIOPS == p.writeIOPS && last.writeBytes == p.writeBytes && last.present == p.present {
			return
		}
		if !p.at.After(last.at) {
			list[n-1] = p
			m[name] = list
			return
		}
	}
	m[name] = append(list, p)
}

// minuteValue is the time-weighted mean of one metric over [from, from+1 min) while present;
// ok is false when the name had no instance during the minute.
func minuteValue(series []metricPoint, from time.Time, pick func(metricPoint) float64) (float64, bool) {
	to := from.Add(time.Minute)
	var sum, presentFor float64
	for i, p := range series {
		start := p.at
		end := to
		if i+1 < len(series) {
			end = series[i+1].at
		}
		if start.Before(from) {
			start = from
		}
		if end.After(to) {
			end = to
		}
		if !end.After(start) || !p.present {
			continue
		}
		d := end.Sub(start).Seconds()
		sum += pick(p) * d
		presentFor += d
	}
	if presentFor == 0 {
		return 0, false
	}
	return sum / presentFor, true
}

var metricQueryID = regexp.MustCompile(`^[a-z][a-zA-Z0-9_]*$`)

type cwQuery struct {
	id, label, namespace, metric, stat, instance string
	period                                       int64
	returnData                                   bool
}

func cwString(m cbor.Map, k string) string {
	if v, ok := m[k].(cbor.String); ok {
		return string(v)
	}
	return ""
}

func cwError(code, querycode, msg string, status int) *apiError {
	return &apiError{Code: code, Message: msg, Status: status, QueryCode: querycode}
}

func (s *Sim) serveCloudWatch(req *http.Request, body []byte) *response {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.clock.now()
	s.settle(now)
	resp := &response{ctype: "application/cbor", date: now, reqID: s.nextRequestID()}
	fail := func(e *apiError) *response {
		resp.status = e.Status
		resp.body = cbor.Encode(cbor.Map{"__type": cbor.String(e.Code), "message": cbor.String(e.Message)})
		if e.QueryCode != "" {
			resp.queryError = e.QueryCode + ";Sender"
		}
		return resp
	}
	op := strings.TrimPrefix(req.URL.Path, cloudWatchPath)
	s.count(req, op)
	if e := s.faults.beforeCall(op, true); e != nil {
		if e.Code == "Throttling" {
			return fail(cwError("ThrottlingException", "Throttling", "Rate exceeded", 400))
		}
		return fail(e)
	}
	if req.Method != http.MethodPost || req.Header.Get("Smithy-Protocol") != "rpc-v2-cbor" {
		return fail(cwError("InvalidAction", "InvalidAction", "expected a Smithy RPC v2 CBOR POST", 400))
	}
	if op != "GetMetricData" {
		return fail(cwError("UnknownOperationException", "", "Unknown operation "+op, 404))
	}
	r, aerr := s.regionOf(req, "monitoring")
	if aerr != nil {
		return fail(aerr)
	}
	c := &call{sim: s, r: r, now: now, action: op, req: req, denyCode: "AccessDenied",
		checks: []authzCheck{{action: "cloudwatch:GetMetricData", resources: []string{"*"}}}}
	if e := s.authorize(c); e != nil {
		return fail(e)
	}
	v, err := cbor.Decode(body)
	if err != nil {
		return fail(cwError("SerializationException", "", "invalid CBOR body: "+err.Error(), 400))
	}
	in, ok := v.(cbor.Map)
	if !ok {
		return fail(cwError("SerializationException", "", "body is not a CBOR map", 400))
	}
	out, e := s.getMetricData(r, now, in)
	if e != nil {
		return fail(e)
	}
	resp.status, resp.body = http.StatusOK, cbor.Encode(out)
	return resp
}

func (s *Sim) getMetricData(r *region, now time.Time, in cbor.Map) (cbor.Map, *apiError) {
	invalid := func(format string, args ...any) *apiError {
		return cwError("InvalidParameterValueException", "InvalidParameterValue", fmt.Sprintf(format, args...), 400)
	}
	start, err1 := cbor.AsTime(in["StartTime"])
	end, err2 := cbor.AsTime(in["EndTime"])
	if in["StartTime"] == nil || in["EndTime"] == nil {
		return nil, cwError("MissingRequiredParameterException", "MissingParameter", "StartTime and EndTime are required", 400)
	}
	if err1 != nil || err2 != nil {
		return nil, invalid("StartTime and EndTime must be timestamps")
	}
	if !start.Before(end) {
		return nil, invalid("The parameter StartTime must be less than the parameter EndTime.")
	}
	qs, _ := in["MetricDataQueries"].(cbor.List)
	if len(qs) == 0 {
		return nil, cwError("MissingRequiredParameterException", "MissingParameter", "The parameter MetricDataQueries is required.", 400)
	}
	if len(qs) > 500 {
		return nil, invalid("The collection MetricDataQueries must not have a size greater than 500.")
	}
	ascending := cwString(in, "ScanBy") == "TimestampAscending"
	var queries []cwQuery
	seen := map[string]bool{}
	for _, qv := range qs {
		qm, _ := qv.(cbor.Map)
		q := cwQuery{id: cwString(qm, "Id"), label: cwString(qm, "Label"), returnData: true}
		if !metricQueryID.MatchString(q.id) {
			return nil, invalid("The value %s for parameter MetricDataQueries.member.Id is not valid: it must start with a lower-case letter and contain only letters, numbers and underscores.", q.id)
		}
		if seen[q.id] {
			return nil, invalid("The values for parameter id in MetricDataQueries are not unique.")
		}
		seen[q.id] = true
		if b, ok := qm["ReturnData"].(cbor.Bool); ok {
			q.returnData = bool(b)
		}
		ms, hasStat := qm["MetricStat"].(cbor.Map)
		if hasStat == (cwString(qm, "Expression") != "") {
			return nil, invalid("Exactly one element of the metricStat or the expression must be provided in MetricDataQueries.")
		}
		if !hasStat {
			return nil, invalid("The simulator does not evaluate metric math expressions (query %s).", q.id)
		}
		metric, _ := ms["Metric"].(cbor.Map)
		q.namespace, q.metric, q.stat = cwString(metric, "Namespace"), cwString(metric, "MetricName"), cwString(ms, "Stat")
		p, err := cbor.AsInt64(ms["Period"])
		if err != nil || p < 1 || (p >= 60 && p%60 != 0) || (p < 60 && p != 1 && p != 5 && p != 10 && p != 30) {
			return nil, invalid("The parameter MetricDataQueries.member.MetricStat.Period must be 1, 5, 10, 30 or a multiple of 60.")
		}
		q.period = max(p, 60) // RDS metrics have one-minute resolution
		switch q.stat {
		case "Average", "Sum", "Minimum", "Maximum", "SampleCount":
		default:
			return nil, invalid("The parameter MetricDataQueries.member.MetricStat.Stat %q is not supported by the simulator.", q.stat)
		}
		dims, _ := metric["Dimensions"].(cbor.List)
		for _, dv := range dims {
			dm, _ := dv.(cbor.Map)
			if cwString(dm, "Name") == "DBInstanceIdentifier" && len(dims) == 1 {
				q.instance = strings.ToLower(cwString(dm, "Value"))
			}
		}
		if q.label == "" {
			q.label = q.metric
		}
		queries = append(queries, q)
	}
	results := cbor.List{}
	for _, q := range queries {
		if !q.returnData {
			continue
		}
		times, values := cbor.List{}, cbor.List{}
		for _, pt := range s.datapoints(r, q, start, end, now) {
			times = append(times, &cbor.Tag{ID: 1, Value: cbor.Float64(float64(pt.at.Unix()))})
			values = append(values, cbor.Float64(pt.value))
		}
		if !ascending {
			reverse(times)
			reverse(values)
		}
		results = append(results, cbor.Map{"Id": cbor.String(q.id), "Label": cbor.String(q.label),
			"Timestamps": times, "Values": values, "StatusCode": cbor.String("Complete")})
	}
	return cbor.Map{"MetricDataResults": results, "Messages": cbor.List{}}, nil
}

func reverse(l cbor.List) {
	for i, j := 0, len(l)-1; i < j; i, j = i+1, j-1 {
		l[i], l[j] = l[j], l[i]
	}
}

type datapoint struct {
	at    time.Time
	value float64
}

// datapoints returns one query's datapoints, oldest first: one per Period that has ended by
// now and in which the instance name had an instance.
func (s *Sim) datapoints(r *region, q cwQuery, start, end, now time.Time) []datapoint {
	if q.namespace != "AWS/RDS" || q.instance == "" {
		return nil
	}
	var pick func(metricPoint) float64
	switch q.metric {
	case "DatabaseConnections":
		pick = func(p metricPoint) float64 { return p.connections }
	case "WriteIOPS":
		pick = func(p metricPoint) float64 { return p.writeIOPS }
	case "WriteThroughput":
		pick = func(p metricPoint) float64 { return p.writeBytes }
	default:
		return nil
	}
	series := metricSeries(r)[q.instance]
	if len(series) == 0 {
		return nil
	}
	period := time.Duration(q.period) * time.Second
	var out []datapoint
	for at := start.Truncate(period); at.Before(end); at = at.Add(period) {
		if at.Add(period).After(now) {
			break
		}
		var vals []float64
		for m := at; m.Before(at.Add(period)); m = m.Add(time.Minute) {
			if v, ok := minuteValue(series, m, pick); ok {
				vals = append(vals, v)
			}
		}
		if len(vals) == 0 {
			continue
		}
		out = append(out, datapoint{at: at, value: aggregate(q.stat, vals)})
	}
	sort.Slice(out, func(a, b int) bool { return out[a].at.Before(out[b].at) })
	return out
}

func aggregate(stat string, vals []float64) float64 {
	sum, lo, hi := 0.0, math.Inf(1), math.Inf(-1)
	for _, v := range vals {
		sum += v
		lo, hi = math.Min(lo, v), math.Max(hi, v)
	}
	switch stat {
	case "Sum":
		return sum
	case "Minimum":
		return lo
	case "Maximum":
		return hi
	case "SampleCount":
		return float64(len(vals))
	}
	return sum / float64(len(vals))
}
