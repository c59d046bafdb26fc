package metarec

import (
	"fmt"

	"github.com/coffer/coffer/internal/meta"
)

// publicAccessBlockRecV1 is the version of the Block Public Access record's own shape; a
// record of another version is refused rather than read as "nothing blocked".
const publicAccessBlockRecV1 = 1

// publicAccessBlockRec is the stored form of meta.PublicAccessBlock, inside a bucket record.
type publicAccessBlockRec struct {
	Version               int  `json:"v"`
	BlockPublicAcls       bool `json:"ba,omitempty"`
	IgnorePublicAcls      bool `json:"ia,omitempty"`
	BlockPublicPolicy     bool `json:"bp,omitempty"`
	RestrictPublicBuckets bool `json:"rp,omitempty"`
}

func toPublicAccessBlockRec(p *meta.PublicAccessBlock) *publicAccessBlockRec {
	if p == nil {
		return nil
	}
	return &publicAccessBlockRec{Version: publicAccessBlockRecV1, BlockPublicAcls: p.BlockPublicAcls,
		IgnorePublicAcls: p.IgnorePublicAcls, BlockPublicPolicy: p.BlockPublicPolicy, RestrictPublicBuckets: p.RestrictPublicBuckets}
}

func fromPublicAccessBlockRec(r *publicAccessBlockRec) (*meta.PublicAccessBlock, error) {
	if r == nil {
		return nil, nil
	}
	if r.Version != publicAccessBlockRecV1 {
		return nil, fmt.Errorf("%w: public access block record of version %d", ErrBadRecord, r.Version)
	}
	return &meta.PublicAccessBlock{BlockPublicAcls: r.BlockPublicAcls, IgnorePublicAcls: r.IgnorePublicAcls,
		BlockPublicPolicy: r.BlockPublicPolicy, RestrictPublicBuckets: r.RestrictPublicBuckets}, nil
}
