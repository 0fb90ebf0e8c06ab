package service

import (
	"context"
	"errors"
	"fmt"

	"github.com/snapex/snapex/internal/atlas"
)

// BucketInput is a decoded create-bucket request.
type BucketInput struct {
	CloudProvider string
	BucketName    string
	// RoleField names the field RoleID came from (iamRoleId or roleId),
	// so errors speak the client's language.
	RoleField                string
	RoleID                   string
	ServiceURL               string
	TenantID                 string
	RequirePrivateNetworking bool
}

// CreateBucket validates and stores a new export bucket, after proving
// write access when an AccessChecker is configured.
func (s *Service) CreateBucket(ctx context.Context, groupID string, in BucketInput) (*atlas.ExportBucket, error) {
	provider, ok := atlas.ParseProvider(in.CloudProvider)
	if !ok {
		return nil, atlas.ErrInvalidProvider(in.CloudProvider)
	}
	b := &atlas.ExportBucket{
		ID: atlas.NewObjectID(s.now()), GroupID: groupID, CloudProvider: provider,
		BucketName: in.BucketName, RoleID: in.RoleID, TenantID: in.TenantID,
		RequirePrivateNetworking: in.RequirePrivateNetworking, CreatedAt: s.now(),
	}
	if provider == atlas.Azure {
		container, err := atlas.AzureContainerFromServiceURL(in.ServiceURL)
		if err != nil {
			return nil, atlas.ErrInvalidAttribute("serviceUrl", in.ServiceURL, err.Error())
		}
		if b.BucketName == "" {
			b.BucketName = container
		} else if b.BucketName != container {
			return nil, atlas.ErrInvalidAttribute("bucketName", b.BucketName,
				fmt.Sprintf("it must equal the container %q named in serviceUrl", container))
		}
		b.ServiceURL = in.ServiceURL
	}
	if provider != atlas.AWS && in.RequirePrivateNetworking {
		return nil, atlas.ErrInvalidAttribute("requirePrivateNetworking", "true", "private networking applies to AWS buckets only")
	}
	if err := atlas.ValidateBucketName(provider, b.BucketName); err != nil {
		return nil, atlas.ErrBucketNameInvalid(b.BucketName, provider, err)
	}
	role, err := s.accessRole(groupID, provider, in.RoleField, in.RoleID)
	if err != nil {
		return nil, err
	}
	s.fillProviderDetails(b, role)
	if s.Access != nil {
		if err := s.Access.CheckBucketAccess(ctx, b); err != nil {
			return nil, err
		}
	}
	if err := s.Repo.CreateBucket(ctx, b); err != nil {
		return nil, internal("create export bucket", err)
	}
	return b, nil
}

// accessRole checks that id names an access role of the given provider in
// the project, and says which kind of id is expected when it does not.
func (s *Service) accessRole(groupID string, provider atlas.Provider, field, id string) (*roleRef, error) {
	if !atlas.ValidObjectID(id) {
		return nil, atlas.ErrInvalidAttribute(field, id, "a 24-hexadecimal-character cloud provider access role id is expected")
	}
	r, ok := s.Catalog.AccessRole(groupID, id)
	if !ok {
		return nil, atlas.ErrInvalidAttribute(field, id,
			fmt.Sprintf("no %s cloud provider access role with this id exists in project %s", provider, groupID))
	}
	if r.Provider != string(provider) {
		return nil, atlas.ErrInvalidAttribute(field, id,
			fmt.Sprintf("this is %s access role; %s bucket needs the id of %s access role",
				atlas.WithArticle(r.Provider), atlas.WithArticle(string(provider)), atlas.WithArticle(string(provider))))
	}
	ref := &roleRef{}
	if r.AWS != nil {
		ref.region = r.AWS.Region
	}
	if r.Azure != nil {
		ref.tenantID = r.Azure.TenantID
	}
	return ref, nil
}

type roleRef struct{ region, tenantID string }

func (s *Service) fillProviderDetails(b *atlas.ExportBucket, r *roleRef) {
	switch b.CloudProvider {
	case atlas.AWS:
		b.Region = r.region
		if b.Region == "" {
			b.Region = "us-east-1"
		}
	case atlas.Azure:
		if b.TenantID == "" {
			b.TenantID = r.tenantID
		}
		if b.TenantID == "" {
			b.TenantID = "00000000-0000-0000-0000-000000000000"
		}
	}
}

// GetBucket returns one export bucket of a project.
func (s *Service) GetBucket(ctx context.Context, groupID, id string) (*atlas.ExportBucket, error) {
	if !atlas.ValidObjectID(id) {
		return nil, atlas.ErrInvalidPathParameter("exportBucketId", id)
	}
	b, err := s.Repo.GetBucket(ctx, groupID, id)
	if isNotFound(err) {
		return nil, atlas.ErrExportBucketNotFound(id)
	}
	if err != nil {
		return nil, internal("get export bucket", err)
	}
	return b, nil
}

// ListBuckets returns a page of buckets; provider "" means all providers.
func (s *Service) ListBuckets(ctx context.Context, groupID string, provider atlas.Provider, p atlas.Page) ([]*atlas.ExportBucket, int, error) {
	out, total, err := s.Repo.ListBuckets(ctx, groupID, provider, p)
	if err != nil {
		return nil, 0, internal("list export buckets", err)
	}
	return out, total, nil
}

// SetPrivateNetworking updates requirePrivateNetworking on an AWS bucket.
func (s *Service) SetPrivateNetworking(ctx context.Context, groupID, id string, v bool) (*atlas.ExportBucket, error) {
	b, err := s.GetBucket(ctx, groupID, id)
	if err != nil {
		return nil, err
	}
	if b.CloudProvider != atlas.AWS {
		return nil, atlas.ErrInvalidAttribute("requirePrivateNetworking", fmt.Sprint(v),
			fmt.Sprintf("export bucket %s is %s bucket; private networking applies to AWS buckets only", id, atlas.WithArticle(string(b.CloudProvider))))
	}
	b, err = s.Repo.SetBucketPrivateNetworking(ctx, groupID, id, v)
	if isNotFound(err) {
		return nil, atlas.ErrExportBucketNotFound(id)
	}
	if err != nil {
		return nil, internal("update export bucket", err)
	}
	return b, nil
}

// DeleteBucket removes a bucket unless an active export still uses it.
func (s *Service) DeleteBucket(ctx context.Context, groupID, id string) error {
	if !atlas.ValidObjectID(id) {
		return atlas.ErrInvalidPathParameter("exportBucketId", id)
	}
	err := s.Repo.DeleteBucket(ctx, groupID, id)
	var scheduled *atlas.BucketScheduled
	if errors.As(err, &scheduled) {
		return atlas.ErrBucketUsedBySchedules(id, scheduled.Clusters)
	}
	switch {
	case err == nil:
		return nil
	case isNotFound(err):
		return atlas.ErrExportBucketNotFound(id)
	case errors.Is(err, atlas.BucketInUse):
		return atlas.ErrBucketInUse(id)
	}
	return internal("delete export bucket", err)
}
