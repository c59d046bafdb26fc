package meta

import "fmt"

// SplitCompletion judges o, the object a CompleteUpload would store, against parts, the
// upload's current parts, for every Store: ErrPartChanged (wrapped) if o references a blob
// that is not one of them; else the parts o does not reference, which the completion returns
// for freeing.
func SplitCompletion(parts []Part, o Object) (unused []Part, err error) {
	current := make(map[string]bool, len(parts))
	for _, p := range parts {
		current[p.Blob] = true
	}
	used := make(map[string]bool, len(o.Parts))
	for _, p := range o.Parts {
		if !current[p.Blob] {
			return nil, fmt.Errorf("%w: blob %s of part %d", ErrPartChanged, p.Blob, p.Number)
		}
		used[p.Blob] = true
	}
	for _, p := range parts {
		if !used[p.Blob] {
			unused = append(unused, p)
		}
	}
	return unused, nil
}
