package httpapi

import (
	"net/http"
	"strings"

	"github.com/snapex/snapex/internal/atlas"
)

// v1GroupBase is the legacy, unversioned Atlas Admin API root that the
// deprecated Go client go.mongodb.org/atlas and the npm
// mongodb-atlas-api-client still call.
const v1GroupBase = "/api/atlas/v1.0/groups/{groupId}"

// legacyV1 is the only representation served under /api/atlas/v1.0.
var legacyV1 = apiVersion{date: "v1.0", legacy: true}

// v1Versions is the version list every v1.0 route carries.
var v1Versions = []apiVersion{legacyV1}

// v1Routes are the v1.0 operations snapex serves: the v2 routes of the
// same resources with the same handlers, operation ids (so the same roles)
// and rules. The v2-only PATCH of an export bucket (private networking,
// added with 2024-05-30) has no v1.0 counterpart.
var v1Routes = func() []route {
	var out []route
	for _, rt := range routes {
		if rt.op == "updateBackupExportBucket" {
			continue
		}
		rt.versions = v1Versions
		out = append(out, rt)
	}
	return out
}()

// apiRoot is the API root of the request ("/api/atlas/v1.0" or
// "/api/atlas/v2"), so links point at the surface the client called.
func apiRoot(r *http.Request) string {
	if strings.HasPrefix(r.URL.Path, "/api/atlas/v1.0/") {
		return "/api/atlas/v1.0"
	}
	return "/api/atlas/v2"
}

// legacyCluster adapts a cluster view to the v1.0 cluster model, where
// backupEnabled means the retired legacy backup and providerBackupEnabled
// means Cloud Backup, the only kind snapex offers.
func legacyCluster(v clusterView) clusterView {
	on := true
	v.BackupEnabled, v.ProviderBackupEnabled = false, &on
	return v
}

// legacyBucket adapts a bucket view to the v1.0 model, which carries only
// _id, bucketName, cloudProvider and iamRoleId (AWS buckets only).
func legacyBucket(v bucketView) bucketView {
	v.Region, v.RequirePrivateNetworking = "", nil
	return v
}

// legacyExportJob adapts an export job view to the v1.0 model: a failed
// job says why in errMsg; v1.0 has no stateReason.
func legacyExportJob(v exportJobView) exportJobView {
	if v.StateReason != nil && v.State == string(atlas.ExportFailed) {
		v.ErrMsg = v.StateReason.Message
	}
	v.StateReason = nil
	return v
}

// clusterFor renders a cluster in the call's representation, with the
// server version its snapshots observed.
func (s *Server) clusterFor(c *call, cl atlas.Cluster) clusterView {
	v := s.newClusterView(c.r, s.Service.WithObservedVersion(c.r.Context(), cl))
	if c.v.legacy {
		return legacyCluster(v)
	}
	return v
}

// bucketFor renders a bucket in the call's representation.
func bucketFor(c *call, b *atlas.ExportBucket, withRegion bool) bucketView {
	v := newBucketView(b, withRegion)
	if c.v.legacy {
		return legacyBucket(v)
	}
	return v
}

// exportJobFor renders an export job in the call's representation.
func exportJobFor(c *call, j *atlas.ExportJob) exportJobView {
	v := newExportJobView(j)
	if c.v.legacy {
		return legacyExportJob(v)
	}
	return v
}
