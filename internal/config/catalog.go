package config

import "github.com/snapex/snapex/internal/atlas"

// Catalog answers lookups of the configured organizations, projects,
// clusters and access roles.
type Catalog struct {
	orgs     map[string]atlas.Organization
	projects map[string]atlas.Project
	clusters map[string][]atlas.Cluster
	roles    map[string]map[string]*AccessRole
	uris     map[[3]string]string
}

// Catalog builds the lookup tables of a validated config.
func (c *Config) Catalog() *Catalog {
	cat := &Catalog{
		orgs:     map[string]atlas.Organization{},
		projects: map[string]atlas.Project{},
		clusters: map[string][]atlas.Cluster{},
		roles:    map[string]map[string]*AccessRole{},
		uris:     map[[3]string]string{},
	}
	for _, o := range c.Organizations {
		cat.orgs[o.ID] = atlas.Organization{ID: o.ID, Name: o.Name}
		for _, p := range o.Projects {
			cat.projects[p.ID] = atlas.Project{ID: p.ID, OrgID: o.ID, Name: p.Name}
			cat.roles[p.ID] = map[string]*AccessRole{}
			for _, r := range p.AccessRoles {
				cat.roles[p.ID][r.ID] = r
			}
			for _, cl := range p.Clusters {
				cat.clusters[p.ID] = append(cat.clusters[p.ID], cat.cluster(p.ID, cl))
			}
		}
	}
	return cat
}

func (cat *Catalog) cluster(groupID string, cl *Cluster) atlas.Cluster {
	out := atlas.Cluster{GroupID: groupID, Name: cl.Name, Type: atlas.ClusterType(cl.Type), MongoDBVersion: cl.MongoDBVersion}
	for _, rs := range cl.ReplicaSets {
		out.ReplicaSets = append(out.ReplicaSets, atlas.ReplicaSet{Name: rs.Name, ConfigServer: rs.ConfigServer})
		cat.uris[[3]string{groupID, cl.Name, rs.Name}] = rs.URI.Value()
	}
	for _, l := range cl.Labels {
		out.Labels = append(out.Labels, atlas.Label{Key: l.Key, Value: l.Value})
	}
	return out
}

// Organization looks up an organization by id.
func (cat *Catalog) Organization(id string) (atlas.Organization, bool) {
	o, ok := cat.orgs[id]
	return o, ok
}

// Project looks up a project by id.
func (cat *Catalog) Project(id string) (atlas.Project, bool) {
	p, ok := cat.projects[id]
	return p, ok
}

// Clusters lists a project's clusters in config order.
func (cat *Catalog) Clusters(groupID string) []atlas.Cluster { return cat.clusters[groupID] }

// Cluster looks up a cluster by project and name.
func (cat *Catalog) Cluster(groupID, name string) (atlas.Cluster, bool) {
	for _, c := range cat.clusters[groupID] {
		if c.Name == name {
			return c, true
		}
	}
	return atlas.Cluster{}, false
}

// AccessRole looks up a project's access role (with its credentials).
func (cat *Catalog) AccessRole(groupID, id string) (*AccessRole, bool) {
	r, ok := cat.roles[groupID][id]
	return r, ok
}

// ReplicaSetURI is the resolved connection string of one replica set.
func (cat *Catalog) ReplicaSetURI(groupID, cluster, replicaSet string) string {
	return cat.uris[[3]string{groupID, cluster, replicaSet}]
}
