package mysql

import (
	"slices"
	"strings"
)

// queryTables reads a Query event's Info ("use `db`; statement", or the statement alone) for
// the tables the statement may change: names, or all when it may change tables it does not
// name or is not understood. Statements that change no table's rows (transaction control,
// accounts, views, routines, triggers, new databases) give neither. A write in statement
// format (INSERT, UPDATE...) is all: a trigger or a stored function may write other tables
// and statement format logs only the statement, not what it fired; a write to a system table
// only (RDS's own bookkeeping) gives neither: no trigger can be defined on one.
func queryTables(info string) (names []string, all bool) {
	db, stmt := "", info
	if strings.HasPrefix(strings.ToLower(info), "use ") {
		toks := tokens(info[4:])
		if len(toks) < 2 || toks[1].text != ";" || !toks[0].name() {
			return nil, true
		}
		db, stmt = toks[0].text, info[4+toks[1].at+1:]
	}
	if strings.Contains(stmt, "/*!") {
		return nil, true // a conditional comment is executed: read as not understood
	}
	p := &parser{toks: tokens(stmt), db: db}
	switch p.word() {
	case "BEGIN", "COMMIT", "ROLLBACK", "XA", "SAVEPOINT", "RELEASE", "GRANT", "REVOKE", "FLUSH":
		return nil, false
	case "SET":
		if p.word() == "PASSWORD" {
			return nil, false
		}
	case "CREATE", "ALTER", "DROP":
		return p.ddl()
	case "TRUNCATE":
		p.skip("TABLE")
		return p.list(false)
	case "RENAME":
		switch p.word() {
		case "USER":
			return nil, false
		case "TABLE", "TABLES":
			return p.list(true)
		}
	case "OPTIMIZE", "ANALYZE", "REPAIR":
		p.skip("NO_WRITE_TO_BINLOG", "LOCAL")
		if p.word() == "TABLE" {
			return p.list(false)
		}
	case "INSERT", "REPLACE", "UPDATE", "DELETE":
		p.skip("LOW_PRIORITY", "DELAYED", "HIGH_PRIORITY", "IGNORE", "QUICK", "INTO", "FROM")
		if schema, _, ok := p.name(); ok && slices.Contains(systemSchemas, strings.ToLower(schema)) {
			return nil, false
		}
	}
	return nil, true
}

// ddl reads CREATE, ALTER or DROP after its first word.
func (p *parser) ddl() (names []string, all bool) {
	verb := strings.ToUpper(p.toks[0].text)
	for p.i < len(p.toks) && p.i < 16 {
		switch w := p.word(); w {
		case "TABLE":
			p.skip("IF", "NOT", "EXISTS")
			if verb == "ALTER" && p.has("EXCHANGE") {
				return nil, true // the other table is changed too
			}
			return p.list(false)
		case "INDEX":
			for p.i < len(p.toks) && p.word() != "ON" {
			}
			return p.list(false)
		case "DATABASE", "SCHEMA":
			return nil, verb == "DROP" // dropping one drops its tables
		case "VIEW", "TRIGGER", "PROCEDURE", "FUNCTION", "EVENT", "USER", "ROLE", "SERVER", "PACKAGE", "SEQUENCE":
			// no base table's rows: what a trigger or an event writes later is logged as rows
			return nil, false
		}
	}
	return nil, true
}

// parser walks a statement's tokens.
type parser struct {
	toks []token
	i    int
	db   string // the default database ("use")
}

// word is the next token upper-cased ("" at the end).
func (p *parser) word() string {
	if p.i >= len(p.toks) {
		return ""
	}
	p.i++
	return strings.ToUpper(p.toks[p.i-1].text)
}

// skip passes any of words (unquoted) at the current place.
func (p *parser) skip(words ...string) {
	for p.i < len(p.toks) && !p.toks[p.i].quoted && slices.Contains(words, strings.ToUpper(p.toks[p.i].text)) {
		p.i++
	}
}

// has says whether an unquoted word occurs in the rest of the statement.
func (p *parser) has(word string) bool {
	return slices.ContainsFunc(p.toks[p.i:], func(t token) bool { return !t.quoted && strings.EqualFold(t.text, word) })
}

// name reads [schema.]table; the schema is the default database when not given.
func (p *parser) name() (schema, table string, ok bool) {
	if p.i >= len(p.toks) || !p.toks[p.i].name() {
		return "", "", false
	}
	schema, table = p.db, p.toks[p.i].text
	p.i++
	if p.i+1 < len(p.toks) && p.toks[p.i].text == "." && !p.toks[p.i].quoted && p.toks[p.i+1].name() {
		schema, table = table, p.toks[p.i+1].text
		p.i += 2
	}
	return schema, table, schema != ""
}

// list reads name[, name...] (pairs: name TO name[, ...]); a name it cannot read is all.
func (p *parser) list(pairs bool) (names []string, all bool) {
	for {
		s, t, ok := p.name()
		if !ok {
			return nil, true
		}
		names = append(names, tableKey(s, t))
		if pairs {
			if p.word() != "TO" {
				return nil, true
			}
			s, t, ok := p.name()
			if !ok {
				return nil, true
			}
			names = append(names, tableKey(s, t))
		}
		if p.i >= len(p.toks) || p.toks[p.i].text != "," {
			return names, false
		}
		p.i++
	}
}

// tableKey is how Changes names a table: `schema`.`table`, lower-cased (a name in a statement
// may be spelt in another case than the table's; counting both spellings changed is safe).
func tableKey(schema, table string) string {
	return strings.ToLower(ident(schema) + "." + ident(table))
}

// token is a word, a `quoted` name, or one punctuation character; strings and comments are
// left out.
type token struct {
	text   string
	quoted bool
	at     int // byte offset of the token in the text
}

func (t token) name() bool {
	if t.quoted {
		return true
	}
	return t.text != "" && isWordByte(t.text[0]) && t.text != "."
}

func isWordByte(b byte) bool {
	return b == '_' || b == '$' || b >= '0' && b <= '9' || b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= 0x80
}

func tokens(s string) []token {
	var out []token
	for i := 0; i < len(s); {
		b := s[i]
		switch {
		case b == ' ' || b == '\t' || b == '\n' || b == '\r':
			i++
		case b == '`':
			var sb strings.Builder
			j := i + 1
			for j < len(s) {
				if s[j] == '`' {
					if j+1 < len(s) && s[j+1] == '`' {
						sb.WriteByte('`')
						j += 2
						continue
					}
					break
				}
				sb.WriteByte(s[j])
				j++
			}
			out = append(out, token{text: sb.String(), quoted: true, at: i})
			i = j + 1
		case b == '\'' || b == '"':
			j := i + 1
			for j < len(s) && s[j] != b {
				if s[j] == '\\' {
					j++
				}
				j++
			}
			i = j + 1
		case b == '/' && i+1 < len(s) && s[i+1] == '*':
			end := strings.Index(s[i+2:], "*/")
			if end < 0 {
				return out
			}
			i += 2 + end + 2
		case b == '#' || b == '-' && strings.HasPrefix(s[i:], "-- "):
			end := strings.IndexByte(s[i:], '\n')
			if end < 0 {
				return out
			}
			i += end
		case isWordByte(b):
			j := i
			for j < len(s) && isWordByte(s[j]) {
				j++
			}
			out = append(out, token{text: s[i:j], at: i})
			i = j
		default:
			out = append(out, token{text: s[i : i+1], at: i})
			i++
		}
	}
	return out
}
