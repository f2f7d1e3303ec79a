package main

import (
	"archive/tar"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/v1/layout"
)

// TestImage checks the image `make image` wrote (WVBATCH_IMAGE_LAYOUT, an
// OCI layout folder; skipped without it): one image for linux/amd64 that
// runs as the non-root user 65532, with the version stamped in its label
// (WVBATCH_IMAGE_VERSION), the CA certificates and the wvbatch binary as its
// entry point; the binary, taken out of the image, runs.
func TestImage(t *testing.T) {
	dir := os.Getenv("WVBATCH_IMAGE_LAYOUT")
	if dir == "" {
		t.Skip("WVBATCH_IMAGE_LAYOUT is not set: run make image")
	}
	p, err := layout.FromPath(dir)
	if err != nil {
		t.Fatal(err)
	}
	idx, err := p.ImageIndex()
	if err != nil {
		t.Fatal(err)
	}
	m, err := idx.IndexManifest()
	if err != nil || len(m.Manifests) != 1 {
		t.Fatalf("index: %v manifests, %v", len(m.Manifests), err)
	}
	img, err := idx.Image(m.Manifests[0].Digest)
	if err != nil {
		t.Fatal(err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	if cf.OS != "linux" || cf.Architecture != "amd64" {
		t.Errorf("platform %s/%s", cf.OS, cf.Architecture)
	}
	if cf.Config.User != "65532:65532" {
		t.Errorf("user %q, want the non-root 65532:65532", cf.Config.User)
	}
	if v := os.Getenv("WVBATCH_IMAGE_VERSION"); v == "" || cf.Config.Labels["org.opencontainers.image.version"] != v {
		t.Errorf("version label %q, want %q", cf.Config.Labels["org.opencontainers.image.version"], v)
	}
	if len(cf.Config.Entrypoint) != 1 {
		t.Fatalf("entry point %q", cf.Config.Entrypoint)
	}
	entry := strings.TrimPrefix(cf.Config.Entrypoint[0], "/")
	layers, err := img.Layers()
	if err != nil {
		t.Fatal(err)
	}
	found := map[string]bool{}
	bin := filepath.Join(t.TempDir(), "wvbatch")
	for _, l := range layers {
		rc, err := l.Uncompressed()
		if err != nil {
			t.Fatal(err)
		}
		tr := tar.NewReader(rc)
		for {
			h, err := tr.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			name := strings.TrimPrefix(h.Name, "/")
			found[name] = true
			if name == entry {
				f, err := os.OpenFile(bin, os.O_CREATE|os.O_WRONLY, 0o755)
				if err != nil {
					t.Fatal(err)
				}
				if _, err := io.Copy(f, tr); err != nil {
					t.Fatal(err)
				}
				f.Close()
			}
		}
		rc.Close()
	}
	for _, want := range []string{"etc/ssl/certs/ca-certificates.crt", "etc/passwd", "tmp/", entry} {
		if !found[want] {
			t.Errorf("the image has no %s", want)
		}
	}
	out, err := exec.Command(bin, "--help").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "wvbatch") {
		t.Errorf("the image's binary does not run: %v\n%s", err, out)
	}
	// The version stamped with -X main.version, as 'wvbatch version'
	// prints it (where the binary has that command).
	if help := string(out); strings.Contains(help, "\n  version ") {
		v, err := exec.Command(bin, "version").CombinedOutput()
		if want := os.Getenv("WVBATCH_IMAGE_VERSION"); err != nil || !strings.Contains(string(v), want) {
			t.Errorf("'wvbatch version' in the image: %v\n%s\nwant it to name %s", err, v, want)
		}
	}
}
