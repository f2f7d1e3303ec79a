package report

import (
	"encoding/json"
	"strconv"
	"time"
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
