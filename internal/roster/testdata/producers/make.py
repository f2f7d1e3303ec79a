#!/usr/bin/python3
"""Writes the producer fixtures: the roster of roster.csv, as each spreadsheet
program and library writes it.

Run by hand (not in CI) from anywhere, with Debian's packages installed:

    apt-get install python3-openpyxl python3-xlsxwriter python3-pandas \
        libreoffice-calc-nogui gnumeric
    /usr/bin/python3 internal/roster/testdata/producers/make.py

It rewrites every *.xlsx and *.csv of this folder but roster.csv, and
fixtures.json, which says what each file is and what reading it must give
beyond the rows of roster.csv (hidden rows, the Order sheet, rows whose
formulas were never calculated). The test that reads them is
TestProducerFixtures in internal/importer.
"""

import csv
import datetime
import json
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from xml.sax.saxutils import escape

import openpyxl
import pandas
import xlsxwriter
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils.datetime import CALENDAR_MAC_1904

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.path.join(HERE, "roster.csv")
TEMPLATE = os.path.join(HERE, "..", "..", "..", "..", "templates", "roster.xlsx")

with open(SOURCE, newline="", encoding="utf-8") as f:
    ROWS = list(csv.reader(f))
HEADER, DATA = ROWS[0], ROWS[1:]
COL = {name: i for i, name in enumerate(HEADER)}
DATE_COLS = {COL["Visit Start"], COL["Visit End"]}
CODE_COLS = {COL["Cabinet"], COL["Account Number"], COL["Mobile Country Code"], COL["Mobile Phone"]}
LAST = openpyxl.utils.get_column_letter(len(HEADER))
DATE_FORMAT = "yyyy-mm-dd hh:mm"

ORDER = [
    ("Description", "Quarterly UPS maintenance in the January window"),
    ("Customer Reference Prefix", "UPS-Q1"),
    ("Technical Contact", "facilities.lead"),
    ("Notification Contacts", "noc.amsterdam"),
    ("Purchase Order", "PO-2027-0042"),
    ("Report Email", ""),
]
ORDER_EXPECT = {
    "Description": ORDER[0][1], "ReferencePrefix": ORDER[1][1], "TechnicalContact": ORDER[2][1],
    "NotificationContacts": [ORDER[3][1]], "PurchaseOrder": ORDER[4][1],
}
TITLE = "Contractor visits, January 2027"

FIXTURES = {}


def fixture(name, what, header_row=1, hidden=(), order=False, uncalculated=(), numbers=False):
    """Records what reading a fixture must give. hidden lists the data rows
    (1 = the first visitor) hidden in the workbook; uncalculated the
    (data row, column name) of formulas without a saved value; numbers says
    the code columns are number cells (Cabinet 0101 is 101)."""
    FIXTURES[name] = {
        "what": what, "header_row": header_row, "hidden": list(hidden),
        "order": ORDER_EXPECT if order else None,
        "uncalculated": [[r, c] for r, c in uncalculated], "numbers": numbers,
    }


def as_date(s):
    return datetime.datetime.strptime(s, "%Y-%m-%d %H:%M")


def value(col, s, numbers=False):
    """A cell's value as a script would write it: dates as datetimes, codes
    as text, or as numbers when numbers is set (what a General cell makes of
    them)."""
    if s == "":
        return None
    if col in DATE_COLS:
        return as_date(s)
    if numbers and col in CODE_COLS:
        t = s.lstrip("+")
        if t.isdigit():
            return int(t)
    return s


def out(name):
    return os.path.join(HERE, name)


# --- openpyxl -------------------------------------------------------------

def openpyxl_sheet(ws, first_row=1, numbers=False):
    ws.append(HEADER) if first_row == 1 else None
    for r, row in enumerate(DATA):
        for c, s in enumerate(row):
            cell = ws.cell(row=first_row + 1 + r, column=c + 1, value=value(c, s, numbers))
            if c in DATE_COLS:
                cell.number_format = DATE_FORMAT


def openpyxl_order(wb):
    ws = wb.create_sheet("Order")
    ws.append(["Setting", "Value"])
    for label, v in ORDER:
        ws.append([label, v or None])


def openpyxl_plain():
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Visitors"
    openpyxl_sheet(ws)
    wb.save(out("openpyxl-plain.xlsx"))
    fixture("openpyxl-plain.xlsx", "openpyxl: one sheet, codes as text, date cells")


def openpyxl_numbers():
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Visitors"
    openpyxl_sheet(ws, numbers=True)
    wb.save(out("openpyxl-numbers.xlsx"))
    fixture("openpyxl-numbers.xlsx", "openpyxl: codes written as numbers (Cabinet 0101 is the number 101)", numbers=True)


def openpyxl_1904():
    wb = openpyxl.Workbook()
    wb.epoch = CALENDAR_MAC_1904
    ws = wb.active
    ws.title = "Visitors"
    openpyxl_sheet(ws)
    wb.save(out("openpyxl-1904.xlsx"))
    fixture("openpyxl-1904.xlsx", "openpyxl: the 1904 date system")


def openpyxl_styled(name="openpyxl-styled.xlsx"):
    """A title row merged across the columns above the header, a styled
    header, column widths, a frozen header, an autofilter, two rows hidden
    by hand, a hidden Notes column, and Order and Help sheets."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Visitors"
    ws["A1"] = TITLE
    ws["A1"].font = Font(bold=True, size=14, color="FF1F4E78")
    ws.merge_cells("A1:%s1" % LAST)
    head = HEADER + ["Notes"]
    thin = Side(style="thin", color="FF808080")
    for c, label in enumerate(head):
        cell = ws.cell(row=2, column=c + 1, value=label)
        cell.font = Font(bold=True, color="FFFFFFFF")
        cell.fill = PatternFill("solid", fgColor="FF1F4E78")
        cell.border = Border(bottom=thin)
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        ws.column_dimensions[openpyxl.utils.get_column_letter(c + 1)].width = 18
    for r, row in enumerate(DATA):
        for c, s in enumerate(row):
            cell = ws.cell(row=3 + r, column=c + 1, value=value(c, s))
            if c in DATE_COLS:
                cell.number_format = DATE_FORMAT
            if r % 2:
                cell.fill = PatternFill("solid", fgColor="FFF2F2F2")
        ws.cell(row=3 + r, column=len(head), value="note %d" % (r + 1))
    notes = openpyxl.utils.get_column_letter(len(head))
    ws.column_dimensions[notes].hidden = True
    ws.freeze_panes = "A3"
    ws.auto_filter.ref = "A2:%s%d" % (notes, 2 + len(DATA))
    for k in (5, 6):  # visitors 5 and 6, hidden by hand
        ws.row_dimensions[2 + k].hidden = True
    openpyxl_order(wb)
    help_ = wb.create_sheet("Help")
    help_["A1"] = "Fill in one visitor per row."
    wb.save(out(name))
    fixture(name, "openpyxl: merged title row, styled header, frozen panes, autofilter, rows hidden by hand, "
            "hidden column, Order and Help sheets", header_row=2, hidden=[5, 6], order=True)


def openpyxl_formulas():
    """Formulas without saved values: openpyxl never calculates."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Visitors"
    openpyxl_sheet(ws)
    for r in range(len(DATA)):
        row = 2 + r
        if DATA[r][COL["IBX"]]:
            ws.cell(row=row, column=COL["IBX"] + 1, value='=LEFT(B%d,3)' % row)
    wb.save(out("openpyxl-formulas.xlsx"))
    rows = [r + 1 for r in range(len(DATA)) if DATA[r][COL["IBX"]]]
    fixture("openpyxl-formulas.xlsx", "openpyxl: IBX as =LEFT(Cage,3) formulas, never calculated",
            uncalculated=[(r, "IBX") for r in rows])


def openpyxl_template():
    """The project's own template, filled in with openpyxl."""
    wb = openpyxl.load_workbook(TEMPLATE)
    ws = wb["Visitors"]
    for r, row in enumerate(DATA):
        for c, s in enumerate(row):
            cell = ws.cell(row=2 + r, column=c + 1, value=value(c, s))
    order = wb["Order"]
    for i, (label, v) in enumerate(ORDER):
        assert order.cell(row=2 + i, column=1).value == label
        order.cell(row=2 + i, column=2, value=v or None)
    wb.save(out("openpyxl-template.xlsx"))
    fixture("openpyxl-template.xlsx", "openpyxl: the wvbatch template filled in and saved", order=True)


# --- XlsxWriter -----------------------------------------------------------

def xlsxwriter_book(name, options=None, numbers=False):
    wb = xlsxwriter.Workbook(out(name), options or {})
    ws = wb.add_worksheet("Visitors")
    date = wb.add_format({"num_format": DATE_FORMAT})
    ws.write_row(0, 0, HEADER)
    for r, row in enumerate(DATA):
        for c, s in enumerate(row):
            v = value(c, s, numbers)
            if v is None:
                continue
            if c in DATE_COLS:
                ws.write_datetime(r + 1, c, v, date)
            elif isinstance(v, int):
                ws.write_number(r + 1, c, v)
            else:
                ws.write_string(r + 1, c, v)
    return wb, ws


def xlsxwriter_plain():
    wb, _ = xlsxwriter_book("xlsxwriter-plain.xlsx")
    wb.close()
    fixture("xlsxwriter-plain.xlsx", "XlsxWriter: shared strings, date cells")


def xlsxwriter_inline():
    wb, _ = xlsxwriter_book("xlsxwriter-constant-memory.xlsx", {"constant_memory": True})
    wb.close()
    fixture("xlsxwriter-constant-memory.xlsx", "XlsxWriter in constant_memory mode: inline strings")


def xlsxwriter_1904():
    wb, _ = xlsxwriter_book("xlsxwriter-1904.xlsx", {"date_1904": True})
    wb.close()
    fixture("xlsxwriter-1904.xlsx", "XlsxWriter: the 1904 date system")


def xlsxwriter_styled():
    """Title row merged above the header, formats, frozen panes, an
    autofilter with rows hidden, a hidden column, formulas with their
    values saved, and Order and Help sheets."""
    name = "xlsxwriter-styled.xlsx"
    wb = xlsxwriter.Workbook(out(name))
    ws = wb.add_worksheet("Visitors")
    title = wb.add_format({"bold": True, "font_size": 14, "font_color": "#1F4E78"})
    head = wb.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1, "text_wrap": True})
    date = wb.add_format({"num_format": DATE_FORMAT, "bg_color": "#FFF2CC"})
    text = wb.add_format({"num_format": "@"})
    ws.merge_range(0, 0, 0, len(HEADER) - 1, TITLE, title)
    ws.write_row(1, 0, HEADER + ["Notes"], head)
    for r, row in enumerate(DATA):
        for c, s in enumerate(row):
            v = value(c, s)
            if v is None:
                continue
            if c in DATE_COLS:
                ws.write_datetime(r + 2, c, v, date)
            elif c == COL["IBX"]:
                ws.write_formula(r + 2, c, "=LEFT(B%d,3)" % (r + 3), None, v)
            else:
                ws.write_string(r + 2, c, v, text if c in CODE_COLS else None)
        ws.write_string(r + 2, len(HEADER), "note %d" % (r + 1))
    ws.set_column(0, len(HEADER) - 1, 18)
    ws.set_column(len(HEADER), len(HEADER), None, None, {"hidden": True})
    ws.freeze_panes(2, 0)
    ws.autofilter(1, 0, 1 + len(DATA), len(HEADER))
    ws.filter_column(COL["Open Cabinet"], "x == N")
    for r, row in enumerate(DATA):
        if row[COL["Open Cabinet"]] != "N":
            ws.set_row(r + 2, None, None, {"hidden": True})
    order = wb.add_worksheet("Order")
    order.write_row(0, 0, ["Setting", "Value"], head)
    for i, (label, v) in enumerate(ORDER):
        order.write_string(i + 1, 0, label)
        if v:
            order.write_string(i + 1, 1, v)
    wb.add_worksheet("Help").write_string(0, 0, "Fill in one visitor per row.")
    wb.close()
    hidden = [r + 1 for r, row in enumerate(DATA) if row[COL["Open Cabinet"]] != "N"]
    fixture(name, "XlsxWriter: merged title row, formats, frozen panes, autofilter hiding rows, hidden column, "
            "IBX as formulas with saved values, Order and Help sheets", header_row=2, hidden=hidden, order=True)


# --- pandas ---------------------------------------------------------------

def pandas_default():
    """read_csv as most scripts call it: codes become numbers (0101 → 101,
    0031 → 31), empty cells NaN, dates stay text."""
    df = pandas.read_csv(SOURCE)
    df.to_excel(out("pandas-openpyxl.xlsx"), sheet_name="Visitors", index=False, engine="openpyxl")
    fixture("pandas-openpyxl.xlsx", "pandas read_csv + to_excel (openpyxl): codes inferred as numbers, dates as text",
            numbers=True)


def pandas_typed():
    """Codes kept as text, dates parsed, written through XlsxWriter."""
    df = pandas.read_csv(SOURCE, dtype=str, keep_default_na=False, parse_dates=["Visit Start", "Visit End"])
    with pandas.ExcelWriter(out("pandas-xlsxwriter.xlsx"), engine="xlsxwriter",
                            datetime_format=DATE_FORMAT) as w:
        df.to_excel(w, sheet_name="Visitors", index=False)
    fixture("pandas-xlsxwriter.xlsx", "pandas read_csv(dtype=str, parse_dates) + to_excel (XlsxWriter)")


# --- LibreOffice and Gnumeric ---------------------------------------------

def soffice(src, name, infilter=None, convert="xlsx:Calc MS Excel 2007 XML"):
    with tempfile.TemporaryDirectory() as tmp:
        args = ["soffice", "-env:UserInstallation=file://%s/profile" % tmp, "--headless"]
        if infilter:
            args.append("--infilter=" + infilter)
        os.mkdir(os.path.join(tmp, "in"))
        src_copy = os.path.join(tmp, "in", os.path.splitext(name)[0] + os.path.splitext(src)[1])
        shutil.copy(src, src_copy)
        args += ["--convert-to", convert, "--outdir", tmp, src_copy]
        subprocess.run(args, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        shutil.move(os.path.join(tmp, name), out(name))


def libreoffice():
    # The CSV opened with the standard column types: 0101 becomes 101.
    soffice(SOURCE, "libreoffice-csv.xlsx", "CSV:44,34,76,1")
    fixture("libreoffice-csv.xlsx", "LibreOffice Calc: the CSV opened with standard columns and saved as .xlsx",
            numbers=True)
    # The code columns imported as Text.
    types = "/".join("%d/%d" % (i + 1, 2 if i in CODE_COLS else 1) for i in range(len(HEADER)))
    soffice(SOURCE, "libreoffice-text.xlsx", "CSV:44,34,76,1," + types)
    fixture("libreoffice-text.xlsx", "LibreOffice Calc: the CSV opened with the code columns as Text")
    # A macro-enabled workbook (.xlsm).
    soffice(SOURCE, "libreoffice-text.xlsm", "CSV:44,34,76,1," + types, "xlsm:Calc MS Excel 2007 VBA XML")
    fixture("libreoffice-text.xlsm", "LibreOffice Calc: the CSV with the code columns as Text, saved as a "
            "macro-enabled workbook (.xlsm)")
    # Workbooks of other producers, opened and saved again.
    soffice(out("openpyxl-styled.xlsx"), "libreoffice-styled.xlsx")
    f = dict(FIXTURES["openpyxl-styled.xlsx"])
    f["what"] = "LibreOffice Calc: openpyxl-styled.xlsx opened and saved"
    FIXTURES["libreoffice-styled.xlsx"] = f
    soffice(out("openpyxl-formulas.xlsx"), "libreoffice-formulas.xlsx")
    fixture("libreoffice-formulas.xlsx", "LibreOffice Calc: openpyxl-formulas.xlsx opened, calculated and saved")
    soffice(out("openpyxl-1904.xlsx"), "libreoffice-1904.xlsx")
    fixture("libreoffice-1904.xlsx", "LibreOffice Calc: openpyxl-1904.xlsx opened and saved")


def gnumeric():
    def ssconvert(src, name):
        subprocess.run(["ssconvert", "--export-type=Gnumeric_Excel:xlsx2", src, out(name)], check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    ssconvert(SOURCE, "gnumeric-csv.xlsx")
    fixture("gnumeric-csv.xlsx", "Gnumeric ssconvert: the CSV converted to .xlsx", numbers=True)
    ssconvert(out("openpyxl-styled.xlsx"), "gnumeric-styled.xlsx")
    f = dict(FIXTURES["openpyxl-styled.xlsx"])
    f["what"] = "Gnumeric ssconvert: openpyxl-styled.xlsx converted"
    FIXTURES["gnumeric-styled.xlsx"] = f
    ssconvert(out("xlsxwriter-styled.xlsx"), "gnumeric-formulas.xlsx")
    f = dict(FIXTURES["xlsxwriter-styled.xlsx"])
    f["what"] = "Gnumeric ssconvert: xlsxwriter-styled.xlsx (formulas with values) converted"
    FIXTURES["gnumeric-formulas.xlsx"] = f


# --- Excel's own layout, and a Google Sheets-style export -----------------

def col_name(i):
    return openpyxl.utils.get_column_letter(i + 1)


def serial(d, base=datetime.datetime(1899, 12, 30)):
    delta = d - base
    return delta.days + delta.seconds / 86400


def write_zip(name, parts):
    with zipfile.ZipFile(out(name), "w", zipfile.ZIP_DEFLATED) as z:
        for part, data in parts:
            z.writestr(part, data)


CT_HEAD = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\r\n'
           '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
           '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
           '<Default Extension="xml" ContentType="application/xml"/>'
           '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
           '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>')
ROOT_RELS = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\r\n'
             '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
             '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>'
             '</Relationships>')
NS_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
NS_R = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"


def excel_style():
    """The layout Excel itself saves: shared strings (one with rich text runs
    and one with a phonetic run), a styles part with built-in and custom
    number formats, the x14ac and xr extensions, spans, Text-formatted code
    columns, a General account number, dates as serials, IBX as shared
    formulas with their values saved, and an Order sheet."""
    strings, index = [], {}

    def sst(s):
        if s not in index:
            index[s] = len(strings)
            strings.append(s)
        return index[s]

    def si(s):
        if s == "Company":  # a header in two runs, as Excel keeps a partly bold cell
            return ('<si><r><rPr><b/><sz val="11"/><rFont val="Calibri"/></rPr><t>Comp</t></r>'
                    '<r><rPr><sz val="11"/><rFont val="Calibri"/></rPr><t>any</t></r></si>')
        if s == "Anna":  # with a phonetic guide, as Japanese Excel keeps
            return '<si><t>Anna</t><rPh sb="0" eb="4"><t>アンナ</t></rPh><phoneticPr fontId="1"/></si>'
        sp = ' xml:space="preserve"' if s != s.strip() else ""
        return "<si><t%s>%s</t></si>" % (sp, escape(s))

    rows = []
    cells = []
    for c, name in enumerate(HEADER):
        cells.append('<c r="%s1" s="1" t="s"><v>%d</v></c>' % (col_name(c), sst(name)))
    rows.append('<row r="1" spans="1:%d" x14ac:dyDescent="0.25">%s</row>' % (len(HEADER), "".join(cells)))
    for r, row in enumerate(DATA):
        n = r + 2
        cells = []
        for c, s in enumerate(row):
            ref = "%s%d" % (col_name(c), n)
            if c == COL["IBX"]:
                if r == 0:
                    f = '<f t="shared" ref="A2:A%d" si="0">LEFT(B2,3)</f>' % (len(DATA) + 1)
                else:
                    f = '<f t="shared" si="0"/>'
                cells.append('<c r="%s" t="str">%s<v>%s</v></c>' % (ref, f, escape(s or row[COL["Cage"]][:3])))
                continue
            if s == "":
                continue
            if c in DATE_COLS:
                cells.append('<c r="%s" s="2"><v>%s</v></c>' % (ref, repr(serial(as_date(s)))))
            elif c == COL["Account Number"]:
                cells.append('<c r="%s"><v>%s</v></c>' % (ref, s))  # typed in a General cell
            elif c in CODE_COLS:
                cells.append('<c r="%s" s="3" t="s"><v>%d</v></c>' % (ref, sst(s)))
            else:
                cells.append('<c r="%s" t="s"><v>%d</v></c>' % (ref, sst(s)))
        rows.append('<row r="%d" spans="1:%d" x14ac:dyDescent="0.25">%s</row>' % (n, len(HEADER), "".join(cells)))
    sheet = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\r\n'
             '<worksheet xmlns="%s" xmlns:r="%s" '
             'xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006" mc:Ignorable="x14ac xr xr2 xr3" '
             'xmlns:x14ac="http://schemas.microsoft.com/office/spreadsheetml/2009/9/ac" '
             'xmlns:xr="http://schemas.microsoft.com/office/spreadsheetml/2014/revision" '
             'xmlns:xr2="http://schemas.microsoft.com/office/spreadsheetml/2015/revision2" '
             'xmlns:xr3="http://schemas.microsoft.com/office/spreadsheetml/2016/revision3" '
             'xr:uid="{00000000-0001-0000-0000-000000000000}">'
             '<dimension ref="A1:%s%d"/><sheetViews><sheetView tabSelected="1" workbookViewId="0">'
             '<pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/>'
             '<selection pane="bottomLeft" activeCell="A2" sqref="A2"/></sheetView></sheetViews>'
             '<sheetFormatPr defaultRowHeight="15" x14ac:dyDescent="0.25"/>'
             '<cols><col min="1" max="%d" width="18.7109375" customWidth="1"/></cols>'
             '<sheetData>%s</sheetData>'
             '<pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" header="0.3" footer="0.3"/>'
             '</worksheet>') % (NS_MAIN, NS_R, LAST, len(DATA) + 1, len(HEADER), "".join(rows))
    order_cells = ['<row r="1"><c r="A1" t="s"><v>%d</v></c><c r="B1" t="s"><v>%d</v></c></row>' % (sst("Setting"), sst("Value"))]
    for i, (label, v) in enumerate(ORDER):
        cs = '<c r="A%d" t="s"><v>%d</v></c>' % (i + 2, sst(label))
        if v:
            cs += '<c r="B%d" t="s"><v>%d</v></c>' % (i + 2, sst(v))
        order_cells.append('<row r="%d">%s</row>' % (i + 2, cs))
    order = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\r\n<worksheet xmlns="%s" xmlns:r="%s">'
             '<sheetData>%s</sheetData></worksheet>') % (NS_MAIN, NS_R, "".join(order_cells))
    total = 2 * len(DATA) * len(HEADER)
    shared = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\r\n<sst xmlns="%s" count="%d" uniqueCount="%d">%s</sst>'
              % (NS_MAIN, total, len(strings), "".join(si(s) for s in strings)))
    styles = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\r\n'
              '<styleSheet xmlns="%s" xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006" '
              'mc:Ignorable="x14ac x16r2 xr" xmlns:x14ac="http://schemas.microsoft.com/office/spreadsheetml/2009/9/ac" '
              'xmlns:x16r2="http://schemas.microsoft.com/office/spreadsheetml/2015/02/main" '
              'xmlns:xr="http://schemas.microsoft.com/office/spreadsheetml/2014/revision">'
              '<numFmts count="1"><numFmt numFmtId="164" formatCode="yyyy\\-mm\\-dd\\ hh:mm"/></numFmts>'
              '<fonts count="2" x14ac:knownFonts="1"><font><sz val="11"/><color theme="1"/><name val="Calibri"/><family val="2"/>'
              '<scheme val="minor"/></font><font><b/><sz val="11"/><color theme="1"/><name val="Calibri"/><family val="2"/>'
              '<scheme val="minor"/></font></fonts>'
              '<fills count="3"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill>'
              '<fill><patternFill patternType="solid"><fgColor theme="4" tint="0.79998168889431442"/><bgColor indexed="64"/>'
              '</patternFill></fill></fills>'
              '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
              '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
              '<cellXfs count="4"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
              '<xf numFmtId="0" fontId="1" fillId="2" borderId="0" xfId="0" applyFont="1" applyFill="1"/>'
              '<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
              '<xf numFmtId="49" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/></cellXfs>'
              '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
              '<dxfs count="0"/><tableStyles count="0" defaultTableStyle="TableStyleMedium2" defaultPivotStyle="PivotStyleLight16"/>'
              '</styleSheet>') % NS_MAIN
    workbook = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\r\n'
                '<workbook xmlns="%s" xmlns:r="%s" xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006" '
                'mc:Ignorable="x15 xr xr6 xr10 xr2" xmlns:x15="http://schemas.microsoft.com/office/spreadsheetml/2010/11/main" '
                'xmlns:xr="http://schemas.microsoft.com/office/spreadsheetml/2014/revision" '
                'xmlns:xr6="http://schemas.microsoft.com/office/spreadsheetml/2016/revision6" '
                'xmlns:xr10="http://schemas.microsoft.com/office/spreadsheetml/2016/revision10" '
                'xmlns:xr2="http://schemas.microsoft.com/office/spreadsheetml/2015/revision2">'
                '<fileVersion appName="xl" lastEdited="7" lowestEdited="7" rupBuild="27328"/>'
                '<workbookPr defaultThemeVersion="166925"/>'
                '<mc:AlternateContent xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006">'
                '<mc:Choice Requires="x15"><x15ac:absPath url="C:\\Users\\facilities\\Documents\\" '
                'xmlns:x15ac="http://schemas.microsoft.com/office/spreadsheetml/2010/11/ac"/></mc:Choice></mc:AlternateContent>'
                '<bookViews><workbookView xWindow="-120" yWindow="-120" windowWidth="29040" windowHeight="15840"/></bookViews>'
                '<sheets><sheet name="Visitors" sheetId="1" r:id="rId1"/><sheet name="Order" sheetId="2" r:id="rId2"/></sheets>'
                '<calcPr calcId="191029"/></workbook>') % (NS_MAIN, NS_R)
    rels = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\r\n'
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="rId3" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/>'
            '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet2.xml"/>'
            '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>'
            '<Relationship Id="rId4" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/>'
            '</Relationships>')
    ct = (CT_HEAD +
          '<Override PartName="/xl/worksheets/sheet2.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
          '<Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
          '<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
          '</Types>')
    write_zip("excel-shared-strings.xlsx", [
        ("[Content_Types].xml", ct), ("_rels/.rels", ROOT_RELS), ("xl/workbook.xml", workbook),
        ("xl/_rels/workbook.xml.rels", rels), ("xl/worksheets/sheet1.xml", sheet), ("xl/worksheets/sheet2.xml", order),
        ("xl/styles.xml", styles), ("xl/sharedStrings.xml", shared),
    ])
    fixture("excel-shared-strings.xlsx", "Excel's layout: shared strings with rich text and phonetic runs, Text-formatted "
            "code columns, a General account number, IBX as shared formulas with saved values, an Order sheet", order=True)


def sheets_style():
    """A Google Sheets-style export: inline strings, no styles part, so the
    dates are text; cells and rows without r attributes."""
    rows = []
    for row in [HEADER] + DATA:
        cells = []
        for s in row:
            if s == "":
                cells.append("<c/>")
            else:
                cells.append('<c t="inlineStr"><is><t>%s</t></is></c>' % escape(s))
        rows.append("<row>%s</row>" % "".join(cells))
    sheet = ('<?xml version="1.0" encoding="UTF-8"?>\n<worksheet xmlns="%s" xmlns:r="%s"><sheetData>%s</sheetData></worksheet>'
             % (NS_MAIN, NS_R, "".join(rows)))
    workbook = ('<?xml version="1.0" encoding="UTF-8"?>\n<workbook xmlns="%s" xmlns:r="%s"><sheets>'
                '<sheet name="Visitors" sheetId="1" r:id="rId1"/></sheets></workbook>') % (NS_MAIN, NS_R)
    rels = ('<?xml version="1.0" encoding="UTF-8"?>\n'
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>'
            '</Relationships>')
    write_zip("sheets-inline.xlsx", [
        ("[Content_Types].xml", CT_HEAD + "</Types>"), ("_rels/.rels", ROOT_RELS), ("xl/workbook.xml", workbook),
        ("xl/_rels/workbook.xml.rels", rels), ("xl/worksheets/sheet1.xml", sheet),
    ])
    fixture("sheets-inline.xlsx", "Google Sheets-style export: inline strings, no styles or shared strings part, "
            "no cell references, dates as text")


def csv_cr():
    """The CSV with lines ended as Excel for Mac's "CSV (Macintosh)" ends
    them, CR only: in UTF-8, and in that format's Mac Roman."""
    with open(SOURCE, newline="", encoding="utf-8") as f:
        text = f.read()
    with open(out("roster-cr.csv"), "w", newline="", encoding="utf-8") as f:
        f.write(text.replace("\r\n", "\n").replace("\n", "\r"))
    fixture("roster-cr.csv", "the CSV with CR-only line ends, in UTF-8")
    with open(out("roster-macintosh.csv"), "w", newline="", encoding="mac_roman") as f:
        f.write(text.replace("\r\n", "\n").replace("\n", "\r"))
    fixture("roster-macintosh.csv", "Excel for Mac's \"CSV (Macintosh)\": CR-only line ends, Mac Roman text")


def main():
    for name in os.listdir(HERE):
        if name.endswith((".xlsx", ".xlsm")) or (name.endswith(".csv") and name != "roster.csv"):
            os.remove(out(name))
    openpyxl_plain()
    openpyxl_numbers()
    openpyxl_1904()
    openpyxl_styled()
    openpyxl_formulas()
    openpyxl_template()
    xlsxwriter_plain()
    xlsxwriter_inline()
    xlsxwriter_1904()
    xlsxwriter_styled()
    pandas_default()
    pandas_typed()
    libreoffice()
    gnumeric()
    excel_style()
    sheets_style()
    csv_cr()
    with open(out("fixtures.json"), "w") as f:
        json.dump(FIXTURES, f, indent=1, sort_keys=True)
        f.write("\n")
    print("wrote %d fixtures to %s" % (len(FIXTURES), HERE), file=sys.stderr)


if __name__ == "__main__":
    main()
