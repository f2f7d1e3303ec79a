package roster

import (
	"io"
	"strings"

	"github.com/richardlehane/mscfb"
)

// oleKind tells apart the files that are OLE compound documents: a legacy
// .xls (a "Workbook" or "Book" stream), a password-protected .xlsx (an
// "EncryptionInfo" stream next to the encrypted package) or something else.
func oleKind(ra io.ReaderAt, size int64) (kind fileKind) {
	defer func() {
		// A damaged compound file must not stop the error message.
		if recover() != nil {
			kind = kindOLE
		}
	}()
	r, err := mscfb.New(io.NewSectionReader(ra, 0, size))
	if err != nil {
		return kindOLE
	}
	kind = kindOLE
	for _, f := range r.File {
		switch strings.ToLower(f.Name) {
		case "encryptioninfo", "encryptedpackage":
			return kindEncrypted
		case "workbook", "book":
			kind = kindXLS
		}
	}
	return kind
}
