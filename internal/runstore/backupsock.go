package runstore

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Backups while the store is in use.
//
// Only one process has the store open at a time (bbolt locks the file),
// and a submit, a resume, a cancel, the scheduler during a run or the web
// server may hold it for long. So every Store serves backups of itself
// while it is open: it listens on a Unix socket named after the store
// file, and answers a connection that says "backup" with one read
// transaction of the store (bbolt's Tx.WriteTo), preceded by a line of
// JSON giving its size. BackupTo asks the process that has the store open
// through that socket, and opens the store itself when nobody has it.
//
// The socket is the store's file name plus ".sock", beside it, when that
// name fits a socket address (sun_path: about 100 bytes); otherwise it is
// a name made of the store path's SHA-256 in a folder only this user can
// open ($XDG_RUNTIME_DIR/wvbatch, else $TMPDIR/wvbatch-UID, mode 0700).
// The socket has mode 0600, and both ends check (where the system tells)
// that the other runs as the same user; the backup holds what the store
// file holds, which that user can read anyway, and nothing else is
// answered. A socket left by a process that was killed is removed by the
// next process that opens the store: it holds the store's lock, so no one
// else serves it.

// maxSocketPath is the longest socket file name used: sun_path holds 108
// bytes on Linux and 104 on the BSDs, with the terminating NUL.
const maxSocketPath = 100

// Backup socket timeouts.
const (
	// sockIdle is how long either end waits for the other to go on. (While
	// a backup is sent its read transaction is open, and a commit that
	// must grow the file's mapping waits for it: a peer that stops taking
	// bytes delays the holder's commits by sockIdle at most.)
	sockIdle = 30 * time.Second
	// sockDial bounds connecting.
	sockDial = 2 * time.Second
)

// backupRequest is what a client sends.
const backupRequest = "backup\n"

// backupHeader is the line that precedes a backup on the socket.
type backupHeader struct {
	Size  int64  `json:"size,omitempty"`
	PID   int    `json:"pid,omitempty"`
	Error string `json:"error,omitempty"`
}

// socketPaths returns where the backup socket of the store at path may be,
// in the order tried: beside the store, then in the private folder.
func socketPaths(path string) []string {
	p := canonical(path)
	var out []string
	if beside := p + ".sock"; len(beside) <= maxSocketPath {
		out = append(out, beside)
	}
	if dir, err := privateDir(); err == nil {
		sum := sha256.Sum256([]byte(p))
		if s := filepath.Join(dir, hex.EncodeToString(sum[:12])+".sock"); len(s) <= maxSocketPath {
			out = append(out, s)
		}
	}
	return out
}

// canonical returns the absolute path of the store with symbolic links
// resolved, so that two names of one store find one socket.
func canonical(path string) string {
	p, err := filepath.Abs(path)
	if err != nil {
		return path
	}
	if r, err := filepath.EvalSymlinks(p); err == nil {
		return r
	}
	if d, err := filepath.EvalSymlinks(filepath.Dir(p)); err == nil {
		return filepath.Join(d, filepath.Base(p))
	}
	return p
}

// privateDir returns a folder for sockets that only this user can open,
// making it if needed; it refuses one that another user owns or others
// may enter.
func privateDir() (string, error) {
	dir := filepath.Join(os.TempDir(), "wvbatch-"+strconv.Itoa(os.Getuid()))
	if rt := os.Getenv("XDG_RUNTIME_DIR"); rt != "" && filepath.IsAbs(rt) {
		dir = filepath.Join(rt, "wvbatch")
	}
	if err := os.Mkdir(dir, 0o700); err != nil && !errors.Is(err, os.ErrExist) {
		return "", err
	}
	fi, err := os.Lstat(dir)
	if err != nil {
		return "", err
	}
	if !fi.IsDir() || !ownedByMe(fi) || fi.Mode().Perm() != 0o700 {
		return "", fmt.Errorf("%s is not a folder of this user's alone", dir)
	}
	return dir, nil
}

// backupServer answers backup requests for an open Store.
type backupServer struct {
	l    *net.UnixListener
	path string // the socket
	done chan struct{}

	mu   sync.Mutex
	conn net.Conn // the connection being answered
}

// serveBackups starts answering backup requests for s on its socket. It
// gives up quietly when no socket can be made: backups then wait for the
// store to be let go.
func (s *Store) serveBackups() {
	for _, sock := range socketPaths(s.path) {
		if !removeStale(sock) {
			continue
		}
		l, err := net.ListenUnix("unix", &net.UnixAddr{Name: sock, Net: "unix"})
		if err != nil {
			continue
		}
		if err := os.Chmod(sock, 0o600); err != nil {
			l.Close()
			continue
		}
		l.SetUnlinkOnClose(true)
		b := &backupServer{l: l, path: sock, done: make(chan struct{})}
		s.backups = b
		go b.serve(s)
		return
	}
}

// removeStale removes a socket that a process killed with the store open
// left behind, and reports whether sock is free for this process's socket.
// The caller holds the store's lock: no live process serves that socket.
func removeStale(sock string) bool {
	fi, err := os.Lstat(sock)
	if errors.Is(err, os.ErrNotExist) {
		return true
	}
	if err != nil || fi.Mode().Type() != os.ModeSocket || !ownedByMe(fi) {
		return false
	}
	return os.Remove(sock) == nil
}

// stop stops answering, ends a backup being sent and removes the socket.
func (b *backupServer) stop() {
	if b == nil {
		return
	}
	b.l.Close()
	b.mu.Lock()
	if b.conn != nil {
		b.conn.Close()
	}
	b.mu.Unlock()
	<-b.done
}

func (b *backupServer) serve(s *Store) {
	defer close(b.done)
	for {
		c, err := b.l.AcceptUnix()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			time.Sleep(100 * time.Millisecond) // e.g. out of file descriptors
			continue
		}
		b.mu.Lock()
		b.conn = c
		b.mu.Unlock()
		b.answer(s, c)
		b.mu.Lock()
		b.conn = nil
		b.mu.Unlock()
		c.Close()
	}
}

// answer sends one backup, or nothing to a peer of another user or a
// request it does not know.
func (b *backupServer) answer(s *Store, c *net.UnixConn) {
	if !peerIsMe(c) {
		return
	}
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	req, err := bufio.NewReaderSize(io.LimitReader(c, 64), 64).ReadString('\n')
	if err != nil || req != backupRequest {
		return
	}
	w := &idleWriter{c: c}
	err = s.view(func(tx *bolt.Tx) error {
		if err := writeHeader(w, backupHeader{Size: tx.Size(), PID: os.Getpid()}); err != nil {
			return err
		}
		_, err := tx.WriteTo(w)
		return err
	})
	if err != nil && !w.started {
		_ = writeHeader(w, backupHeader{Error: err.Error()})
	}
}

func writeHeader(w *idleWriter, h backupHeader) error {
	line, err := json.Marshal(h)
	if err != nil {
		return err
	}
	_, err = w.Write(append(line, '\n'))
	w.started = true
	return err
}

// idleWriter writes to a connection, giving up when the peer takes no
// bytes for sockIdle.
type idleWriter struct {
	c       net.Conn
	started bool
}

func (w *idleWriter) Write(p []byte) (int, error) {
	_ = w.c.SetWriteDeadline(time.Now().Add(sockIdle))
	return w.c.Write(p)
}

// idleReader reads from a connection, giving up when the peer sends
// nothing for sockIdle; its errors are *holderError.
type idleReader struct {
	c net.Conn
	r *bufio.Reader
}

func (r *idleReader) Read(p []byte) (int, error) {
	_ = r.c.SetReadDeadline(time.Now().Add(sockIdle))
	n, err := r.r.Read(p)
	if err != nil && err != io.EOF {
		err = &holderError{err}
	}
	return n, err
}

// holderError is a failure of the process that has the store open to send
// a backup (it ended, or stopped sending): asking again may work.
type holderError struct{ err error }

func (e *holderError) Error() string { return "the wvbatch that has the store open: " + e.err.Error() }
func (e *holderError) Unwrap() error { return e.err }

// errNoHolder says that no process answers on the store's backup socket.
var errNoHolder = errors.New("no wvbatch serves backups of this store")

// backupFromHolder asks the process that has the store at path open for a
// backup, and writes it to dest whole or not at all. It returns
// errNoHolder when no process answers, a *holderError when the one that
// does fails to send it whole.
func backupFromHolder(path, dest string) (n int64, pid int, err error) {
	for _, sock := range socketPaths(path) {
		fi, err := os.Lstat(sock)
		if err != nil || fi.Mode().Type() != os.ModeSocket || !ownedByMe(fi) {
			continue
		}
		c, err := net.DialTimeout("unix", sock, sockDial)
		if err != nil {
			continue
		}
		n, pid, err := receiveBackup(c.(*net.UnixConn), dest)
		c.Close()
		return n, pid, err
	}
	return 0, 0, errNoHolder
}

func receiveBackup(c *net.UnixConn, dest string) (int64, int, error) {
	if !peerIsMe(c) {
		return 0, 0, errNoHolder
	}
	_ = c.SetWriteDeadline(time.Now().Add(sockIdle))
	if _, err := io.WriteString(c, backupRequest); err != nil {
		return 0, 0, &holderError{err}
	}
	r := &idleReader{c: c, r: bufio.NewReader(c)}
	line, err := readLine(r, 4096)
	if err != nil {
		return 0, 0, &holderError{fmt.Errorf("no answer: %w", err)}
	}
	var h backupHeader
	if err := json.Unmarshal(line, &h); err != nil {
		return 0, 0, &holderError{fmt.Errorf("answer %q: %w", line, err)}
	}
	if h.Error != "" {
		return 0, h.PID, &holderError{errors.New(h.Error)}
	}
	if h.Size <= 0 {
		return 0, h.PID, &holderError{fmt.Errorf("a backup of %d bytes", h.Size)}
	}
	err = writeAtomically(dest, func(f *os.File) error {
		n, err := io.CopyN(f, r, h.Size)
		if err == io.EOF {
			return &holderError{fmt.Errorf("the backup ended after %d of %d bytes", n, h.Size)}
		}
		return err
	})
	if err != nil {
		return 0, h.PID, err
	}
	return h.Size, h.PID, nil
}

// readLine reads up to a newline, at most max bytes.
func readLine(r io.Reader, max int) ([]byte, error) {
	var line []byte
	b := make([]byte, 1)
	for len(line) < max {
		if _, err := io.ReadFull(r, b); err != nil {
			return nil, err
		}
		if b[0] == '\n' {
			return line, nil
		}
		line = append(line, b[0])
	}
	return nil, errors.New("answer line too long")
}

// BackupResult says how a backup was made.
type BackupResult struct {
	// Size is the backup's size in bytes.
	Size int64
	// PID is the process that had the store open and sent the backup, or
	// 0 when the store was opened for it.
	PID int
}

// BackupTo writes a consistent copy of the store at path to dest (mode
// 0600, whole or not at all). When another process has the store open,
// that process sends it (see serveBackups); when none has, the store is
// opened for it. A process that has it open but does not answer (a
// wvbatch from before backups were served this way, or one still opening
// it) is waited for, up to wait; then the error matches ErrStoreBusy.
func BackupTo(ctx context.Context, path, dest string, wait time.Duration) (BackupResult, error) {
	deadline := time.Now().Add(wait)
	for {
		n, pid, err := backupFromHolder(path, dest)
		if err == nil {
			return BackupResult{Size: n, PID: pid}, nil
		}
		var he *holderError
		if !errors.Is(err, errNoHolder) && !errors.As(err, &he) {
			return BackupResult{}, fmt.Errorf("back up %s to %s: %w", path, dest, err)
		}
		if errors.Is(err, errNoHolder) {
			st, oerr := Open(path, Options{LockTimeout: 200 * time.Millisecond})
			if oerr == nil {
				n, err := st.BackupFile(dest)
				if cerr := st.Close(); err == nil {
					err = cerr
				}
				return BackupResult{Size: n}, err
			}
			if !errors.Is(oerr, ErrStoreBusy) {
				return BackupResult{}, oerr
			}
		}
		if time.Now().After(deadline) {
			if errors.As(err, &he) {
				return BackupResult{}, fmt.Errorf("%w (%v)", &busyError{path: path}, err)
			}
			return BackupResult{}, &busyError{path: path}
		}
		select {
		case <-ctx.Done():
			return BackupResult{}, ctx.Err()
		case <-time.After(250 * time.Millisecond):
		}
	}
}
