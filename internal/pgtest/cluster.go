package pgtest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
)

// dirPattern names cluster directories in the temporary directory (os.MkdirTemp's pattern).
const dirPattern = "coffer-pgtest-*"

// Cluster is a running PostgreSQL server in a temporary directory, reachable on 127.0.0.1 only
// as the superuser "postgres" with a random password: without one, any local user could
// connect as the superuser and run programs as the server's user (COPY ... TO PROGRAM).
type Cluster struct {
	dir      string   // temporary directory: data/, the socket, the log
	owner    *os.File // holds dir's owner lock (see sweepStale) until Stop
	password string   // the superuser's
	port     int
	server   *exec.Cmd
	exited   chan struct{} // closed when the server process has exited
}

// Start initialises a cluster in a new temporary directory and starts its server. The server
// gets the parent-death signal SIGQUIT, so it goes (an immediate shutdown) with the test
// process even when that dies without calling Stop; the directory such a process leaves is
// removed by the next Start.
func Start(ctx context.Context) (*Cluster, error) {
	bin, err := binDir()
	if err != nil {
		return nil, err
	}
	cred, err := serverUser()
	if err != nil {
		return nil, err
	}
	parent := os.TempDir()
	if cred != nil {
		// The postgres user must reach the directory; a root-only $TMPDIR would stop it.
		parent = "/tmp"
	}
	sweepStale(parent)
	dir, err := os.MkdirTemp(parent, dirPattern)
	if err != nil {
		return nil, fmt.Errorf("temporary directory: %w", err)
	}
	owner, err := holdDir(dir)
	if err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("lock %s: %w", dir, err)
	}
	c := &Cluster{dir: dir, owner: owner}
	if err := c.initialise(ctx, bin, cred); err != nil {
		c.Stop()
		return nil, err
	}
	return c, nil
}

// initialise makes the data directory and starts the server. The port is free when chosen
// but may be taken before the server binds it, so the start is tried again.
func (c *Cluster) initialise(ctx context.Context, bin string, cred *syscall.Credential) error {
	if cred != nil {
		if err := os.Chown(c.dir, int(cred.Uid), int(cred.Gid)); err != nil {
			return fmt.Errorf("give %s to the postgres user: %w", c.dir, err)
		}
	}
	var rnd [16]byte
	rand.Read(rnd[:])
	c.password = hex.EncodeToString(rnd[:])
	pwFile := filepath.Join(c.dir, "pwfile")
	if err := os.WriteFile(pwFile, []byte(c.password+"\n"), 0o600); err != nil {
		return fmt.Errorf("password file: %w", err)
	}
	defer os.Remove(pwFile)
	if cred != nil {
		if err := os.Chown(pwFile, int(cred.Uid), int(cred.Gid)); err != nil {
			return fmt.Errorf("give the password file to the postgres user: %w", err)
		}
	}
	initdb := exec.CommandContext(ctx, filepath.Join(bin, "initdb"), "-D", c.dataDir(), "-U", "postgres",
		"--auth=scram-sha-256", "--pwfile="+pwFile, "--encoding=UTF8", "--locale=C", "--no-sync")
	initdb.Dir = c.dir
	initdb.SysProcAttr = sysProcAttr(cred)
	if out, err := initdb.CombinedOutput(); err != nil {
		return fmt.Errorf("initdb: %w\n%s", err, out)
	}
	var err error
	for attempt := 0; attempt < 3 && ctx.Err() == nil; attempt++ {
		if err = c.startServer(ctx, bin, cred); err == nil {
			return nil
		}
	}
	if err == nil {
		err = fmt.Errorf("start postgres: %w", ctx.Err())
	}
	return err
}

func (c *Cluster) dataDir() string { return filepath.Join(c.dir, "data") }
func (c *Cluster) logFile() string { return filepath.Join(c.dir, "server.log") }

// startServer runs postgres on a free loopback port and waits until it accepts connections.
func (c *Cluster) startServer(ctx context.Context, bin string, cred *syscall.Credential) error {
	port, err := freePort()
	if err != nil {
		return err
	}
	log, err := os.Create(c.logFile())
	if err != nil {
		return fmt.Errorf("server log: %w", err)
	}
	defer log.Close()
	// Durability is not what these tests check: fsync and full-page writes are off for speed.
	server := exec.Command(filepath.Join(bin, "postgres"), "-D", c.dataDir(), "-p", strconv.Itoa(port),
		"-k", c.dir, "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off",
		"-c", "synchronous_commit=off", "-c", "full_page_writes=off", "-c", "shared_buffers=32MB",
		"-c", "max_connections=300", "-c", "max_pred_locks_per_transaction=256")
	server.Dir = c.dir
	server.Stdout, server.Stderr = log, log
	server.SysProcAttr = sysProcAttr(cred)
	if err := server.Start(); err != nil {
		return fmt.Errorf("start postgres: %w", err)
	}
	c.port, c.server, c.exited = port, server, make(chan struct{})
	go func() { server.Wait(); close(c.exited) }()
	for {
		conn, err := pgx.Connect(ctx, c.URL("postgres"))
		if err == nil {
			conn.Close(ctx)
			return nil
		}
		select {
		case <-c.exited:
			return fmt.Errorf("postgres exited while starting: %s", c.logTail())
		case <-ctx.Done():
			c.kill()
			return fmt.Errorf("postgres did not accept connections: %w: %s", ctx.Err(), c.logTail())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// URL returns the URL of database on the cluster, as the superuser (password included).
func (c *Cluster) URL(database string) string {
	return fmt.Sprintf("postgres://postgres:%s@127.0.0.1:%d/%s?sslmode=disable", c.password, c.port, database)
}

// Stop shuts the server down (a fast shutdown, which ends open sessions) and removes the
// directory.
func (c *Cluster) Stop() error {
	var err error
	if c.server != nil {
		c.server.Process.Signal(syscall.SIGINT)
		select {
		case <-c.exited:
		case <-time.After(30 * time.Second):
			c.kill()
			err = errors.New("postgres did not stop within 30s; killed")
		}
	}
	err = errors.Join(err, os.RemoveAll(c.dir))
	if c.owner != nil {
		c.owner.Close()
	}
	return err
}

// kill ends the server at once and waits for it.
func (c *Cluster) kill() {
	c.server.Process.Kill()
	<-c.exited
}

// logTail returns the end of the server's log, for messages.
func (c *Cluster) logTail() string {
	b, _ := os.ReadFile(c.logFile())
	if len(b) > 2000 {
		b = b[len(b)-2000:]
	}
	return string(bytes.TrimSpace(b))
}

// binDir finds the directory of PostgreSQL's server programs: initdb's, followed through the
// symbolic link Debian's postgresql-common puts on PATH, else the newest of Debian's
// /usr/lib/postgresql/*/bin.
func binDir() (string, error) {
	if p, err := exec.LookPath("initdb"); err == nil {
		if real, err := filepath.EvalSymlinks(p); err == nil {
			if _, err := os.Stat(filepath.Join(filepath.Dir(real), "postgres")); err == nil {
				return filepath.Dir(real), nil
			}
		}
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	slices.SortFunc(dirs, func(a, b string) int { return version(b) - version(a) })
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "initdb")); err == nil {
			return d, nil
		}
	}
	return "", errors.New("PostgreSQL not found: no initdb on PATH or in /usr/lib/postgresql/*/bin (install Debian's postgresql package)")
}

// version is the major version in a /usr/lib/postgresql/<version>/bin path, 0 if none.
func version(binDir string) int {
	v, _ := strconv.Atoi(filepath.Base(filepath.Dir(binDir)))
	return v
}

// serverUser returns the credential the server must run under: nil as any user but root;
// as root, the "postgres" system user that Debian's package creates.
func serverUser() (*syscall.Credential, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, fmt.Errorf("running as root, PostgreSQL must run as the postgres user: %w", err)
	}
	uid, err1 := strconv.ParseUint(u.Uid, 10, 32)
	gid, err2 := strconv.ParseUint(u.Gid, 10, 32)
	if err := errors.Join(err1, err2); err != nil {
		return nil, fmt.Errorf("postgres user: %w", err)
	}
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, nil
}

// freePort returns a loopback TCP port that was free a moment ago.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
