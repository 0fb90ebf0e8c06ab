package httpapi

import (
	"github.com/snapex/snapex/internal/atlas"
)

// exportPolicy reads a schedule PATCH's export object: Atlas's
// exportBucketId and frequencyType, and snapex's snapexOptions read by the
// same reader as the create-export body's, so errors name
// export.snapexOptions.format and so on. An explicit "snapexOptions": null
// clears the options; leaving them out keeps them (see
// atlas.SchedulePatch).
func exportPolicy(o *object, p *atlas.SchedulePatch) *atlas.Error {
	const name = "export"
	o.used[name] = true
	if !o.has(name) {
		return nil
	}
	e, aerr := subObject(o.fields[name], name)
	if aerr != nil {
		return atlas.ErrInvalidJSONAttribute(name, "an object with exportBucketId and frequencyType strings")
	}
	p.Export = &atlas.AutoExport{}
	if p.Export.ExportBucketID, aerr = e.str(name + ".exportBucketId"); aerr != nil {
		return aerr
	}
	freq, aerr := e.str(name + ".frequencyType")
	if aerr != nil {
		return aerr
	}
	p.Export.FrequencyType = atlas.Frequency(freq)
	const opts = name + ".snapexOptions"
	if raw, ok := e.fields[opts]; ok && !e.has(opts) && string(raw) == "null" {
		p.ClearExportOptions = true
	}
	if p.Export.SnapexOptions, aerr = e.exportOptions(opts); aerr != nil {
		return aerr
	}
	return e.unknown()
}
