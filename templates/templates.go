package templates

import "embed"

// FS holds the email body templates: report.txt.tmpl (text/template) and
// report.html.tmpl (html/template).
//
//go:embed *.tmpl
var FS embed.FS

// RosterXLSX is the empty roster workbook users fill in.
//
//go:embed roster.xlsx
var RosterXLSX []byte
