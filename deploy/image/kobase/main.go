// Command kobase writes the base of wvbatch's container image into ko's
// image cache (an OCI layout), so that `make image` builds the image with
// ko without pulling a base image from a registry: no operating system,
// only the CA certificates of the machine that builds it (for HTTPS to
// Equinix and SMTP), an /etc/passwd naming the non-root user 65532, and a
// /tmp. It prints the image's digest for KO_DEFAULTBASEIMAGE.
package main

import (
	"archive/tar"
	"bytes"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

func main() {
	dir := flag.String("layout", "", "the OCI layout folder to write the image into (ko's $KOCACHE/img)")
	certs := flag.String("ca-certificates", "/etc/ssl/certs/ca-certificates.crt", "the PEM bundle of CA certificates to put in the image")
	arch := flag.String("arch", "amd64", "the image's architecture")
	flag.Parse()
	if *dir == "" {
		fmt.Fprintln(os.Stderr, "kobase: -layout is required")
		os.Exit(2)
	}
	digest, err := write(*dir, *certs, *arch)
	if err != nil {
		fmt.Fprintf(os.Stderr, "kobase: %v\n", err)
		os.Exit(1)
	}
	fmt.Println(digest)
}

func write(dir, certsPath, arch string) (string, error) {
	certs, err := os.ReadFile(certsPath)
	if err != nil {
		return "", fmt.Errorf("CA certificates: %w (install Debian's ca-certificates)", err)
	}
	files, err := layerTar(certs)
	if err != nil {
		return "", err
	}
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(files)), nil
	}, tarball.WithMediaType(types.OCILayer))
	if err != nil {
		return "", err
	}
	img, err := mutate.AppendLayers(mutate.MediaType(empty.Image, types.OCIManifestSchema1), layer)
	if err != nil {
		return "", err
	}
	img = mutate.ConfigMediaType(img, types.OCIConfigJSON)
	cf, err := img.ConfigFile()
	if err != nil {
		return "", err
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture = "linux", arch
	cf.Created = v1.Time{Time: time.Unix(0, 0).UTC()}
	cf.Config.User = "65532:65532"
	cf.Config.Env = []string{"PATH=/", "SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt", "HOME=/home/nonroot"}
	if img, err = mutate.ConfigFile(img, cf); err != nil {
		return "", err
	}
	p, err := layout.FromPath(dir)
	if err != nil {
		if p, err = layout.Write(dir, empty.Index); err != nil {
			return "", err
		}
	}
	if err := p.AppendImage(img); err != nil {
		return "", err
	}
	d, err := img.Digest()
	if err != nil {
		return "", err
	}
	return d.String(), nil
}

// layerTar is the base's one layer, with fixed times so that the same
// certificates give the same digest.
func layerTar(certs []byte) ([]byte, error) {
	var b bytes.Buffer
	tw := tar.NewWriter(&b)
	epoch := time.Unix(0, 0)
	dirs := []struct {
		name string
		mode int64
		uid  int
	}{{"etc/", 0o755, 0}, {"etc/ssl/", 0o755, 0}, {"etc/ssl/certs/", 0o755, 0}, {"tmp/", 0o1777, 0}, {"home/", 0o755, 0}, {"home/nonroot/", 0o700, 65532}}
	for _, d := range dirs {
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: d.name, Mode: d.mode, Uid: d.uid, Gid: d.uid, ModTime: epoch}); err != nil {
			return nil, err
		}
	}
	passwd := "root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n"
	group := "root:x:0:\nnonroot:x:65532:\n"
	for _, f := range []struct {
		name string
		data []byte
	}{{"etc/passwd", []byte(passwd)}, {"etc/group", []byte(group)}, {"etc/ssl/certs/ca-certificates.crt", certs}} {
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: f.name, Mode: 0o644, Size: int64(len(f.data)), ModTime: epoch}); err != nil {
			return nil, err
		}
		if _, err := tw.Write(f.data); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}
