package meta

// PublicAccessBlock is a bucket's S3 Block Public Access configuration: the four settings as
// S3 names them. A bucket without one (nil) blocks nothing.
type PublicAccessBlock struct {
	BlockPublicAcls       bool
	IgnorePublicAcls      bool
	BlockPublicPolicy     bool
	RestrictPublicBuckets bool
}
