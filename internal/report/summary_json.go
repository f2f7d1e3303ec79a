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
	const field = "\n      \""
	ok := true
	str := func(name, v string) {
		dst = append(dst, field...)
		dst = append(dst, name...)
		dst = append(dst, `": `...)
		dst, ok = appendJSONString(dst, v, ok)
	}
	tm := func(name string, t time.Time) {
		dst = append(dst, field...)
		dst = append(dst, name...)
		dst = append(dst, `": "`...)
		if y := t.Year(); y < 0 || y > 9999 {
			ok = false
			return
		}
		dst = t.AppendFormat(dst, time.RFC3339Nano)
		dst = append(dst, '"')
	}
	dst = append(dst, '{')
	str("key", o.Key)
	dst = append(dst, ',')
	str("customer_reference", o.CustomerReference)
	dst = append(dst, ',')
	str("ibx", o.IBX)
	dst = append(dst, ","+field+`cages": `...)
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
		dst = append(dst, ',')
		str("cabinet", o.Cabinet)
	}
	if o.Account != "" {
		dst = append(dst, ',')
		str("account", o.Account)
	}
	dst = append(dst, ',')
	tm("start", o.Start)
	dst = append(dst, ',')
	tm("end", o.End)
	dst = append(dst, ',')
	str("zone", o.Zone)
	dst = append(dst, ',')
	str("local_start", o.LocalStart)
	dst = append(dst, ',')
	str("local_end", o.LocalEnd)
	dst = append(dst, ","+field+`open_cabinet": `...)
	dst = strconv.AppendBool(dst, o.OpenCabinet)
	dst = append(dst, ","+field+`visitors": `...)
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
