package roster

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/csv"
	"errors"
	"io"
	"math/bits"
)

// csvParser splits CSV text into records exactly as encoding/csv does with
// a one-byte Comma, FieldsPerRecord -1 and no LazyQuotes, Comment or
// TrimLeadingSpace: blank lines are skipped, \r\n ends a line as \n does,
// a quoted field may hold separators, doubled quotes and line breaks, and a
// quote anywhere else is an error (a *csv.ParseError wrapping
// csv.ErrBareQuote or csv.ErrQuote).
//
// It is faster than encoding/csv for what rosters are: a line without any
// quote becomes its record's one string with no further copy, and the
// fields are found with bytes.IndexByte.
type csvParser struct {
	r     *bufio.Reader
	comma byte
	line  int // lines read so far
	// breaks counts the line breaks inside quoted fields so far, and
	// recBreaks those before the record read last: a spreadsheet app shows
	// a record as one row, however many lines it takes.
	breaks, recBreaks int

	long   []byte // a line longer than the bufio buffer
	buf    []byte // the fields of a quoted record, unquoted
	ends   []int  // where each field of buf ends
	fields []string
	// ascii tells that every field of the record read last is ASCII.
	ascii bool
}

func newCSVParser(r *bufio.Reader, comma byte) *csvParser {
	return &csvParser{r: r, comma: comma}
}

// readLine returns the next line with \r\n turned into \n, or nil at the
// end of the input. The line is valid until the next call.
func (p *csvParser) readLine() ([]byte, error) {
	line, err := p.r.ReadSlice('\n')
	if errors.Is(err, bufio.ErrBufferFull) {
		p.long = append(p.long[:0], line...)
		for errors.Is(err, bufio.ErrBufferFull) {
			if recordTooLong(len(p.long)) {
				return nil, &csv.ParseError{StartLine: p.line + 1, Line: p.line + 1, Err: errRecordTooLong}
			}
			line, err = p.r.ReadSlice('\n')
			p.long = append(p.long, line...)
		}
		line = p.long
	}
	if len(line) > 0 && errors.Is(err, io.EOF) {
		err = nil
		if line[len(line)-1] == '\r' {
			line = line[:len(line)-1]
		}
	}
	if n := len(line); n >= 2 && line[n-2] == '\r' && line[n-1] == '\n' {
		line[n-2] = '\n'
		line = line[:n-1]
	}
	if len(line) > 0 {
		p.line++
	}
	return line, err
}

// read returns the next record's fields, which share one string, and the
// line it starts on. The slice is reused by the next call. It returns
// io.EOF after the last record. The record's row, as a spreadsheet app
// shows it, is the line less recBreaks.
func (p *csvParser) read() ([]string, int, error) {
	var line []byte
	for {
		var err error
		line, err = p.readLine()
		if len(line) == 0 {
			if err == nil {
				err = io.EOF
			}
			return nil, 0, err
		}
		if len(line) > 1 || line[0] != '\n' {
			break
		}
	}
	start := p.line
	p.recBreaks = p.breaks
	plain := line
	if plain[len(plain)-1] == '\n' {
		plain = plain[:len(plain)-1]
	}
	if p.splitPlain(plain) {
		// The common case: no quotes, so the fields are the line's pieces.
		s := string(plain)
		p.fields = p.fields[:0]
		from := 0
		for _, end := range p.ends {
			p.fields = append(p.fields, s[from:end])
			from = end + 1
		}
		p.fields = append(p.fields, s[from:])
		return p.fields, start, nil
	}
	return p.readQuoted(line, start)
}

// splitPlain finds where the separators of a line are, eight bytes at a
// time, and puts them in ends, and tells in ascii whether the line is
// ASCII. It reports false, and leaves the line to readQuoted, when the line
// has a quote.
func (p *csvParser) splitPlain(line []byte) bool {
	p.ends = p.ends[:0]
	comma, quote := uint64(p.comma)*lsbs, uint64('"')*lsbs
	var acc uint64
	i := 0
	for ; i+8 <= len(line); i += 8 {
		w := binary.LittleEndian.Uint64(line[i:])
		acc |= w
		if zeroBytes(w^quote) != 0 {
			return false
		}
		for m := zeroBytes(w ^ comma); m != 0; m &= m - 1 {
			p.ends = append(p.ends, i+bits.TrailingZeros64(m)/8)
		}
	}
	for ; i < len(line); i++ {
		switch b := line[i]; b {
		case '"':
			return false
		case p.comma:
			p.ends = append(p.ends, i)
		}
		acc |= uint64(line[i])
	}
	p.ascii = acc&msbs == 0
	return true
}

// zeroBytes returns the high bit of each byte of w that is zero, and no
// other bit.
func zeroBytes(w uint64) uint64 {
	const low7 = ^uint64(msbs)
	t := (w & low7) + low7 // the high bit is set where the low seven bits are not all zero
	return ^(t | w | low7)
}

// readQuoted parses a record with quotes in its first line, as
// encoding/csv's readRecord does.
func (p *csvParser) readQuoted(line []byte, start int) ([]string, int, error) {
	p.buf, p.ends = p.buf[:0], p.ends[:0]
	col := 1 // 1-based byte column of line[0] in the current line
	fail := func(err error) ([]string, int, error) {
		return nil, 0, &csv.ParseError{StartLine: start, Line: p.line, Column: col, Err: err}
	}
	for {
		if len(line) == 0 || line[0] != '"' {
			// An unquoted field.
			i := bytes.IndexByte(line, p.comma)
			field := line
			if i >= 0 {
				field = line[:i]
			} else {
				field = field[:len(field)-lengthNL(field)]
			}
			if j := bytes.IndexByte(field, '"'); j >= 0 {
				col += j
				return fail(csv.ErrBareQuote)
			}
			p.buf = append(p.buf, field...)
			p.ends = append(p.ends, len(p.buf))
			if i < 0 {
				break
			}
			line = line[i+1:]
			col += i + 1
			continue
		}
		// A quoted field.
		line = line[1:]
		col++
		for {
			i := bytes.IndexByte(line, '"')
			switch {
			case i >= 0:
				p.buf = append(p.buf, line[:i]...)
				line = line[i+1:]
				col += i + 1
				switch rest := line; {
				case len(rest) > 0 && rest[0] == '"':
					p.buf = append(p.buf, '"')
					line = line[1:]
					col++
					continue
				case len(rest) > 0 && rest[0] == p.comma:
					line = line[1:]
					col++
					p.ends = append(p.ends, len(p.buf))
				case lengthNL(rest) == len(rest):
					p.ends = append(p.ends, len(p.buf))
					return p.strings(start)
				default:
					col--
					return fail(csv.ErrQuote)
				}
			case len(line) > 0:
				// The field goes on past the end of the line.
				p.buf = append(p.buf, line...)
				if recordTooLong(len(p.buf)) {
					return fail(errRecordTooLong)
				}
				next, err := p.readLine()
				if err != nil && !errors.Is(err, io.EOF) {
					return nil, 0, err
				}
				line, col = next, 1
				if len(next) > 0 {
					p.breaks++
				}
				continue
			default:
				// The input ends inside the quotes.
				return fail(csv.ErrQuote)
			}
			break
		}
	}
	return p.strings(start)
}

// strings cuts buf into the record's fields.
func (p *csvParser) strings(start int) ([]string, int, error) {
	s := string(p.buf)
	p.ascii = isASCII(s)
	p.fields = p.fields[:0]
	from := 0
	for _, end := range p.ends {
		p.fields = append(p.fields, s[from:end])
		from = end
	}
	return p.fields, start, nil
}

// lengthNL is 1 when b ends in a line feed.
func lengthNL(b []byte) int {
	if len(b) > 0 && b[len(b)-1] == '\n' {
		return 1
	}
	return 0
}
