package httpapi

import (
	"fmt"
	"net/http"

	"github.com/snapex/snapex/internal/atlas"
	"github.com/snapex/snapex/internal/service"
)

// bucketView is an export bucket in any version's shape; omitempty fields
// appear only for the providers (and versions) that carry them.
type bucketView struct {
	ID                       string `json:"_id"`
	BucketName               string `json:"bucketName"`
	CloudProvider            string `json:"cloudProvider"`
	IAMRoleID                string `json:"iamRoleId,omitempty"`
	Region                   string `json:"region,omitempty"`
	RequirePrivateNetworking *bool  `json:"requirePrivateNetworking,omitempty"`
	RoleID                   string `json:"roleId,omitempty"`
	ServiceURL               string `json:"serviceUrl,omitempty"`
	TenantID                 string `json:"tenantId,omitempty"`
}

// newBucketView renders b; withRegion is false on create responses, where
// real Atlas omits region (behaviour notes §10).
func newBucketView(b *atlas.ExportBucket, withRegion bool) bucketView {
	v := bucketView{ID: b.ID, BucketName: b.BucketName, CloudProvider: string(b.CloudProvider)}
	switch b.CloudProvider {
	case atlas.AWS:
		rpn := b.RequirePrivateNetworking
		v.IAMRoleID, v.RequirePrivateNetworking = b.RoleID, &rpn
		if withRegion {
			v.Region = b.Region
		}
	case atlas.Azure:
		v.RoleID, v.ServiceURL, v.TenantID = b.RoleID, b.ServiceURL, b.TenantID
	case atlas.GCP:
		v.RoleID = b.RoleID
	}
	return v
}

// awsOnly reports whether the negotiated version can only represent AWS
// buckets (2023-01-01 and v1.0).
func awsOnly(v apiVersion) bool { return v.date == "2023-01-01" || v.legacy }

func (s *Server) listBuckets(c *call) error {
	p, aerr := parsePaging(c.r)
	if aerr != nil {
		return aerr
	}
	var provider atlas.Provider
	if awsOnly(c.v) {
		provider = atlas.AWS
	}
	list, total, err := s.Service.ListBuckets(c.r.Context(), c.project.ID, provider, p.page)
	if err != nil {
		return err
	}
	views := make([]bucketView, 0, len(list))
	for _, b := range list {
		views = append(views, bucketFor(c, b, true))
	}
	writePage(c.w, c.r, c.v, s.baseURL(c.r), p, views, len(views), total)
	return nil
}

func (s *Server) getBucket(c *call) error {
	b, err := s.Service.GetBucket(c.r.Context(), c.project.ID, c.r.PathValue("exportBucketId"))
	if err != nil {
		return err
	}
	if awsOnly(c.v) && b.CloudProvider != atlas.AWS {
		return versionCannotRepresent(b, c.v)
	}
	writeResource(c.w, c.r, c.v, http.StatusOK, bucketFor(c, b, true))
	return nil
}

func versionCannotRepresent(b *atlas.ExportBucket, v apiVersion) *atlas.Error {
	which := "version 2023-01-01"
	if v.legacy {
		which = "the v1.0 API"
	}
	return atlas.ErrVersionCannotRepresent(fmt.Sprintf("Export bucket %s is %s bucket, which %s cannot represent; request /api/atlas/v2 with application/vnd.atlas.2024-05-30+json.",
		b.ID, atlas.WithArticle(string(b.CloudProvider)), which), b.ID)
}

func (s *Server) createBucket(c *call) error {
	o, aerr := readObject(c.r)
	if aerr != nil {
		return aerr
	}
	in, aerr := decodeBucket(o, awsOnly(c.v))
	if aerr != nil {
		return aerr
	}
	b, err := s.Service.CreateBucket(c.r.Context(), c.project.ID, in)
	if err != nil {
		return err
	}
	writeResource(c.w, c.r, c.v, http.StatusOK, bucketFor(c, b, false))
	return nil
}

// decodeBucket reads a create-bucket body with the fields each provider
// takes, in the order Atlas validates them: provider first, then the
// provider's required fields, then unknown fields.
func decodeBucket(o *object, v20230101 bool) (service.BucketInput, *atlas.Error) {
	var in service.BucketInput
	var aerr *atlas.Error
	o.ignore("links", "_id")
	if in.CloudProvider, aerr = o.requiredStr("cloudProvider"); aerr != nil {
		return in, aerr
	}
	p, ok := atlas.ParseProvider(in.CloudProvider)
	if !ok || (v20230101 && p != atlas.AWS) {
		return in, atlas.ErrInvalidProvider(in.CloudProvider)
	}
	switch p {
	case atlas.AWS:
		in.RoleField = "iamRoleId"
		if in.BucketName, aerr = o.requiredStr("bucketName"); aerr != nil {
			return in, aerr
		}
		if in.RoleID, aerr = o.requiredStr("iamRoleId"); aerr != nil {
			return in, aerr
		}
		if in.RequirePrivateNetworking, _, aerr = o.boolean("requirePrivateNetworking"); aerr != nil {
			return in, aerr
		}
	case atlas.Azure:
		in.RoleField = "roleId"
		if in.RoleID, aerr = o.requiredStr("roleId"); aerr != nil {
			return in, aerr
		}
		if in.ServiceURL, aerr = o.requiredStr("serviceUrl"); aerr != nil {
			return in, aerr
		}
		if in.BucketName, aerr = o.str("bucketName"); aerr != nil {
			return in, aerr
		}
		if in.TenantID, aerr = o.str("tenantId"); aerr != nil {
			return in, aerr
		}
	case atlas.GCP:
		in.RoleField = "roleId"
		if in.BucketName, aerr = o.requiredStr("bucketName"); aerr != nil {
			return in, aerr
		}
		if in.RoleID, aerr = o.requiredStr("roleId"); aerr != nil {
			return in, aerr
		}
	}
	return in, o.unknown()
}

func (s *Server) deleteBucket(c *call) error {
	if err := s.Service.DeleteBucket(c.r.Context(), c.project.ID, c.r.PathValue("exportBucketId")); err != nil {
		return err
	}
	writeNoContent(c.w, c.r, c.v)
	return nil
}

func (s *Server) patchBucket(c *call) error {
	id := c.r.PathValue("exportBucketId")
	if !atlas.ValidObjectID(id) {
		return atlas.ErrInvalidPathParameter("exportBucketId", id)
	}
	o, aerr := readObject(c.r)
	if aerr != nil {
		return aerr
	}
	rpn, present, aerr := o.boolean("requirePrivateNetworking")
	if aerr != nil {
		return aerr
	}
	if !present {
		return atlas.ErrMissingAttribute("requirePrivateNetworking")
	}
	if aerr := o.unknown(); aerr != nil {
		return aerr
	}
	b, err := s.Service.SetPrivateNetworking(c.r.Context(), c.project.ID, id, rpn)
	if err != nil {
		return err
	}
	writeResource(c.w, c.r, c.v, http.StatusOK, bucketFor(c, b, true))
	return nil
}
