package rdssim

import (
	"fmt"
	"math/rand/v2"
	"strings"
)

// validIdentifier applies the RDS identifier rules: 1..max letters, digits and hyphens,
// starting with a letter, no two consecutive hyphens, no trailing hyphen.
func validIdentifier(id string, max int) bool {
	if len(id) < 1 || len(id) > max {
		return false
	}
	for i, c := range id {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z':
		case c >= '0' && c <= '9':
			if i == 0 {
				return false
			}
		case c == '-':
			if i == 0 || i == len(id)-1 || id[i-1] == '-' {
				return false
			}
		default:
			return false
		}
	}
	return true
}

func errBadIdentifier(param string) *apiError {
	return errInvalidValue("The parameter %s is not a valid identifier. Identifiers must begin with a letter; "+
		"must contain only ASCII letters, digits, and hyphens; and must not end with a hyphen or contain two "+
		"consecutive hyphens.", param)
}

// instanceID validates and lower-cases a DB instance identifier (1-63).
func instanceID(param, id string) (string, *apiError) {
	if !validIdentifier(id, 63) {
		return "", errBadIdentifier(param)
	}
	return strings.ToLower(id), nil
}

// snapshotID validates and lower-cases a DB snapshot identifier (1-255).
func snapshotID(param, id string) (string, *apiError) {
	if !validIdentifier(id, 255) {
		return "", errBadIdentifier(param)
	}
	return strings.ToLower(id), nil
}

// arn is a parsed arn:aws:<service>:<region>:<account>:<kind>:<id> (RDS) or
// arn:aws:kms:<region>:<account>:<kind>/<id> (KMS).
type arn struct {
	Service, Region, Account, Kind, ID string
}

func parseARN(s string) (arn, bool) {
	parts := strings.SplitN(s, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || !strings.HasPrefix(parts[1], "aws") {
		return arn{}, false
	}
	a := arn{Service: parts[2], Region: parts[3], Account: parts[4]}
	res := parts[5]
	if i := strings.IndexAny(res, ":/"); i > 0 {
		a.Kind, a.ID = res[:i], res[i+1:]
	} else {
		return arn{}, false
	}
	if a.ID == "" {
		return arn{}, false
	}
	return a, true
}

func (s *Sim) rdsARN(region, kind, id string) string {
	return fmt.Sprintf("arn:aws:rds:%s:%s:%s:%s", region, s.account, kind, id)
}

// idGen produces deterministic random identifiers (seeded, reset with the simulator).
type idGen struct{ r *rand.Rand }

func newIDGen(seed uint64) *idGen {
	return &idGen{r: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))}
}

const upperAlnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
const lowerAlnum = "abcdefghijklmnopqrstuvwxyz0123456789"

func (g *idGen) chars(set string, n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = set[g.r.IntN(len(set))]
	}
	return string(b)
}

// resourceID returns a DbiResourceId-style id: prefix + 26 upper-case letters/digits.
func (g *idGen) resourceID(prefix string) string { return prefix + g.chars(upperAlnum, 26) }

func (g *idGen) uuid() string {
	const hex = "0123456789abcdef"
	h := g.chars(hex, 32)
	return h[0:8] + "-" + h[8:12] + "-4" + h[13:16] + "-a" + h[17:20] + "-" + h[20:32]
}

func (g *idGen) hex(n int) string { return g.chars("0123456789abcdef", n) }
