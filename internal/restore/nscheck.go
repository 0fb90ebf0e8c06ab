package restore

import "fmt"

// CheckNamespaceOptions compiles o as a restore would and names the
// option ("nsInclude", "nsExclude", "nsFrom", "nsTo") and the value it
// refuses, so that a server can refuse a restore job up front.
func CheckNamespaceOptions(o NamespaceOptions) (field, value string, err error) {
	for _, p := range o.Include {
		if _, err := globPattern(p); err != nil {
			return "nsInclude", p, err
		}
	}
	for _, p := range o.Exclude {
		if _, err := globPattern(p); err != nil {
			return "nsExclude", p, err
		}
	}
	if len(o.From) != len(o.To) {
		return "nsTo", fmt.Sprintf("%d entries", len(o.To)), fmt.Errorf("nsFrom has %d entries and nsTo %d: they come in pairs", len(o.From), len(o.To))
	}
	for i := range o.From {
		if _, err := newRename(o.From[i], o.To[i]); err != nil {
			return "nsFrom", o.From[i], err
		}
	}
	return "", "", nil
}
