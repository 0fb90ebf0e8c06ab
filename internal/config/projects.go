package config

import "github.com/snapex/snapex/internal/atlas"

// Projects lists every configured project, in the file's order.
func (c *Config) Projects() []atlas.Project {
	var out []atlas.Project
	for _, o := range c.Organizations {
		for _, p := range o.Projects {
			out = append(out, atlas.Project{ID: p.ID, OrgID: o.ID, Name: p.Name})
		}
	}
	return out
}
