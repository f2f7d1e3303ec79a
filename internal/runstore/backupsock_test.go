package runstore

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

// holdStore opens a store with a run and keeps changing it until the test
// ends, as a submit does.
func holdStore(t *testing.T, path string) *Store {
	t.Helper()
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	orders := specs(200, 2)
	createRun(t, s, "r1", orders, nil)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for _, o := range orders {
			select {
			case <-stop:
				return
			default:
			}
			if _, err := s.MarkSending("r1", o.Key); err != nil {
				return
			}
			if err := s.MarkSubmitted("r1", o.Key, "1-"+o.Reference); err != nil {
				return
			}
		}
	}()
	t.Cleanup(func() {
		close(stop)
		wg.Wait()
		s.Close()
	})
	return s
}

// A backup of a store another Store has open (here, in this process; in
// use, another process) is sent by that Store, at once, consistent while
// orders are being marked.
func TestBackupToFromHolder(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "wvbatch.db")
	holdStore(t, path)
	sock := path + ".sock"
	fi, err := os.Lstat(sock)
	if err != nil || fi.Mode().Type() != os.ModeSocket || fi.Mode().Perm() != 0o600 {
		t.Fatalf("the backup socket: %v %v; want a socket of mode 0600", fi, err)
	}
	for i := range 5 {
		dest := filepath.Join(dir, fmt.Sprintf("b%d.db", i))
		start := time.Now()
		res, err := BackupTo(context.Background(), path, dest, time.Second)
		if err != nil {
			t.Fatalf("backup %d: %v", i, err)
		}
		if res.PID != os.Getpid() || res.Size == 0 {
			t.Errorf("backup %d: %+v; want it sent by the holder, pid %d", i, res, os.Getpid())
		}
		rep, err := CheckFile(dest)
		if err != nil || !rep.OK() || rep.Runs != 1 || rep.Orders != 200 {
			t.Errorf("backup %d (%v) does not check: %v %+v", i, time.Since(start), err, rep)
		}
		if fi, err := os.Stat(dest); err != nil || fi.Mode().Perm() != 0o600 || fi.Size() != res.Size {
			t.Errorf("backup %d: %v %v; want mode 0600 and %d bytes", i, fi, err, res.Size)
		}
	}
}

// With nobody holding the store, BackupTo opens it itself; its socket is
// gone once it is closed.
func TestBackupToOpensAFreeStore(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "wvbatch.db")
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	createRun(t, s, "r1", specs(10, 1), nil)
	s.Close()
	if _, err := os.Lstat(path + ".sock"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the socket outlives the store: %v", err)
	}
	res, err := BackupTo(context.Background(), path, filepath.Join(dir, "b.db"), time.Second)
	if err != nil || res.PID != 0 {
		t.Fatalf("BackupTo = %+v, %v; want the store opened for it", res, err)
	}
}

// A socket left by a killed process is replaced by the next holder's; a
// file of that name that is not a socket is left alone, and the socket
// goes to the private folder.
func TestBackupSocketStaleAndTaken(t *testing.T) {
	t.Setenv("XDG_RUNTIME_DIR", t.TempDir())
	dir := t.TempDir()

	stale := filepath.Join(dir, "a.db")
	l, err := net.ListenUnix("unix", &net.UnixAddr{Name: stale + ".sock", Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	l.SetUnlinkOnClose(false)
	l.Close() // what a SIGKILL leaves
	holdStore(t, stale)
	if _, err := BackupTo(context.Background(), stale, filepath.Join(dir, "a-backup.db"), time.Second); err != nil {
		t.Errorf("backup past a stale socket: %v", err)
	}

	taken := filepath.Join(dir, "b.db")
	if err := os.WriteFile(taken+".sock", []byte("mine"), 0o600); err != nil {
		t.Fatal(err)
	}
	holdStore(t, taken)
	res, err := BackupTo(context.Background(), taken, filepath.Join(dir, "b-backup.db"), time.Second)
	if err != nil || res.PID != os.Getpid() {
		t.Errorf("backup with the socket's name taken: %+v, %v", res, err)
	}
	if b, err := os.ReadFile(taken + ".sock"); err != nil || string(b) != "mine" {
		t.Errorf("the file in the socket's place was changed: %q %v", b, err)
	}
}

// A store path too long for a socket address gets its socket in a folder
// only this user may enter.
func TestBackupSocketLongPath(t *testing.T) {
	rt := t.TempDir()
	t.Setenv("XDG_RUNTIME_DIR", rt)
	dir := filepath.Join(t.TempDir(), strings.Repeat("d", 60), strings.Repeat("e", 60))
	path := filepath.Join(dir, "wvbatch.db")
	holdStore(t, path)
	socks := socketPaths(path)
	if len(socks) != 1 || !strings.HasPrefix(socks[0], filepath.Join(rt, "wvbatch")+"/") {
		t.Fatalf("socket paths %v; want one in %s", socks, rt)
	}
	fi, err := os.Lstat(filepath.Dir(socks[0]))
	if err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("the socket folder: %v %v; want mode 0700", fi, err)
	}
	if res, err := BackupTo(context.Background(), path, filepath.Join(dir, "b.db"), time.Second); err != nil || res.PID != os.Getpid() {
		t.Errorf("backup of a store with a long path: %+v, %v", res, err)
	}
	// A shared folder in its place is refused.
	os.RemoveAll(filepath.Join(rt, "wvbatch"))
	if err := os.Mkdir(filepath.Join(rt, "wvbatch"), 0o777); err != nil {
		t.Fatal(err)
	}
	os.Chmod(filepath.Join(rt, "wvbatch"), 0o777)
	if socks := socketPaths(path); len(socks) != 0 {
		t.Errorf("socket paths %v in a folder others may enter", socks)
	}
}

// A process that has the store open but does not answer is waited for,
// then the store is busy.
func TestBackupToWaitsForASilentHolder(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "wvbatch.db")
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_, err = BackupTo(context.Background(), path, filepath.Join(dir, "b.db"), 500*time.Millisecond)
	if !errors.Is(err, ErrStoreBusy) || time.Since(start) < 500*time.Millisecond {
		t.Errorf("BackupTo = %v after %v; want ErrStoreBusy after the wait", err, time.Since(start))
	}
	time.AfterFunc(300*time.Millisecond, func() { db.Close() })
	if res, err := BackupTo(context.Background(), path, filepath.Join(dir, "b.db"), 5*time.Second); err != nil || res.PID != 0 {
		t.Errorf("BackupTo once the holder let go = %+v, %v", res, err)
	}
	if _, err := os.Stat(filepath.Join(dir, "b.db")); err != nil {
		t.Error(err)
	}
}

// A process of another user that reaches the socket (here: one made
// reachable on purpose, mode 0666 in a folder anyone may enter) gets
// nothing: the holder checks who is at the other end. Needs root, to run
// the other user's process (CI runs as root).
func TestBackupSocketRefusesAnotherUser(t *testing.T) {
	if os.Getuid() != 0 {
		t.Skip("runs a process as another user: needs root")
	}
	python := "/usr/bin/python3"
	if _, err := os.Stat(python); err != nil {
		t.Skipf("%s is not installed", python)
	}
	dir, err := os.MkdirTemp("", "wvbatch-peer-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o777); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "wvbatch.db")
	holdStore(t, path)
	sock := path + ".sock"
	if err := os.Chmod(sock, 0o666); err != nil {
		t.Fatal(err)
	}
	ask := func(uid uint32) string {
		t.Helper()
		cmd := exec.Command(python, "-c", `
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(sys.argv[1])
s.settimeout(10)
try:
    s.sendall(b"backup\n")
    got = s.recv(200)
except (BrokenPipeError, ConnectionResetError):
    got = b""
print(repr(got) if got else "closed")
`, sock)
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uid, Gid: uid}}
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("the client as uid %d: %v\n%s", uid, err, out)
		}
		return strings.TrimSpace(string(out))
	}
	if got := ask(65534); got != "closed" {
		t.Errorf("another user got %s; want nothing", got)
	}
	if got := ask(0); !strings.Contains(got, `"size":`) {
		t.Errorf("the store's user got %s; want the backup's header", got)
	}
}
