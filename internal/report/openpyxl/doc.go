// Package openpyxl lets tests open workbooks with Python's openpyxl (Debian's
// python3-openpyxl, through /usr/bin/python3), the strictest common reader
// of .xlsx files and the one pandas uses: a report that opens in Excel but
// not in openpyxl is still a broken report for many of its readers.
//
// Without /usr/bin/python3 and openpyxl a test that needs them is skipped
// with one line, unless the environment variable CI is set, where it fails.
package openpyxl
