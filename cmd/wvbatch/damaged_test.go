package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wvbatch/wvbatch/internal/runstore"
)

// TestDamagedStore: a store file that is empty or not a store is refused
// with exit 1 and the way to restore it, and left as it was.
func TestDamagedStore(t *testing.T) {
	t.Parallel()
	for name, content := range map[string]string{"empty": "", "unrelated": strings.Repeat("not a store\n", 1000)} {
		c := newCLI(t, nil)
		path := filepath.Join(t.TempDir(), "wvbatch.db")
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		code, _, errOut := c.run("runs", "--store", path)
		if code != exitFailure || !strings.Contains(errOut, "is damaged") || !strings.Contains(errOut, "hint: restore it from a backup: wvbatch store restore BACKUP") {
			t.Errorf("%s store: exit %d\n%s", name, code, errOut)
		}
		if b, err := os.ReadFile(path); err != nil || string(b) != content {
			t.Errorf("%s store: the file was changed", name)
		}
	}
}

// damagedStoreFile writes a store of 3 runs of 300 orders, a third of them
// submitted, as wvbatch writes it, and returns its bytes.
func damagedStoreFile(t *testing.T) []byte {
	t.Helper()
	path := filepath.Join(t.TempDir(), "wvbatch.db")
	st, err := runstore.Open(path, runstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	where := runstore.Where{Endpoint: "https://sandbox.example"}
	for r := range 3 {
		id := fmt.Sprintf("r%d", r)
		var orders []runstore.OrderSpec
		for i := range 300 {
			row := 2 + i
			orders = append(orders, runstore.OrderSpec{
				Key: fmt.Sprintf("AM1:01:000111//acct/w0/p%05d", i), Reference: fmt.Sprintf("REF-%s-%05d", id, i),
				IBX: "AM1", Cage: "AM1:01:000111", Count: 1,
				Start: time.Date(2027, 3, 2, 8, 0, 0, 0, time.UTC), End: time.Date(2027, 3, 2, 18, 0, 0, 0, time.UTC),
				Body:        []byte(fmt.Sprintf(`{"order":%d,"visitor":"Visitor %d of %s"}`, i, i, id)),
				Rows:        []int{row},
				VisitorKeys: []string{where.Key(fmt.Sprintf("u:visitor%d-%s|AM1:01:000111|w", row, id))},
			})
		}
		if created, err := st.CreateRun(runstore.Run{ID: id, File: "roster.csv", Hash: id, Endpoint: where.Endpoint}, orders, nil); err != nil || !created {
			t.Fatalf("CreateRun: %v %v", created, err)
		}
		for _, o := range orders[:100] {
			if _, err := st.MarkSending(id, o.Key); err != nil {
				t.Fatal(err)
			}
			if err := st.MarkSubmitted(id, o.Key, "1-"+o.Reference); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestStoreCheckDamagedFiles runs `wvbatch store check` and `wvbatch runs`
// as processes of their own on store files damaged every way a disk or a
// person damages them: each ends within 10 s, with exit 1 and "store … is
// damaged" and the hint to restore a backup (or, for a flipped bit that
// changes nothing that can be checked, exit 0), never a panic, a fatal
// error or a hang.
func TestStoreCheckDamagedFiles(t *testing.T) {
	t.Parallel()
	good := damagedStoreFile(t)
	const page = 4096
	cases := map[string][]byte{
		"empty":     {},
		"unrelated": bytes.Repeat([]byte("This is not a store, but a text file.\n"), 3000),
		"cut short": good[:len(good)/2],
	}
	withPages := func(flags uint16, damage func(b []byte, at int)) []byte {
		b := bytes.Clone(good)
		for id := 2; (id+1)*page <= len(b); id++ {
			at := id * page
			if binary.NativeEndian.Uint64(b[at:]) == uint64(id) && binary.NativeEndian.Uint16(b[at+8:]) == flags {
				damage(b, at)
			}
		}
		return b
	}
	// Every branch page leads to itself: bbolt would loop.
	cases["branch loops"] = withPages(0x01, func(b []byte, at int) {
		id := binary.NativeEndian.Uint64(b[at:])
		for i := range int(binary.NativeEndian.Uint16(b[at+10:])) {
			binary.NativeEndian.PutUint64(b[at+16+i*16+8:], id)
		}
	})
	// Every free list claims 2^40 pages: bbolt would allocate them.
	cases["free list"] = withPages(0x10, func(b []byte, at int) {
		binary.NativeEndian.PutUint16(b[at+10:], 0xFFFF)
		binary.NativeEndian.PutUint64(b[at+16:], 1<<40)
	})
	zeroed := map[string]bool{}
	for p := 2; (p+1)*page <= len(good); p += 5 {
		b := bytes.Clone(good)
		clear(b[p*page : (p+1)*page])
		name := fmt.Sprintf("page %d zeroed", p)
		cases[name], zeroed[name] = b, true
	}
	flipped := map[string]bool{}
	for seed := range uint64(40) {
		rng := rand.New(rand.NewPCG(seed, 15))
		b := bytes.Clone(good)
		for range 1 + rng.IntN(8) {
			i := rng.IntN(len(b))
			b[i] ^= 1 << rng.IntN(8)
		}
		name := fmt.Sprintf("bits flipped, seed %d", seed)
		cases[name], flipped[name] = b, true
	}
	dir := t.TempDir()
	env := childEnv(dir)
	path := filepath.Join(dir, "wvbatch.db")
	commands := [][]string{{"store", "check"}, {"runs"}}
	// What the sound store gives.
	sound := map[string][]byte{}
	for _, args := range commands {
		if err := os.WriteFile(path, good, 0o600); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(os.Args[0], append(args, "--store", path)...)
		cmd.Env = env
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("wvbatch %s of the sound store: %v\n%s", strings.Join(args, " "), err, out)
		}
		sound[strings.Join(args, " ")] = out
	}
	var slowest time.Duration
	refused, unused := 0, 0
	for name, b := range cases {
		for _, args := range commands {
			if err := os.WriteFile(path, b, 0o600); err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			cmd := exec.CommandContext(ctx, os.Args[0], append(args, "--store", path)...)
			cmd.Env = env
			start := time.Now()
			out, _ := cmd.CombinedOutput()
			took := time.Since(start)
			timedOut := ctx.Err() != nil
			cancel()
			slowest = max(slowest, took)
			what := fmt.Sprintf("%s: wvbatch %s", name, strings.Join(args, " "))
			code := cmd.ProcessState.ExitCode()
			switch {
			case timedOut:
				t.Errorf("%s: still running after 10s", what)
			case bytes.Contains(out, []byte("panic")) || bytes.Contains(out, []byte("fatal error")) || bytes.Contains(out, []byte("goroutine ")):
				t.Errorf("%s: exit %d\n%s", what, code, out)
			case code == exitFailure:
				refused++
				if !bytes.Contains(out, []byte("is damaged")) || !bytes.Contains(out, []byte("hint: restore it from a backup")) {
					t.Errorf("%s: exit 1 without saying the store is damaged and how to restore it\n%s", what, out)
				}
			case code == exitOK && flipped[name]:
				// A bit of a value nothing checks (a digit of a time).
			case code == exitOK && zeroed[name] && bytes.Equal(out, sound[strings.Join(args, " ")]):
				unused++ // a free page: the store reads as it did
			default:
				t.Errorf("%s: exit %d, want %d\n%s", what, code, exitFailure, out)
			}
		}
	}
	t.Logf("%d files damaged, %d refusals of 2 commands, %d reads of a store with a free page zeroed as it was; the slowest took %v",
		len(cases), refused, unused, slowest.Round(time.Millisecond))
}
