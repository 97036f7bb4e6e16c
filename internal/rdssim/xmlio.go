package rdssim

import (
	"bytes"
	"encoding/xml"
	"time"
)

const rdsXMLNS = "http://rds.amazonaws.com/doc/2014-10-31/"

// xmlTime formats a timestamp the way RDS does.
func xmlTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02T15:04:05.000Z")
}

// rdsResultBody encodes <ActionResponse><ActionResult>result</ActionResult><ResponseMetadata>.
func rdsResultBody(action, requestID string, result any) ([]byte, error) {
	var buf bytes.Buffer
	enc := xml.NewEncoder(&buf)
	root := xml.StartElement{Name: xml.Name{Local: action + "Response"},
		Attr: []xml.Attr{{Name: xml.Name{Local: "xmlns"}, Value: rdsXMLNS}}}
	resEl := xml.StartElement{Name: xml.Name{Local: action + "Result"}}
	if err := enc.EncodeToken(root); err != nil {
		return nil, err
	}
	if result == nil {
		if err := enc.EncodeToken(resEl); err != nil {
			return nil, err
		}
		if err := enc.EncodeToken(resEl.End()); err != nil {
			return nil, err
		}
	} else if err := enc.EncodeElement(result, resEl); err != nil {
		return nil, err
	}
	meta := struct {
		RequestID string `xml:"RequestId"`
	}{requestID}
	if err := enc.EncodeElement(meta, xml.StartElement{Name: xml.Name{Local: "ResponseMetadata"}}); err != nil {
		return nil, err
	}
	if err := enc.EncodeToken(root.End()); err != nil {
		return nil, err
	}
	if err := enc.Flush(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

type xmlErrorResponse struct {
	XMLName   xml.Name `xml:"ErrorResponse"`
	Xmlns     string   `xml:"xmlns,attr"`
	Error     xmlError `xml:"Error"`
	RequestID string   `xml:"RequestId"`
}

type xmlError struct {
	Type    string `xml:"Type"`
	Code    string `xml:"Code"`
	Message string `xml:"Message"`
}

// rdsErrorBody encodes an RDS ErrorResponse.
func rdsErrorBody(requestID string, e *apiError) []byte {
	typ := "Sender"
	if e.Status >= 500 {
		typ = "Receiver"
	}
	body, _ := xml.Marshal(xmlErrorResponse{Xmlns: rdsXMLNS, RequestID: requestID,
		Error: xmlError{Type: typ, Code: e.Code, Message: e.Message}})
	return body
}
