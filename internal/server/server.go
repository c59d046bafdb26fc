// Package server assembles Coffer: the embedded stores, the services and the wire layers behind
// one HTTPS endpoint, and runs it until it is shut down.
package server

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/coffer/coffer/internal/audit"
	"github.com/coffer/coffer/internal/backend"
	"github.com/coffer/coffer/internal/boltfile"
	"github.com/coffer/coffer/internal/cluster"
	"github.com/coffer/coffer/internal/iam"
	"github.com/coffer/coffer/internal/iamapi"
	"github.com/coffer/coffer/internal/kms"
	"github.com/coffer/coffer/internal/kmsapi"
	"github.com/coffer/coffer/internal/object"
	"github.com/coffer/coffer/internal/requestinfo"
	"github.com/coffer/coffer/internal/s3api"
	"github.com/coffer/coffer/internal/server/objectkeys"
	"github.com/coffer/coffer/internal/sigv4"
	"github.com/coffer/coffer/internal/trail"
)

// Config is what `coffer server` is told.
type Config struct {
	// Dir is the data directory: the embedded stores (unless Stores is set), and what is this
	// node's own whatever the stores: its TLS certificate, credentials.json, audit trail.
	Dir string
	// Stores are the stores to run on (backend.OpenShared for several nodes sharing
	// PostgreSQL and a blob store); nil opens the embedded ones under Dir. Start takes them
	// over: the server closes them when it stops or fails to start.
	Stores     *backend.Stores
	Listen     string // HTTPS address
	ListenHTTP string // optional plain-HTTP address, "" for none
	// AdminListen is an optional plain-HTTP address for pprof and runtime metrics, "" for
	// none. Bind it to loopback: it has no authentication.
	AdminListen string
	TLSCert     string // certificate and key files; both empty to use DIR/tls
	TLSKey      string
	Region      string
	AccessKey   string // root credentials from the environment; empty to use or make DIR's
	SecretKey   string
	Domains     []string // virtual-host-style base domains
	// BodyIdleTimeout cuts connections whose body makes no progress this long (0: 2 minutes).
	BodyIdleTimeout time.Duration
	// KMSRootKeyFile holds the KMS root key (32 bytes); "" means DIR/kms/root.key, generated
	// on first start.
	KMSRootKeyFile string
	// KMSRootHSM, when set, keeps the KMS root key wrapped by a key in an HSM (cmd/coffer's
	// --kms-root-pkcs11), in DIR/kms/root.key.wrapped; KMSRootKeyFile must then be "".
	KMSRootHSM *kms.RootHSM
	// HSMs are the HSMs KMS custom key stores may use (cmd/coffer's --hsm); none when nil.
	HSMs kms.HSMs
	// KMSManagedRotationDays is the rotation period of AWS managed keys (0: 365).
	KMSManagedRotationDays int
	// SSES3RotationDays is the rotation period of the SSE-S3 service key (0: 365).
	SSES3RotationDays int
	// AllowSSECOnNewBuckets makes new buckets accept SSE-C writes; by default they block
	// them until PutBucketEncryption unblocks SSE-C, as S3 does since April 2026.
	AllowSSECOnNewBuckets bool
	Logger                *slog.Logger
	// KMSNow is the KMS clock (key deletion dates, rotations, imported material expiry);
	// time.Now when nil. Tests move it to carry out scheduled jobs with RunKMSJobs.
	KMSNow func() time.Time
	// IAMNow is the clock of IAM and STS (creation dates, role session expiry); time.Now when
	// nil. Tests move it to expire session credentials.
	IAMNow func() time.Time
	// NoAudit switches the audit trail off (audit.Discard). AuditRollEvery, AuditRollSize and
	// AuditDigestEvery set when log files are finished and digests written (0: audit.Config's
	// defaults).
	NoAudit          bool
	AuditRollEvery   time.Duration
	AuditRollSize    int64
	AuditDigestEvery time.Duration
	// AuditSyncEvery is the audit journal's flush policy (audit.Config.SyncEvery): 0 flushes
	// every record before its request is answered; a positive window writes it before the
	// answer (it survives kill -9) and flushes within the window.
	AuditSyncEvery time.Duration
	// TrailDeliverEvery is how often the CloudTrail trails deliver their log files and, when
	// their period (AuditDigestEvery) is over, digests (0: one minute).
	TrailDeliverEvery time.Duration
}

// Server is a running Coffer.
type Server struct {
	URL      string // https://host:port of the HTTPS listener
	HTTPURL  string // http://host:port of the plain listener, "" if none
	AdminURL string // http://host:port of the admin listener, "" if none
	CertFile string
	// Identity is the default account and the root key of this run; its GeneratedSecret, set
	// only on the first start, is to be shown once.
	Identity Identity

	stores *backend.Stores
	// storesDescribe is stores.Describe, kept after the stores close.
	storesDescribe string
	servers        []*http.Server
	done           chan error
	log            *slog.Logger
	stopJobs       context.CancelFunc // stops the background jobs (KMS scheduler, orphan sweep)
	jobs           sync.WaitGroup
	swept          chan struct{}
	keys           *objectkeys.Keys
	kms            *kms.Service
	shred          *kms.FileShredder // the KMS's shred slots; nil until openKMS
	iam            *iam.Service
	audit          audit.Recorder // what the wire layers record through
	auditLog       *audit.Writer  // nil with NoAudit
	// auditSigner signs the audit digests, the trails' too; trails are CloudTrail's trails.
	auditSigner audit.Signer
	auditSealer audit.Sealer // seals auditSigner's private key: what tells the server's own keys from planted ones
	trails      *trail.Service
	coord       cluster.Coordinator // the nodes sharing the stores (cluster.go)
	metrics     *serverMetrics      // what the admin listener's /metrics shows
	nodeID      string              // see loadNodeID
}

// Start opens the stores under cfg.Dir and begins serving. It returns once the listeners are
// bound, so a caller may use URL at once.
func Start(cfg Config) (*Server, error) {
	s, err := start(cfg)
	if err != nil && s == nil && cfg.Stores != nil {
		cfg.Stores.Close() // refused before the server took them over
	}
	return s, err
}

func start(cfg Config) (*Server, error) {
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	log = slog.New(requestinfo.Handler(log.Handler())) // request ids in what requests log
	if cfg.Region == "" {
		cfg.Region = "us-east-1"
	}
	if err := os.MkdirAll(cfg.Dir, 0o700); err != nil {
		return nil, fmt.Errorf("data directory %s: %w", cfg.Dir, err)
	}
	if err := checkWritable(cfg.Dir); err != nil {
		return nil, err
	}
	root, err := loadRootSetup(cfg)
	if err != nil {
		return nil, err
	}
	certFile, keyFile := cfg.TLSCert, cfg.TLSKey
	if (certFile == "") != (keyFile == "") {
		return nil, errors.New("give both --tls-cert and --tls-key, or neither")
	}
	if certFile == "" {
		if certFile, keyFile, err = EnsureCert(cfg.Dir); err != nil {
			return nil, fmt.Errorf("certificate: %w", err)
		}
	}
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, fmt.Errorf("certificate: %w", err)
	}
	nodeID, err := loadNodeID(cfg.Dir)
	if err != nil {
		return nil, err
	}
	stores := cfg.Stores
	if stores != nil && stores.Shared {
		log = log.With("node", nodeID) // which node of several said it
	}
	if stores != nil && stores.Shared && cfg.KMSRootKeyFile == "" && cfg.KMSRootHSM == nil {
		return nil, errors.New("nodes sharing stores need one KMS root key: give each the same --kms-root-key-file (32 bytes, made on the first start if missing: copy it to the other nodes) or --kms-root-pkcs11")
	}
	if stores == nil {
		if stores, err = backend.OpenEmbedded(cfg.Dir); err != nil {
			return nil, err
		}
	}
	coord := stores.Coordinator
	if coord == nil {
		coord = cluster.NewLocal()
	}
	s := &Server{CertFile: certFile, stores: stores, storesDescribe: stores.Describe, done: make(chan error, 2), log: log, swept: make(chan struct{}), coord: coord, metrics: newServerMetrics(), nodeID: nodeID}
	jobs, stop := context.WithCancel(context.Background())
	s.stopJobs = stop
	lns, err := bindListeners(cfg)
	if err != nil {
		s.closeStores()
		return nil, err
	}
	// The services are built, and a first start's root key made, only once every address is
	// bound: a start refused for a busy port must not make a key whose secret nobody sees.
	h, err := s.handler(jobs, cfg, root)
	if err != nil {
		lns.close()
		s.closeStores()
		return nil, err
	}
	tlsCfg := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	s.URL = "https://" + lns.https.Addr().String()
	s.serve(tls.NewListener(lns.https, tlsCfg), h)
	if lns.http != nil {
		s.HTTPURL = "http://" + lns.http.Addr().String()
		s.serve(lns.http, h)
	}
	if lns.admin != nil {
		s.AdminURL = "http://" + lns.admin.Addr().String()
		s.serve(lns.admin, AdminHandler(Admin{Metrics: s.metrics.reg.Handler(), Ready: s.readyChecks(), Logger: s.log}))
	}
	return s, nil
}

// handler builds the services and the front router, and settles the root key; background jobs
// live as long as ctx.
func (s *Server) handler(ctx context.Context, cfg Config, root rootSetup) (http.Handler, error) {
	st := s.stores
	keySvc, err := s.openKMS(ctx, cfg, st)
	if err != nil {
		return nil, err
	}
	if err := settleSharedAccount(ctx, st, &root, cfg.Dir); err != nil {
		return nil, err
	}
	iamCfg := root.iamConfig()
	iamCfg.Now, iamCfg.Logger, iamCfg.Changed = cfg.IAMNow, s.log, s.published
	// The identities are read at start outside any request: a damaged record must refuse the
	// start (as boltfile.Open does for damaged pages), never crash it.
	err = boltfile.Safely(func() error {
		var err error
		if s.iam, err = openIAM(ctx, st.IAM, keySvc, iamCfg); err != nil {
			return err
		}
		s.Identity, err = settleRootKey(ctx, s.iam, cfg.Dir, root, s.log)
		return err
	})
	if errors.Is(err, boltfile.ErrDamaged) {
		return nil, fmt.Errorf("identities in meta.db: %w", err)
	}
	if err != nil {
		return nil, err
	}
	s.startSessionSweep(ctx)
	if err := s.openAudit(ctx, cfg, keySvc); err != nil {
		return nil, err
	}
	// The scheduler starts once the audit trail is open: its rotations and deletions are
	// recorded.
	s.startKMSJobs(ctx, keySvc)
	lookup := credentialLookup(s.iam)
	kmsHandler, err := kmsapi.New(kmsapi.Config{Service: keySvc, Logger: s.log, Directory: s.iam, Audit: s.audit,
		Verifier: &sigv4.Verifier{Region: cfg.Region, Service: "kms", Lookup: lookup}})
	if err != nil {
		return nil, errors.Join(err, s.closeAudit(ctx))
	}
	domains := append([]string{"localhost"}, cfg.Domains...)
	s.kms, s.keys = keySvc, objectkeys.New(keySvc, s.audit)
	s.keys.Observe(s.metrics.s3KMSCall)
	objects := object.New(object.Config{Meta: timedMeta{st.Meta, s.metrics}, Blobs: timedBlobs{st.Blobs, s.metrics}, Keys: s.keys, Logger: s.log,
		AllowSSECOnNewBuckets: cfg.AllowSSECOnNewBuckets, Shared: st.Shared})
	if st.Shared {
		// Not the start-up sweep: other nodes' writes in flight have intents older than
		// this start. The shared sweep goes by age instead, and frees are deferred.
		s.startSharedSweep(ctx, objects, st.Blobs, 0)
	} else {
		s.startSweep(ctx, objects)
	}
	s.metrics.watchCaches(s.iam, keySvc, objects)
	s3 := s3api.New(s3api.Config{
		Objects:         objects,
		Verifier:        &sigv4.Verifier{Region: cfg.Region, Service: "s3", Lookup: lookup},
		Directory:       s.iam,
		Region:          cfg.Region,
		Domains:         domains,
		Logger:          s.log,
		BodyIdleTimeout: cfg.BodyIdleTimeout,
		Audit:           s.audit,
	})
	iamHandler := iamapi.New(iamapi.Config{Service: s.iam, Region: cfg.Region, Logger: s.log, Lookup: lookup, Audit: s.audit})
	cloudtrail, err := s.openTrails(ctx, cfg, objects, lookup)
	if err != nil {
		return nil, errors.Join(err, s.closeAudit(ctx))
	}
	s.coordinate(ctx, s.coord, keySvc, s.iam, s.trails)
	return &front{s3: s3, kms: kmsHandler, iam: iamHandler, cloudtrail: cloudtrail, log: s.log, metrics: s.metrics}, nil
}

// startSweep deletes, in the background, the blobs of writes that were interrupted before this
// start (see object.SweepInterrupted): the only blobs it may delete.
func (s *Server) startSweep(ctx context.Context, objects *object.Service) {
	started := time.Now()
	s.jobs.Go(func() {
		defer close(s.swept)
		var n int
		err := boltfile.Safely(func() error {
			var err error
			n, err = objects.SweepInterrupted(ctx, started)
			return err
		})
		switch {
		case err != nil && ctx.Err() == nil:
			s.log.Error("sweeping the blobs of interrupted writes failed; nothing more is deleted until the next start", "err", err)
		case n > 0:
			s.log.Info("deleted blobs left by interrupted writes", "count", n)
		}
	})
}

// StoresDescription says where the server's stores are (embedded under its data directory, or
// shared), without secrets.
func (s *Server) StoresDescription() string { return s.storesDescribe }

// Swept is closed once the start-up sweep of orphan blobs has finished.
func (s *Server) Swept() <-chan struct{} { return s.swept }

// openKMS opens the key service on the stores and checks its root key.
func (s *Server) openKMS(ctx context.Context, cfg Config, st *backend.Stores) (*kms.Service, error) {
	store := st.KMS
	root, err := openKMSRoot(ctx, cfg, store)
	if err != nil {
		return nil, err
	}
	// The shred keys of key material (internal/kms/SPEC.md §8): shared stores keep them;
	// beside the embedded ones the server owns the file.
	var shredder kms.Shredder
	if st.Shredder != nil {
		if shredder, err = st.Shredder(ctx, root); err != nil {
			return nil, fmt.Errorf("kms: shred slots: %w", err)
		}
	} else {
		if err := os.MkdirAll(filepath.Join(cfg.Dir, "kms"), 0o700); err != nil {
			return nil, fmt.Errorf("kms: %w", err)
		}
		if err := syncDir(cfg.Dir); err != nil { // the new kms/ entry outlives a crash
			return nil, fmt.Errorf("kms: %w", err)
		}
		if s.shred, err = kms.OpenFileShredder(filepath.Join(cfg.Dir, "kms", "shred.slots"), root); err != nil {
			return nil, err
		}
		shredder = s.shred
	}
	svc, err := kms.New(kms.Config{Store: s.metrics.timeKMSStore(store), Root: root, Region: cfg.Region, ManagedRotationDays: cfg.KMSManagedRotationDays,
		OwnedRotationDays: cfg.SSES3RotationDays, Logger: s.log, Now: cfg.KMSNow, Audit: laterRecorder{s}, HSMs: cfg.HSMs,
		Principals: laterPrincipals{s}, Shredder: shredder, CacheTTL: s.cacheTTL(), Changed: s.published, Lease: s.coord.TryLease})
	if err != nil {
		return nil, err
	}
	if err := svc.CheckRoot(ctx); err != nil {
		return nil, err
	}
	if err := svc.UpgradeRecords(ctx); err != nil {
		return nil, err
	}
	if st.Shared {
		// Other nodes may be between a slot's creation and the record naming it: a slot
		// leaked by a crash there only takes a row.
		return svc, nil
	}
	// Before serving: no record naming a new slot is being written.
	n, err := svc.SweepShredSlots(ctx)
	switch {
	case err != nil:
		s.log.Error("kms: shred slots not swept", "err", err)
	case n > 0:
		s.log.Info("kms: destroyed shred slots no key names (left by a crash)", "slots", n)
	}
	return svc, nil
}

// startKMSJobs runs the KMS scheduler (deletions, rotations, expiry of imported material) and
// the flush of key usage.
func (s *Server) startKMSJobs(ctx context.Context, svc *kms.Service) {
	s.jobs.Go(func() {
		if err := boltfile.Safely(func() error { svc.Run(ctx, time.Minute); return nil }); err != nil {
			s.log.Error("kms scheduler stopped: reading the store failed", "err", err)
		}
	})
	s.jobs.Go(func() {
		if err := boltfile.Safely(func() error { svc.RunUsageFlush(ctx, kmsUsageFlushEvery); return nil }); err != nil {
			s.log.Error("kms usage flush stopped: writing the store failed", "err", err)
		}
	})
}

// kmsUsageFlushEvery bounds how long the last use of a key (GetKeyLastUsage) stays only in
// memory: a crash loses at most this much of it; Shutdown flushes it all.
const kmsUsageFlushEvery = 5 * time.Second

// listeners are a server's bound addresses; http and admin are nil when not configured.
type listeners struct{ https, http, admin net.Listener }

// bindListeners binds the HTTPS address and the optional plain-HTTP and admin ones.
func bindListeners(cfg Config) (listeners, error) {
	var l listeners
	var errs []error
	bind := func(addr string) net.Listener {
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			errs = append(errs, fmt.Errorf("listen %s: %w", addr, err))
		}
		return ln
	}
	l.https = bind(cfg.Listen)
	if cfg.ListenHTTP != "" {
		l.http = bind(cfg.ListenHTTP)
	}
	if cfg.AdminListen != "" {
		l.admin = bind(cfg.AdminListen)
	}
	if len(errs) > 0 {
		l.close()
		return listeners{}, errors.Join(errs...)
	}
	return l, nil
}

func (l listeners) close() {
	for _, ln := range []net.Listener{l.https, l.http, l.admin} {
		if ln != nil {
			ln.Close()
		}
	}
}

func (s *Server) serve(ln net.Listener, h http.Handler) {
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		// HTTP/2 is left off: S3 clients speak HTTP/1.1, and one TCP stream per transfer
		// keeps large uploads fast.
		TLSNextProto: map[string]func(*http.Server, *tls.Conn, http.Handler){},
		ErrorLog:     slog.NewLogLogger(s.log.Handler(), slog.LevelDebug),
	}
	s.servers = append(s.servers, srv)
	go func() {
		err := srv.Serve(ln)
		if errors.Is(err, http.ErrServerClosed) {
			err = nil
		}
		s.done <- err
	}()
}

// Shutdown stops accepting requests, waits for those in flight (until ctx ends), closes the
// audit trail (its final digest) and the stores.
func (s *Server) Shutdown(ctx context.Context) error {
	var errs []error
	for _, srv := range s.servers {
		errs = append(errs, srv.Shutdown(ctx))
	}
	s.stopBackground() // background jobs record too: they stop before the trail closes
	// The trails get their records and a digest of their open period before the Writer
	// writes its final digest and closes.
	errs = append(errs, s.flushTrails(ctx), s.closeAudit(ctx), s.closeStores())
	return errors.Join(errs...)
}

// closeStores stops the background jobs, then closes the database they use.
func (s *Server) closeStores() error {
	s.stopBackground()
	if s.kms != nil {
		s.kms.CloseKeyStores()
	}
	var err error
	if s.shred != nil { // closed once: Shutdown may run again
		err = s.shred.Close()
		s.shred = nil
	}
	if s.stores != nil { // closed once: Shutdown may run again
		err = errors.Join(err, s.stores.Close())
		s.stores = nil
	}
	return err
}

// stopBackground stops the background jobs and waits for them.
func (s *Server) stopBackground() {
	if s.stopJobs != nil {
		s.stopJobs()
		s.jobs.Wait()
	}
}

func newRequestID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return strings.ToUpper(hex.EncodeToString(b[:]))
}

// TopBuckets names every top-level bucket of meta.db, for its format record.
func TopBuckets() []string { return backend.TopBuckets() }

// checkWritable fails early, with a clear message, on a data directory we cannot write.
func checkWritable(dir string) error {
	f, err := os.CreateTemp(dir, ".probe-*")
	if err != nil {
		return fmt.Errorf("data directory %s is not writable: %w", dir, err)
	}
	name := f.Name()
	f.Close()
	return os.Remove(name)
}

// KMSCalls counts the cryptographic KMS calls S3 made on requesters' behalf (SSE-KMS data keys
// made and opened), for tests and measurements.
func (s *Server) KMSCalls() objectkeys.Calls { return s.keys.Calls() }

// RunKMSJobs runs at once the KMS jobs due at the KMS clock's time (key deletions, rotations,
// imported material expiry) that the scheduler would otherwise run within a minute.
func (s *Server) RunKMSJobs(ctx context.Context) error { return s.kms.Tick(ctx) }
