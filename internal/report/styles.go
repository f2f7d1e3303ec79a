package report

import (
	"bytes"
	"regexp"
	"strconv"
)

// styleBook is the report's styles part: the source workbook's own styles,
// kept where they are valid so that every copied cell keeps its style id,
// and the few styles the report adds after them.
type styleBook struct {
	doc   []byte   // the source's styles part ("" = a fresh one)
	xfs   [][]byte // the source's cell formats (<xf> of cellXfs)
	fonts int      // fonts and fills in the source
	fills int
	font0 []byte // the source's first font

	addFonts, addFills, addXfs []string
	fillIDs                    map[string]int
	ids                        map[styleKey]int
	boldFont                   int
}

type styleKey struct {
	src  int
	kind int
	fill string
}

const (
	kindFlagged = iota // a source cell's style with a fill
	kindHeader         // bold with the header fill
	kindBold
	kindReport // a report column's cell: top-aligned, wrapped or not
	kindReportWrap
)

// freshStyles is the styles part of a workbook made from a CSV.
const freshStyles = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><fonts count="1"><font><sz val="11"/><name val="Calibri"/><family val="2"/></font></fonts><fills count="2"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill></fills><borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders><cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs><cellXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/></cellXfs><cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles></styleSheet>`

var (
	reRGB        = regexp.MustCompile(`\brgb="([^"]*)"`)
	rePattern    = regexp.MustCompile(`\bpatternType="([^"]*)"`)
	reCount      = regexp.MustCompile(`\bcount="[0-9]*"`)
	reXfElement  = regexp.MustCompile(`(?s)<xf\b[^>]*?/>|<xf\b[^>]*[^/]>.*?</xf>`)
	reFontElem   = regexp.MustCompile(`(?s)<font\b[^>]*?/>|<font\b[^>]*[^/]>.*?</font>|<font>.*?</font>`)
	reFillElem   = regexp.MustCompile(`(?s)<fill\b[^>]*?/>|<fill\b[^>]*[^/]>.*?</fill>|<fill>.*?</fill>`)
	reAttrFillID = regexp.MustCompile(`\bfillId="[^"]*"`)
	reAttrFontID = regexp.MustCompile(`\bfontId="[^"]*"`)
	reApplyFill  = regexp.MustCompile(`\bapplyFill="[^"]*"`)
	reApplyFont  = regexp.MustCompile(`\bapplyFont="[^"]*"`)
	reHexColor   = regexp.MustCompile(`^[0-9A-Fa-f]+$`)
)

var patternTypes = map[string]bool{"none": true, "solid": true, "mediumGray": true, "darkGray": true, "lightGray": true,
	"darkHorizontal": true, "darkVertical": true, "darkDown": true, "darkUp": true, "darkGrid": true, "darkTrellis": true,
	"lightHorizontal": true, "lightVertical": true, "lightDown": true, "lightUp": true, "lightGrid": true, "lightTrellis": true,
	"gray125": true, "gray0625": true}

// newStyleBook reads the source's styles part; nil or a part it cannot
// make sense of gives fresh styles (and the source's cells lose theirs:
// see keeps).
func newStyleBook(src []byte) *styleBook {
	b := &styleBook{fillIDs: map[string]int{}, ids: map[styleKey]int{}}
	if src != nil && b.parse(sanitizeStyles(src)) {
		return b
	}
	b.xfs, b.fonts, b.fills, b.font0 = nil, 0, 0, nil
	if !b.parse([]byte(freshStyles)) {
		panic("report: the fresh styles part does not parse")
	}
	b.xfs = b.xfs[:1]
	return b
}

// sanitizeStyles makes the colours 8-digit aRGB (6 digits get an opaque
// alpha; anything else is dropped) and drops pattern types that do not
// exist, which strict readers (openpyxl, pandas) refuse.
func sanitizeStyles(doc []byte) []byte {
	doc = reRGB.ReplaceAllFunc(doc, func(m []byte) []byte {
		v := reRGB.FindSubmatch(m)[1]
		switch {
		case len(v) == 8 && reHexColor.Match(v):
			return m
		case len(v) == 6 && reHexColor.Match(v):
			return []byte(`rgb="FF` + string(bytes.ToUpper(v)) + `"`)
		}
		return nil
	})
	return rePattern.ReplaceAllFunc(doc, func(m []byte) []byte {
		if patternTypes[string(rePattern.FindSubmatch(m)[1])] {
			return m
		}
		return nil
	})
}

// section returns the content of <name ...>…</name> in doc: the offsets of
// the content's start and end.
func section(doc []byte, name string) (start, end int, ok bool) {
	open := bytes.Index(doc, []byte("<"+name))
	if open < 0 {
		return 0, 0, false
	}
	gt := bytes.IndexByte(doc[open:], '>')
	if gt < 0 || doc[open+gt-1] == '/' {
		return 0, 0, false
	}
	start = open + gt + 1
	e := bytes.Index(doc[start:], []byte("</"+name+">"))
	if e < 0 {
		return 0, 0, false
	}
	return start, start + e, true
}

func (b *styleBook) parse(doc []byte) bool {
	fs, fe, ok1 := section(doc, "fonts")
	ls, le, ok2 := section(doc, "fills")
	xs, xe, ok3 := section(doc, "cellXfs")
	if !ok1 || !ok2 || !ok3 {
		return false
	}
	fonts := reFontElem.FindAll(doc[fs:fe], -1)
	fills := reFillElem.FindAll(doc[ls:le], -1)
	xfs := reXfElement.FindAll(doc[xs:xe], -1)
	if len(fonts) == 0 || len(xfs) == 0 {
		return false
	}
	b.doc, b.fonts, b.fills, b.font0 = doc, len(fonts), len(fills), fonts[0]
	b.xfs = xfs
	return true
}

// keeps reports whether a source style id is one the report keeps.
func (b *styleBook) keeps(id int) int {
	if id >= 0 && id < len(b.xfs) {
		return id
	}
	return 0
}

func (b *styleBook) fill(color string) int {
	if id, ok := b.fillIDs[color]; ok {
		return id
	}
	id := b.fills + len(b.addFills)
	b.addFills = append(b.addFills, `<fill><patternFill patternType="solid"><fgColor rgb="`+color+`"/><bgColor indexed="64"/></patternFill></fill>`)
	b.fillIDs[color] = id
	return id
}

func (b *styleBook) bold() int {
	if b.boldFont == 0 {
		f := b.font0
		i := bytes.IndexByte(f, '>')
		var nf []byte
		if f[i-1] == '/' { // <font/>
			nf = []byte("<font><b/></font>")
		} else {
			nf = append(append(append([]byte{}, f[:i+1]...), "<b/>"...), f[i+1:]...)
		}
		b.boldFont = b.fonts + len(b.addFonts)
		b.addFonts = append(b.addFonts, string(nf))
	}
	return b.boldFont
}

// setAttr sets an attribute of an <xf> element.
func setAttr(xf []byte, re *regexp.Regexp, name, value string) []byte {
	attr := name + `="` + value + `"`
	if re.Match(xf) {
		return re.ReplaceAll(xf, []byte(attr))
	}
	return append([]byte(`<xf `+attr+" "), bytes.TrimPrefix(xf, []byte("<xf"))...)
}

// style returns the id of a report style.
func (b *styleBook) style(k styleKey) int {
	if id, ok := b.ids[k]; ok {
		return id
	}
	var xf []byte
	switch k.kind {
	case kindFlagged:
		xf = setAttr(setAttr(b.xfs[b.keeps(k.src)], reAttrFillID, "fillId", strconv.Itoa(b.fill(k.fill))), reApplyFill, "applyFill", "1")
	case kindHeader, kindBold:
		xf = setAttr(setAttr(b.xfs[0], reAttrFontID, "fontId", strconv.Itoa(b.bold())), reApplyFont, "applyFont", "1")
		if k.fill != "" {
			xf = setAttr(setAttr(xf, reAttrFillID, "fillId", strconv.Itoa(b.fill(k.fill))), reApplyFill, "applyFill", "1")
		}
	case kindReport, kindReportWrap:
		fill := 0
		if k.fill != "" {
			fill = b.fill(k.fill)
		}
		wrap := ""
		if k.kind == kindReportWrap {
			wrap = ` wrapText="1"`
		}
		xf = []byte(`<xf numFmtId="0" fontId="0" fillId="` + strconv.Itoa(fill) + `" borderId="0" xfId="0" applyFill="1" applyAlignment="1"><alignment vertical="top"` + wrap + `/></xf>`)
	}
	id := len(b.xfs) + len(b.addXfs)
	b.addXfs = append(b.addXfs, string(xf))
	b.ids[k] = id
	return id
}

// part returns the styles part with the report's styles added.
func (b *styleBook) part() []byte {
	doc := b.doc
	add := func(doc []byte, name string, total int, elems []string) []byte {
		if len(elems) == 0 {
			return doc
		}
		_, end, _ := section(doc, name)
		var out []byte
		out = append(out, doc[:end]...)
		for _, e := range elems {
			out = append(out, e...)
		}
		out = append(out, doc[end:]...)
		// The count of the section's opening tag.
		open := bytes.Index(out, []byte("<"+name))
		gt := open + bytes.IndexByte(out[open:], '>')
		tag := out[open:gt]
		count := `count="` + strconv.Itoa(total) + `"`
		var nt []byte
		if reCount.Match(tag) {
			nt = reCount.ReplaceAll(tag, []byte(count))
		} else {
			nt = append(append([]byte{}, tag...), " "+count...)
		}
		return append(append(append([]byte{}, out[:open]...), nt...), out[gt:]...)
	}
	doc = add(doc, "fonts", b.fonts+len(b.addFonts), b.addFonts)
	doc = add(doc, "fills", b.fills+len(b.addFills), b.addFills)
	doc = add(doc, "cellXfs", len(b.xfs)+len(b.addXfs), b.addXfs)
	return doc
}
