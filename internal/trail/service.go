package trail

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/coffer/coffer/internal/audit"
	"github.com/coffer/coffer/internal/object"
)

// ServicePrincipal is the service principal CloudTrail writes into buckets as; a bucket's
// policy must allow it (see checkBucket).
const ServicePrincipal = "cloudtrail.amazonaws.com"

// Objects is what the trails need of the object service: writing into a trail's bucket on
// CloudTrail's behalf, where the bucket's policy lets it.
type Objects interface {
	AuthorizeService(ctx context.Context, a object.ServiceAccess) (object.Bucket, error)
	PutObjectAsService(ctx context.Context, service string, conditions map[string][]string, in object.PutInput) (object.Object, error)
}

// Logs is what delivery needs of the audit Writer: its finished local log files, and a way to
// finish the open one now (at StopLogging, DeleteTrail and shutdown).
type Logs interface {
	Dir() string
	LogFiles(after string) ([]audit.LogFile, error)
	Roll(ctx context.Context) error
}

// Config configures a Service.
type Config struct {
	Store   Store
	Objects Objects
	Region  string
	// Logs and Signer are the audit Writer and the digest signing key; without Logs the
	// trails deliver nothing (a server run with --no-audit).
	Logs   Logs
	Signer audit.Signer
	// Node is this node's id when several nodes share the trail store, "" for one node (an
	// embedded store). With a Node, each node delivers its own local log files with its own
	// cursor and digest chain (Trail.Deliveries), and the keys of what it delivers name it
	// (see Deliver).
	Node string
	// DigestEvery is a trail's digest period (0: one hour, as CloudTrail).
	DigestEvery time.Duration
	// SelectorTTL bounds how stale WantsData's view of the trails may be when another node
	// sharing the store changes them (0: 10 seconds); changes made through this Service apply
	// at once.
	SelectorTTL time.Duration
	Now         func() time.Time
	Logger      *slog.Logger
	// Changed, when set, is told of every change to a trail (TopicTrails, id ""), so that
	// other nodes sharing the store can Invalidate their view at once rather than within
	// SelectorTTL. It must not call back into the Service but Invalidate.
	Changed func(ctx context.Context, topic, id string)
}

// TopicTrails is the topic under which Config.Changed announces a change to the trails and
// Invalidate hears of one.
const TopicTrails = "trail"

// Service answers the CloudTrail API's trail operations and delivers the trails' log and
// digest files. It implements audit.DataSelector.
type Service struct {
	cfg     Config
	now     func() time.Time
	log     *slog.Logger
	deliver sync.Mutex // one delivery at a time: the background round, StopLogging, DeleteTrail
	sel     selectorCache
}

var _ audit.DataSelector = (*Service)(nil)

// New returns a Service.
func New(cfg Config) *Service {
	if cfg.DigestEvery <= 0 {
		cfg.DigestEvery = time.Hour
	}
	if cfg.SelectorTTL <= 0 {
		cfg.SelectorTTL = 10 * time.Second
	}
	s := &Service{cfg: cfg, now: cfg.Now, log: cfg.Logger}
	if s.now == nil {
		s.now = time.Now
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	s.sel.ttl = cfg.SelectorTTL
	return s
}

// Region is the region the trails live in (their home region).
func (s *Service) Region() string { return s.cfg.Region }

// CreateInput is a new trail's settings.
type CreateInput struct {
	Name                       string
	S3BucketName               string
	S3KeyPrefix                string
	IncludeGlobalServiceEvents *bool // nil: true
	IsMultiRegionTrail         bool
	EnableLogFileValidation    bool
	Tags                       []Tag
	// Unsupported names a setting Coffer has no counterpart for (SNS topics, CloudWatch Logs,
	// KMS encryption of log files, organization trails), "" when none is set.
	Unsupported string
}

// Create makes a trail of account. Like CloudTrail it does not start logging: StartLogging
// does. The bucket must exist and its policy must let CloudTrail write the trail's files.
func (s *Service) Create(ctx context.Context, account string, in CreateInput) (Trail, error) {
	if !ValidName(in.Name) {
		return Trail{}, invalidName(in.Name)
	}
	if in.Unsupported != "" {
		return Trail{}, errorf(ErrUnsupported, in.Unsupported+" is not supported by this server.")
	}
	if len(in.S3KeyPrefix) > 200 {
		return Trail{}, errorf(ErrInvalidPrefix, "Prefix is too long. Maximum allowed length is 200 characters.")
	}
	if !object.ValidBucketName(in.S3BucketName) {
		return Trail{}, errorf(ErrInvalidBucketName, "Bucket name is not valid: "+in.S3BucketName)
	}
	if len(in.Tags) > 50 {
		return Trail{}, errorf(ErrInvalidParameter, "The number of tags exceeds the limit of 50.")
	}
	t := Trail{
		Account: account, Name: in.Name, HomeRegion: s.cfg.Region,
		S3BucketName: in.S3BucketName, S3KeyPrefix: in.S3KeyPrefix,
		IncludeGlobalServiceEvents: in.IncludeGlobalServiceEvents == nil || *in.IncludeGlobalServiceEvents,
		IsMultiRegionTrail:         in.IsMultiRegionTrail, LogFileValidationEnabled: in.EnableLogFileValidation,
		Created: s.now().UTC(), Tags: in.Tags,
	}
	if _, err := s.cfg.Store.Get(ctx, account, in.Name); err == nil {
		return Trail{}, errorf(ErrTrailExists, "Trail "+in.Name+" already exists for customer: "+account)
	}
	if err := s.checkBucket(ctx, &t); err != nil {
		return Trail{}, err
	}
	err := s.cfg.Store.Create(ctx, t, MaxTrailsPerRegion)
	switch {
	case errors.Is(err, ErrTrailExists):
		return Trail{}, errorf(ErrTrailExists, "Trail "+in.Name+" already exists for customer: "+account)
	case errors.Is(err, ErrTooManyTrails):
		return Trail{}, errorf(ErrTooManyTrails, fmt.Sprintf("User: %s already has %d trails in %s.", account, MaxTrailsPerRegion, s.cfg.Region))
	case err != nil:
		return Trail{}, fmt.Errorf("create trail: %w", err)
	}
	return t, nil
}

// checkBucket refuses a trail whose bucket does not exist or whose policy does not let
// CloudTrail read its ACL and write the trail's files, as CreateTrail does.
func (s *Service) checkBucket(ctx context.Context, t *Trail) error {
	for _, a := range []object.ServiceAccess{
		{Action: "s3:GetBucketAcl"},
		{Action: "s3:PutObject", Key: logsRoot(t) + "/"},
	} {
		a.Service, a.Bucket, a.Conditions = ServicePrincipal, t.S3BucketName, serviceConditions(t)
		_, err := s.cfg.Objects.AuthorizeService(ctx, a)
		switch {
		case errors.Is(err, object.ErrNoSuchBucket):
			return errorf(ErrBucketDoesNotExist, "S3 bucket does not exist: "+t.S3BucketName)
		case errors.Is(err, object.ErrAccessDenied):
			return errorf(ErrInsufficientPolicy, "Incorrect S3 bucket policy is detected for bucket: "+t.S3BucketName)
		case err != nil:
			return fmt.Errorf("trail bucket %s: %w", t.S3BucketName, err)
		}
	}
	return nil
}

// serviceConditions are the condition keys of CloudTrail's writes into a trail's bucket, as
// the bucket policies AWS documents for CloudTrail test them.
func serviceConditions(t *Trail) map[string][]string {
	return map[string][]string{
		"aws:sourcearn":     {t.ARN()},
		"aws:sourceaccount": {t.Account},
		"s3:x-amz-acl":      {"bucket-owner-full-control"},
	}
}

// resolve turns a trail name or ARN given by a caller of account into the trail's name.
func (s *Service) resolve(account, nameOrARN string) (string, error) {
	if strings.HasPrefix(nameOrARN, "arn:") {
		region, acct, name, ok := ParseARN(nameOrARN)
		if !ok {
			return "", errorf(ErrInvalidARN, "Invalid trail ARN: "+nameOrARN)
		}
		if acct != account || region != s.cfg.Region {
			return "", notFound(nameOrARN, account)
		}
		return name, nil
	}
	if !ValidName(nameOrARN) {
		return "", invalidName(nameOrARN)
	}
	return nameOrARN, nil
}

func notFound(nameOrARN, account string) error {
	return errorf(ErrTrailNotFound, "Unknown trail: "+nameOrARN+" for the user: "+account)
}

func invalidName(name string) error {
	if len(name) < 3 || len(name) > 128 {
		return errorf(ErrInvalidName, fmt.Sprintf("Trail name must be between 3 and 128 characters long. Specified name length: %d characters.", len(name)))
	}
	return errorf(ErrInvalidName, "Trail name or ARN can only contain uppercase letters, lowercase letters, numbers, periods (.), hyphens (-), and underscores (_), must start and end with a letter or number, may not contain adjacent periods, hyphens or underscores, and may not be an IP address.")
}

// Get returns the trail of account named by nameOrARN.
func (s *Service) Get(ctx context.Context, account, nameOrARN string) (Trail, error) {
	name, err := s.resolve(account, nameOrARN)
	if err != nil {
		return Trail{}, err
	}
	t, err := s.cfg.Store.Get(ctx, account, name)
	if errors.Is(err, ErrTrailNotFound) {
		return Trail{}, notFound(nameOrARN, account)
	}
	return t, err
}

// Describe returns the account's trails named (by name or ARN) in names, or all of them when
// names is empty; names of no trail are left out, as DescribeTrails does.
func (s *Service) Describe(ctx context.Context, account string, names []string) ([]Trail, error) {
	all, err := s.cfg.Store.List(ctx, account)
	if err != nil || len(names) == 0 {
		return all, err
	}
	var out []Trail
	for _, t := range all {
		for _, n := range names {
			if n == t.Name || n == t.ARN() {
				out = append(out, t)
				break
			}
		}
	}
	return out, nil
}

// update applies fn to the trail of account named by nameOrARN.
func (s *Service) update(ctx context.Context, account, nameOrARN string, fn func(*Trail) error) (Trail, error) {
	name, err := s.resolve(account, nameOrARN)
	if err != nil {
		return Trail{}, err
	}
	t, err := s.cfg.Store.Update(ctx, account, name, fn)
	if errors.Is(err, ErrTrailNotFound) {
		return Trail{}, notFound(nameOrARN, account)
	}
	return t, err
}

// StartLogging starts the trail's logging (nothing when it is logging): records made from now
// on are delivered, and the next digest starts a new chain.
func (s *Service) StartLogging(ctx context.Context, account, nameOrARN string) error {
	s.deliver.Lock()
	defer s.deliver.Unlock()
	cursor, err := s.lastLogFile()
	if err != nil {
		return err
	}
	t, err := s.Get(ctx, account, nameOrARN)
	if err != nil {
		return err
	}
	if s.cfg.Node == "" && t.Delivery.Closing {
		// The final digest of the previous logging period is still owed: write it first, so
		// that no delivered file is left outside a chain.
		if err := s.deliverTrail(ctx, &t, false); err != nil {
			return err
		}
	}
	_, err = s.update(ctx, account, nameOrARN, func(t *Trail) error {
		if t.Status.IsLogging {
			return nil
		}
		now := s.now().UTC()
		t.Status.IsLogging, t.Status.StartLoggingTime = true, now
		if s.cfg.Node != "" {
			return nil // each node starts its own chain when it next delivers (see owed)
		}
		t.Delivery = Delivery{Cursor: cursor, PeriodStart: now.Truncate(time.Second), LastDigestEnd: t.Delivery.LastDigestEnd}
		return nil
	})
	s.trailsChanged(ctx)
	return err
}

// lastLogFile is the name of the newest finished local log file ("" when none, or without an
// audit Writer): a trail that starts logging starts delivering after it.
func (s *Service) lastLogFile() (string, error) {
	if s.cfg.Logs == nil {
		return "", nil
	}
	files, err := s.cfg.Logs.LogFiles("")
	if err != nil || len(files) == 0 {
		return "", err
	}
	return files[len(files)-1].Name, nil
}

// StopLogging stops the trail's logging and, before it returns, delivers the records made
// until now and the chain's final digest (CloudTrail's digest at StopLogging). A delivery
// that fails is retried by the background rounds; the trail stops logging either way.
func (s *Service) StopLogging(ctx context.Context, account, nameOrARN string) error {
	s.deliver.Lock()
	defer s.deliver.Unlock()
	t, err := s.update(ctx, account, nameOrARN, func(t *Trail) error {
		if !t.Status.IsLogging {
			return nil
		}
		t.Status.IsLogging, t.Status.StopLoggingTime = false, s.now().UTC()
		t.Delivery.Closing = s.cfg.Node == "" // a node sharing the store closes its own (see owed)
		return nil
	})
	if err != nil {
		return err
	}
	s.trailsChanged(ctx)
	if t.Delivery.Closing || s.cfg.Node != "" {
		s.closeTrail(ctx, t)
	}
	return nil
}

// closeTrail finishes the open local log file and delivers what the trail is owed up to its
// StopLoggingTime, with its final digest.
func (s *Service) closeTrail(ctx context.Context, t Trail) {
	if s.cfg.Logs == nil {
		return
	}
	if err := s.cfg.Logs.Roll(ctx); err != nil {
		s.log.Error("trail: finishing the open log file failed", "trail", t.ARN(), "err", err)
		return
	}
	if err := s.deliverOwed(ctx, &t, false); err != nil {
		s.log.Error("trail: final delivery failed; retried in the background", "trail", t.ARN(), "err", err)
	}
}

// Delete removes the trail, after delivering its records and its final digest when it was
// logging (CloudTrail's digest at DeleteTrail). With nodes sharing the store, that is this
// node's records and chain: another node's records not yet delivered (those of its open
// local log file and the finished ones of the last delivery interval) and its final digest
// are not delivered.
func (s *Service) Delete(ctx context.Context, account, nameOrARN string) error {
	if err := s.StopLogging(ctx, account, nameOrARN); err != nil {
		return err
	}
	s.deliver.Lock()
	defer s.deliver.Unlock()
	name, err := s.resolve(account, nameOrARN)
	if err != nil {
		return err
	}
	err = s.cfg.Store.Delete(ctx, account, name)
	if errors.Is(err, ErrTrailNotFound) {
		return notFound(nameOrARN, account)
	}
	s.trailsChanged(ctx)
	return err
}
