package rdssim

import (
	"crypto/sha256"
	"fmt"
)

// region holds everything that lives in one simulated region of the account.
type region struct {
	name       string
	suffix     string // the 12-character middle label of endpoints, fixed per account+region
	hostedZone string
	defaultVPC string
	defaultSG  string

	instances map[string]*instance // by current (lower-case) identifier
	reserved  map[string]*instance // identifiers taken by a pending rename
	snapshots map[string]*snapshot // by (lower-case) identifier
	keys      map[string]*kmsKey   // by key id (uuid)
	aliases   map[string]*kmsAlias // by alias name ("alias/x")

	ext map[string]any // per-region state of other resource families, see regionExt
}

// hostedZones are RDS's Route 53 hosted zone ids for instance endpoints.
var hostedZones = map[string]string{
	"us-east-1":      "Z2R2ITUGPM61AM",
	"us-east-2":      "Z2XHWR1WZ565X2",
	"us-west-1":      "Z10WI91S59XXQN",
	"us-west-2":      "Z1PVIF0B656C1W",
	"eu-west-1":      "Z29XKXDKYMONMX",
	"eu-central-1":   "Z1RLNUO7B9Q6NB",
	"ap-southeast-1": "Z2G0U3KFCY8NZ5",
	"ap-northeast-1": "Z24O6O9L7SGTNB",
}

func (s *Sim) newRegion(name string) *region {
	h := sha256.Sum256([]byte(s.account + "/" + name))
	suffix := make([]byte, 12)
	for i := range suffix {
		suffix[i] = lowerAlnum[int(h[i])%26] // letters only, like AWS's labels
	}
	hz := hostedZones[name]
	if hz == "" {
		hz = fmt.Sprintf("Z%X", h[12:19])
	}
	return &region{
		name:       name,
		suffix:     string(suffix),
		hostedZone: hz,
		defaultVPC: fmt.Sprintf("vpc-%x", h[20:24]),
		defaultSG:  fmt.Sprintf("sg-%x", h[23:32])[:20],
		instances:  map[string]*instance{},
		reserved:   map[string]*instance{},
		snapshots:  map[string]*snapshot{},
		keys:       map[string]*kmsKey{},
		aliases:    map[string]*kmsAlias{},
		ext:        map[string]any{},
	}
}

// regionExt returns the extension value stored under key, creating it with mk on first use.
// Extension state is dropped by Reset together with the region.
func regionExt[T any](r *region, key string, mk func() *T) *T {
	if v, ok := r.ext[key]; ok {
		return v.(*T)
	}
	v := mk()
	r.ext[key] = v
	return v
}

// endpoint returns the DNS name of an instance endpoint in this region.
func (r *region) endpoint(id string) string {
	return fmt.Sprintf("%s.%s.%s.rds.amazonaws.com", id, r.suffix, r.name)
}

// zones returns the availability zone names of the region.
func (r *region) zones() []string {
	return []string{r.name + "a", r.name + "b", r.name + "c"}
}
