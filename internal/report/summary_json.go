package report

import (
	"encoding/json"
	"strconv"
	"time"

	"github.com/wvbatch/wvbatch/internal/roster"
)

// appendPlannedOrder appends o as json.MarshalIndent(o, "    ", "  ")
// writes it, without reflection: a million-order plan spends most of
// summary.json's time there otherwise. Anything the fast path does not
// write the same way (text to escape, a year outside 0-9999) goes through
// encoding/json.
func appendPlannedOrder(dst []byte, o *PlannedOrder) ([]byte, error) {
	start := len(dst)
	ok := true
	// key starts a field: a comma after the one before, a new line, the
	// indent, the name.
	key := func(name string) {
		if dst[len(dst)-1] != '{' {
			dst = append(dst, ',')
		}
		dst = append(dst, "\n      \""...)
		dst = append(dst, name...)
		dst = append(dst, `": `...)
	}
	str := func(name, v string) {
		key(name)
		dst, ok = appendJSONString(dst, v, ok)
	}
	tm := func(name string, t time.Time) {
		key(name)
		if y := t.Year(); y < 0 || y > 9999 {
			ok = false
			return
		}
		dst = append(dst, '"')
		dst = t.AppendFormat(dst, time.RFC3339Nano)
		dst = append(dst, '"')
	}
	dst = append(dst, '{')
	str("key", o.Key)
	str("customer_reference", o.CustomerReference)
	str("ibx", o.IBX)
	key("cages")
	switch {
	case o.Cages == nil:
		dst = append(dst, "null"...)
	case len(o.Cages) == 0:
		dst = append(dst, "[]"...)
	default:
		dst = append(dst, '[')
		for i, c := range o.Cages {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = append(dst, "\n        "...)
			dst, ok = appendJSONString(dst, c, ok)
		}
		dst = append(dst, "\n      ]"...)
	}
	if o.Cabinet != "" {
		str("cabinet", o.Cabinet)
	}
	if o.Account != "" {
		str("account", o.Account)
	}
	tm("start", o.Start)
	tm("end", o.End)
	str("zone", o.Zone)
	str("local_start", o.LocalStart)
	str("local_end", o.LocalEnd)
	key("open_cabinet")
	dst = strconv.AppendBool(dst, o.OpenCabinet)
	key("visitors")
	dst = strconv.AppendInt(dst, int64(o.Visitors), 10)
	dst = append(dst, "\n    }"...)
	if ok {
		return dst, nil
	}
	b, err := json.MarshalIndent(o, "    ", "  ")
	return append(dst[:start], b...), err
}

// appendRowError appends e as json.MarshalIndent(e, "    ", "  ") writes
// it, without reflection; text it does not write the same way (see
// appendJSONText) goes through encoding/json.
func appendRowError(dst []byte, e *roster.RowError) ([]byte, error) {
	start := len(dst)
	ok := true
	dst = append(dst, "{\n      \"row\": "...)
	dst = strconv.AppendInt(dst, int64(e.Row), 10)
	for _, f := range [...]struct{ name, v string }{{"column", e.Column}, {"field", e.Field}, {"value", e.Value},
		{"code", e.Code}, {"message", e.Message}, {"hint", e.Hint}} {
		dst = append(dst, ",\n      \""...)
		dst = append(dst, f.name...)
		dst = append(dst, `": `...)
		dst, ok = appendJSONText(dst, f.v, ok)
	}
	dst = append(dst, "\n    }"...)
	if ok {
		return dst, nil
	}
	b, err := json.MarshalIndent(e, "    ", "  ")
	return append(dst[:start], b...), err
}

// appendJSONText appends s quoted as encoding/json does, when it is ASCII;
// otherwise it reports false.
func appendJSONText(dst []byte, s string, ok bool) ([]byte, bool) {
	const hex = "0123456789abcdef"
	dst = append(dst, '"')
	from := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x80 {
			return dst, false
		}
		if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
			continue
		}
		dst = append(dst, s[from:i]...)
		from = i + 1
		switch c {
		case '"', '\\':
			dst = append(dst, '\\', c)
		case '\n':
			dst = append(dst, '\\', 'n')
		case '\r':
			dst = append(dst, '\\', 'r')
		case '\t':
			dst = append(dst, '\\', 't')
		case '\b':
			dst = append(dst, '\\', 'b')
		case '\f':
			dst = append(dst, '\\', 'f')
		default:
			dst = append(dst, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
		}
	}
	dst = append(dst, s[from:]...)
	return append(dst, '"'), ok
}

// appendJSONString appends s quoted, when it is printable ASCII that
// encoding/json writes as it is; otherwise it reports false.
func appendJSONString(dst []byte, s string, ok bool) ([]byte, bool) {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c > 0x7e || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			return dst, false
		}
	}
	dst = append(dst, '"')
	dst = append(dst, s...)
	return append(dst, '"'), ok
}
