package atlas

import (
	"strings"
	"time"
)

// SafeKeySegment makes an organization or project name safe as one
// segment of an object key: spaces become "_" (as Atlas does) and every
// character outside AWS's "safe characters" for object keys (ASCII
// letters and digits and ! - _ . * ' ( )) is dropped, which also removes
// "/" so a name cannot add path segments. A name with nothing left, or
// made only of dots (which some stores refuse as a segment), falls back to
// fallback, the id.
func SafeKeySegment(name, fallback string) string {
	var b strings.Builder
	for _, r := range name {
		switch {
		case r == ' ':
			b.WriteByte('_')
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', strings.ContainsRune("!-_.*'()", r):
			b.WriteRune(r)
		}
	}
	s := b.String()
	if strings.Trim(s, ".") == "" {
		return fallback
	}
	return s
}

// ExportPrefixFor is ExportPrefix with the organization and project named
// by their names (made safe by SafeKeySegment) when useNames is set, as a
// schedule's useOrgAndGroupNamesInExportPrefix asks.
func ExportPrefixFor(useNames bool, org Organization, project Project, clusterName string, snapshotCreated, jobCreated time.Time) string {
	orgSeg, groupSeg := project.OrgID, project.ID
	if useNames {
		orgSeg, groupSeg = SafeKeySegment(org.Name, project.OrgID), SafeKeySegment(project.Name, project.ID)
	}
	return ExportPrefix(orgSeg, groupSeg, clusterName, snapshotCreated, jobCreated)
}
