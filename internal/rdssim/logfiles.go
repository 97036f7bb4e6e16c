package rdssim

import (
	"bytes"
	"strconv"
	"strings"
)

func init() {
	registerRDS("DescribeDBLogFiles", describeDBLogFiles)
	registerRDS("DownloadDBLogFilePortion", downloadDBLogFilePortion)
}

// Log files are served from the data plane's servers (dataplane.go); without a data plane an
// instance has none.

type xmlLogFile struct {
	LogFileName string
	LastWritten int64
	Size        int64
}

type describeDBLogFilesResult struct {
	DescribeDBLogFiles []xmlLogFile `xml:"DescribeDBLogFiles>DescribeDBLogFilesDetails"`
	Marker             string       `xml:",omitempty"`
}

// describeDBLogFiles follows the API reference (DescribeDBLogFiles): FilenameContains,
// FileLastWritten (POSIX milliseconds; files written since), FileSize (files larger than),
// MaxRecords and Marker paging; LastWritten in POSIX milliseconds.
func describeDBLogFiles(c *call) (any, error) {
	s, p, r := c.sim, c.p, c.r
	ref := p.required("DBInstanceIdentifier")
	contains := p.get("FilenameContains")
	var since, larger int64
	if v, ok := p.str("FileLastWritten"); ok {
		since, _ = strconv.ParseInt(v, 10, 64)
	}
	if v, ok := p.str("FileSize"); ok {
		larger, _ = strconv.ParseInt(v, 10, 64)
	}
	p.filters()
	max, marker := pageArgs(p)
	if err := p.Err(); err != nil {
		return nil, err
	}
	inst, e := s.instanceByRef(r, ref)
	if e != nil {
		return nil, e
	}
	var list []xmlLogFile
	if n := s.dataNodeOf(inst); n != nil {
		files, _ := n.srv.Logs()
		for _, f := range files {
			x := xmlLogFile{LogFileName: f.Name, LastWritten: f.LastWritten.UnixMilli(), Size: f.Size}
			if (contains != "" && !strings.Contains(x.LogFileName, contains)) || x.LastWritten < since || x.Size <= larger && larger > 0 {
				continue
			}
			list = append(list, x)
		}
	}
	page, next := paginate(list, func(x xmlLogFile) string { return x.LogFileName }, max, marker)
	return describeDBLogFilesResult{DescribeDBLogFiles: page, Marker: next}, nil
}

type downloadDBLogFilePortionResult struct {
	LogFileData           string
	Marker                string
	AdditionalDataPending bool
}

// Paging of DownloadDBLogFilePortion (API reference): without Marker the last lines of the
// file (NumberOfLines, default and at most 10000); with Marker "0" NumberOfLines lines from
// the beginning; with a returned Marker the lines after it. A response holds at most 1 MB and
// AdditionalDataPending says whether lines follow the returned Marker. The Marker is opaque to
// clients; here it is "0:<byte offset>" into the file.
const (
	logPortionMaxLines = 10000
	logPortionMaxBytes = 1 << 20
)

func downloadDBLogFilePortion(c *call) (any, error) {
	s, p, r := c.sim, c.p, c.r
	ref := p.required("DBInstanceIdentifier")
	name := p.required("LogFileName")
	marker, hasMarker := p.str("Marker")
	lines := logPortionMaxLines
	if v := p.intp("NumberOfLines"); v != nil {
		if *v < 1 {
			return nil, errInvalidValue("NumberOfLines must be a positive number.")
		}
		if int(*v) < lines {
			lines = int(*v)
		}
	}
	if err := p.Err(); err != nil {
		return nil, err
	}
	inst, e := s.instanceByRef(r, ref)
	if e != nil {
		return nil, e
	}
	n := s.dataNodeOf(inst)
	var data []byte
	ok := false
	if n != nil {
		data, ok = n.srv.ReadLog(name)
	}
	if !ok {
		return nil, errf("DBLogFileNotFoundFault", "DBLog File: %s, is not found on the DB instance %s.", name, inst.id)
	}
	if !hasMarker {
		// The most recent lines.
		start := len(data)
		for k := 0; k < lines && start > 0; k++ {
			j := bytes.LastIndexByte(data[:max(start-1, 0)], '\n')
			start = j + 1
		}
		if len(data)-start > logPortionMaxBytes {
			start = len(data) - logPortionMaxBytes
		}
		return downloadDBLogFilePortionResult{LogFileData: string(data[start:]), Marker: logMarker(len(data))}, nil
	}
	off := 0
	if marker != "0" {
		v, found := strings.CutPrefix(marker, "0:")
		o, err := strconv.Atoi(v)
		if !found || err != nil || o < 0 {
			return nil, errInvalidValue("Invalid marker: %s", marker)
		}
		off = min(o, len(data))
	}
	end := off
	for k := 0; k < lines && end < len(data); k++ {
		j := bytes.IndexByte(data[end:], '\n')
		if j < 0 {
			end = len(data)
			break
		}
		end += j + 1
	}
	if end-off > logPortionMaxBytes {
		end = off + logPortionMaxBytes
	}
	return downloadDBLogFilePortionResult{LogFileData: string(data[off:end]), Marker: logMarker(end),
		AdditionalDataPending: end < len(data)}, nil
}

func logMarker(off int) string { return "0:" + strconv.Itoa(off) }

// dataNodeOf returns an instance's server node when it has a server.
func (s *Sim) dataNodeOf(i *instance) *dataNode {
	if s.data == nil {
		return nil
	}
	n := s.data.nodes[i]
	if n == nil || !n.idle() || n.srv == nil {
		return nil
	}
	return n
}
