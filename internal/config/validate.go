package config

import (
	"fmt"
	"net"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/snapex/snapex/internal/atlas"
)

var publicKeyPattern = regexp.MustCompile(`^[a-z]{8}$`)

// validator collects errors with the path where each was found.
type validator struct {
	errs Errors
	base string
}

func (v *validator) add(path, format string, args ...any) {
	v.errs = append(v.errs, &Error{Path: path, Msg: fmt.Sprintf(format, args...)})
}

func (v *validator) secret(path string, s *Secret, allowLiteral func(string) error) {
	if err := s.resolve(v.base, allowLiteral); err != nil {
		v.add(path, "%v", err)
	}
}

func (c *Config) validate(base string) Errors {
	v := &validator{base: base}
	if c.Listen == "" {
		c.Listen = "127.0.0.1:8080"
	}
	if _, _, err := net.SplitHostPort(c.Listen); err != nil {
		v.add("listen", "must be host:port, got %q", c.Listen)
	}
	v.secret("database", &c.Database, literalWithoutPassword)
	if c.Database.Value() == "" {
		v.add("database", "required: a SQLite file path or a postgres:// URL")
	} else if !isPostgresURL(c.Database.value) {
		c.Database.value = anchor(base, strings.TrimPrefix(c.Database.value, "sqlite:"))
	}
	if c.DataDir == "" {
		c.DataDir = "."
	}
	c.DataDir = anchor(base, c.DataDir)
	v.snapshotStorage(&c.SnapshotStorage, c.DataDir)
	v.exports(&c.Exports)
	v.snapshots(&c.Snapshots)
	v.optionalRange("memoryLimitMiB", c.MemoryLimitMiB, 64, 1<<20)
	switch rl := &c.RateLimit; {
	case rl.RequestsPerMinute == 0:
		rl.RequestsPerMinute = 1200
	case rl.RequestsPerMinute < 1 || rl.RequestsPerMinute > 1_000_000:
		v.add("rateLimit.requestsPerMinute", "must be between 1 and 1000000, got %d", rl.RequestsPerMinute)
	}
	if c.ExternalURL != "" {
		if u, err := url.Parse(c.ExternalURL); err != nil || u.Scheme == "" || u.Host == "" {
			v.add("externalURL", "must be an absolute URL, got %q", c.ExternalURL)
		}
	}
	orgs, groups := map[string]bool{}, map[string]bool{}
	for i, o := range c.Organizations {
		p := fmt.Sprintf("organizations[%d]", i)
		v.id(p+".id", o.ID, orgs, "organization")
		if o.Name == "" {
			v.add(p+".name", "an organization needs a name")
		}
		for j, pr := range o.Projects {
			v.project(fmt.Sprintf("%s.projects[%d]", p, j), pr, groups)
		}
	}
	if len(c.Organizations) == 0 {
		v.add("organizations", "at least one organization is required")
	}
	keys := map[string]bool{}
	for i, k := range c.APIKeys {
		p := fmt.Sprintf("apiKeys[%d]", i)
		if !publicKeyPattern.MatchString(k.PublicKey) {
			v.add(p+".publicKey", "must be 8 lowercase letters like Atlas public keys, got %q", k.PublicKey)
		} else if keys[k.PublicKey] {
			v.add(p+".publicKey", "duplicate public key %s", k.PublicKey)
		}
		keys[k.PublicKey] = true
		if !k.PrivateKey.IsSet() {
			v.add(p+".privateKey", "required (env:NAME or file:PATH)")
		}
		v.secret(p+".privateKey", &k.PrivateKey, nil)
		v.grants(p+".roles", k.Roles, orgs, groups)
		v.accessList(p+".accessList", k.AccessList)
	}
	for i, s := range c.ServiceAccounts {
		p := fmt.Sprintf("serviceAccounts[%d]", i)
		if s.ClientID == "" {
			v.add(p+".clientId", "required")
		} else if keys[s.ClientID] {
			v.add(p+".clientId", "duplicate client id %s", s.ClientID)
		}
		keys[s.ClientID] = true
		if !s.ClientSecret.IsSet() {
			v.add(p+".clientSecret", "required (env:NAME or file:PATH)")
		}
		v.secret(p+".clientSecret", &s.ClientSecret, nil)
		if s.TokenLifetimeSeconds == 0 {
			s.TokenLifetimeSeconds = 3600
		} else if s.TokenLifetimeSeconds < 60 || s.TokenLifetimeSeconds > 86400 {
			v.add(p+".tokenLifetimeSeconds", "must be between 60 and 86400, got %d", s.TokenLifetimeSeconds)
		}
		v.grants(p+".roles", s.Roles, orgs, groups)
		v.accessList(p+".accessList", s.AccessList)
	}
	return v.errs
}

func (v *validator) id(path, id string, seen map[string]bool, what string) {
	switch {
	case !atlas.ValidObjectID(id):
		v.add(path, "%s id must be 24 lowercase hex characters, got %q", atlas.WithArticle(what), id)
	case seen[id]:
		v.add(path, "duplicate %s id %s", what, id)
	}
	seen[id] = true
}

func (v *validator) project(p string, pr *Project, groups map[string]bool) {
	v.id(p+".id", pr.ID, groups, "project")
	if pr.Name == "" {
		v.add(p+".name", "a project needs a name")
	}
	names := map[string]bool{}
	for k, c := range pr.Clusters {
		v.cluster(fmt.Sprintf("%s.clusters[%d]", p, k), c, names)
	}
	roles := map[string]bool{}
	for k, r := range pr.AccessRoles {
		v.accessRole(fmt.Sprintf("%s.accessRoles[%d]", p, k), r, roles)
	}
}

func (v *validator) cluster(p string, c *Cluster, names map[string]bool) {
	if !atlas.ValidClusterName(c.Name) {
		v.add(p+".name", "a cluster name has 1 to 64 letters, digits and hyphens and starts with a letter or digit, got %q", c.Name)
	} else if names[c.Name] {
		v.add(p+".name", "duplicate cluster name %s", c.Name)
	}
	names[c.Name] = true
	switch c.Type {
	case "":
		c.Type = string(atlas.ReplicaSetCluster)
	case string(atlas.ReplicaSetCluster), string(atlas.ShardedCluster):
	default:
		v.add(p+".type", "must be REPLICASET or SHARDED, got %q", c.Type)
	}
	if len(c.ReplicaSets) == 0 {
		v.add(p+".replicaSets", "at least one replica set is required")
	}
	if c.Type == string(atlas.ReplicaSetCluster) && len(c.ReplicaSets) > 1 {
		v.add(p+".replicaSets", "a REPLICASET cluster has exactly one replica set; use type SHARDED for several")
	}
	rsNames := map[string]bool{}
	for i, rs := range c.ReplicaSets {
		rp := fmt.Sprintf("%s.replicaSets[%d]", p, i)
		if rs.Name == "" || strings.ContainsAny(rs.Name, "/\\.\x00 ") {
			v.add(rp+".name", "a replica set needs a name without slashes, dots or spaces, got %q", rs.Name)
		} else if rsNames[rs.Name] {
			v.add(rp+".name", "duplicate replica set name %s", rs.Name)
		}
		rsNames[rs.Name] = true
		if !rs.URI.IsSet() {
			v.add(rp+".uri", "a MongoDB connection string is required")
		}
		v.secret(rp+".uri", &rs.URI, literalWithoutPassword)
		if rs.URI.Value() != "" && !strings.HasPrefix(rs.URI.Value(), "mongodb://") && !strings.HasPrefix(rs.URI.Value(), "mongodb+srv://") {
			v.add(rp+".uri", "must start with mongodb:// or mongodb+srv://")
		}
	}
	for i, l := range c.Labels {
		if l.Key == "" {
			v.add(fmt.Sprintf("%s.labels[%d].key", p, i), "a label needs a key")
		}
	}
}

func (v *validator) accessRole(p string, r *AccessRole, seen map[string]bool) {
	v.id(p+".id", r.ID, seen, "access role")
	prov, ok := atlas.ParseProvider(r.Provider)
	if !ok {
		v.add(p+".provider", "must be AWS, AZURE or GCP, got %q", r.Provider)
	}
	n := 0
	for _, set := range []bool{r.AWS != nil, r.Azure != nil, r.GCP != nil, r.Local != nil} {
		if set {
			n++
		}
	}
	if n != 1 {
		v.add(p, "exactly one of aws, azure, gcp or local is required")
		return
	}
	switch {
	case r.Local != nil:
		if r.Local.Directory == "" {
			v.add(p+".local.directory", "required")
		}
		r.Local.Directory = anchor(v.base, r.Local.Directory)
	case r.AWS != nil:
		if ok && prov != atlas.AWS {
			v.add(p+".aws", "aws credentials on %s role", atlas.WithArticle(string(prov)))
		}
		v.secret(p+".aws.accessKeyId", &r.AWS.AccessKeyID, func(string) error { return nil })
		v.secret(p+".aws.secretAccessKey", &r.AWS.SecretAccessKey, nil)
		v.secret(p+".aws.sessionToken", &r.AWS.SessionToken, nil)
		if r.AWS.AccessKeyID.IsSet() != r.AWS.SecretAccessKey.IsSet() {
			v.add(p+".aws", "accessKeyId and secretAccessKey go together (or omit both for the default chain)")
		}
		switch r.AWS.SSE {
		case "", "AES256", "aws:kms":
		default:
			v.add(p+".aws.sse", "must be AES256 or aws:kms, got %q", r.AWS.SSE)
		}
		v.endpoint(p+".aws.endpoint", r.AWS.Endpoint)
	case r.Azure != nil:
		if ok && prov != atlas.Azure {
			v.add(p+".azure", "azure credentials on %s role", atlas.WithArticle(string(prov)))
		}
		v.secret(p+".azure.accountKey", &r.Azure.AccountKey, nil)
		v.secret(p+".azure.sasToken", &r.Azure.SASToken, nil)
		if r.Azure.AccountKey.IsSet() && r.Azure.AccountName == "" {
			v.add(p+".azure.accountName", "required with accountKey")
		}
		v.endpoint(p+".azure.endpoint", r.Azure.Endpoint)
	case r.GCP != nil:
		if ok && prov != atlas.GCP {
			v.add(p+".gcp", "gcp credentials on %s role", atlas.WithArticle(string(prov)))
		}
		v.secret(p+".gcp.credentialsJson", &r.GCP.CredentialsJSON, nil)
		v.endpoint(p+".gcp.endpoint", r.GCP.Endpoint)
	}
}

func (v *validator) endpoint(path, e string) {
	if e == "" {
		return
	}
	if u, err := url.Parse(e); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		v.add(path, "must be an http(s) URL, got %q", e)
	}
}

func (v *validator) grants(path string, gs []*RoleGrant, orgs, groups map[string]bool) {
	if len(gs) == 0 {
		v.add(path, "at least one role is required")
	}
	for i, g := range gs {
		p := fmt.Sprintf("%s[%d]", path, i)
		r := atlas.Role(g.Role)
		switch {
		case !atlas.KnownRole(r):
			v.add(p+".role", "unknown role %q", g.Role)
		case r.OrgScoped() && (g.OrgID == "" || g.GroupID != ""):
			v.add(p, "%s is an organization role: give orgId (and no groupId)", g.Role)
		case !r.OrgScoped() && (g.GroupID == "" || g.OrgID != ""):
			v.add(p, "%s is a project role: give groupId (and no orgId)", g.Role)
		case g.OrgID != "" && !orgs[g.OrgID]:
			v.add(p+".orgId", "no organization %s in this file", g.OrgID)
		case g.GroupID != "" && !groups[g.GroupID]:
			v.add(p+".groupId", "no project %s in this file", g.GroupID)
		}
	}
}

func (v *validator) accessList(path string, entries []string) {
	for i, e := range entries {
		if _, _, err := net.ParseCIDR(e); err != nil && net.ParseIP(e) == nil {
			v.add(fmt.Sprintf("%s[%d]", path, i), "must be an IP address or CIDR range, got %q", e)
		}
	}
}

func isPostgresURL(s string) bool {
	return strings.HasPrefix(s, "postgres://") || strings.HasPrefix(s, "postgresql://")
}

// anchor resolves a relative path against the config file's directory.
func anchor(base, p string) string {
	if p == "" || filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(base, p)
}

func (v *validator) snapshotStorage(s *SnapshotStorage, dataDir string) {
	n := 0
	for _, set := range []bool{s.AWS != nil, s.Azure != nil, s.GCP != nil} {
		if set {
			n++
		}
	}
	switch {
	case n == 0:
		if s.Directory == "" {
			s.Directory = "snapshots"
		}
		s.Directory = anchor(dataDir, s.Directory)
	case n > 1 || s.Directory != "":
		v.add("snapshotStorage", "give either directory or one of aws, azure, gcp")
	case s.Bucket == "":
		v.add("snapshotStorage.bucket", "required with a cloud store")
	case s.AWS != nil:
		v.secret("snapshotStorage.aws.accessKeyId", &s.AWS.AccessKeyID, func(string) error { return nil })
		v.secret("snapshotStorage.aws.secretAccessKey", &s.AWS.SecretAccessKey, nil)
		v.secret("snapshotStorage.aws.sessionToken", &s.AWS.SessionToken, nil)
		v.endpoint("snapshotStorage.aws.endpoint", s.AWS.Endpoint)
	case s.Azure != nil:
		v.secret("snapshotStorage.azure.accountKey", &s.Azure.AccountKey, nil)
		v.secret("snapshotStorage.azure.sasToken", &s.Azure.SASToken, nil)
		v.endpoint("snapshotStorage.serviceUrl", s.ServiceURL)
	case s.GCP != nil:
		v.secret("snapshotStorage.gcp.credentialsJson", &s.GCP.CredentialsJSON, nil)
		v.endpoint("snapshotStorage.gcp.endpoint", s.GCP.Endpoint)
	}
}

// optionalRange checks a tuning value that is either 0 (the default) or
// within lo..hi.
func (v *validator) optionalRange(path string, val, lo, hi int) {
	if val != 0 && (val < lo || val > hi) {
		v.add(path, "must be between %d and %d, got %d", lo, hi, val)
	}
}

func (v *validator) exports(e *ExportSettings) {
	v.optionalRange("exports.chunkMiB", e.ChunkMiB, 1, 4096)
	v.optionalRange("exports.parallelism", e.Parallelism, 1, 64)
	v.optionalRange("exports.gzipLevel", e.GzipLevel, 1, 9)
	v.optionalRange("exports.concurrency", e.Concurrency, 1, 64)
	v.optionalRange("exports.leaseSeconds", e.LeaseSeconds, 3, 3600)
	v.optionalRange("exports.partMiB", e.PartMiB, 1, 4000)
	v.optionalRange("exports.requestTimeoutSeconds", e.RequestTimeoutSeconds, 1, 3600)
	v.optionalRange("exports.maxAttempts", e.MaxAttempts, 1, 100)
	v.optionalRange("exports.retryBackoffMillis", e.RetryBackoffMillis, 1, 3600000)
	e.applyDefaults()
}

func (v *validator) snapshots(s *SnapshotSettings) {
	v.optionalRange("snapshots.parallelism", s.Parallelism, 1, 64)
	v.optionalRange("snapshots.connectTimeoutSeconds", s.ConnectTimeoutSeconds, 1, 3600)
	v.optionalRange("snapshots.serverSelectionTimeoutSeconds", s.ServerSelectionTimeoutSeconds, 1, 3600)
	v.optionalRange("snapshots.operationTimeoutSeconds", s.OperationTimeoutSeconds, 1, 86400)
	v.optionalRange("snapshots.gzipLevel", s.GzipLevel, 1, 9)
	v.optionalRange("snapshots.expiryCheckSeconds", s.ExpiryCheckSeconds, 1, 86400)
	v.optionalRange("snapshots.scheduleCheckSeconds", s.ScheduleCheckSeconds, 1, 3600)
	s.applyDefaults()
}
