package emg

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// create is a valid Create message; edits change it before it is parsed.
func create(t *testing.T, edit func(task, body, sd map[string]any)) []byte {
	t.Helper()
	var env map[string]any
	if err := json.Unmarshal([]byte(createJSON), &env); err != nil {
		t.Fatal(err)
	}
	task := env["Task"].(map[string]any)
	body := task["Body"].(map[string]any)
	if edit != nil {
		edit(task, body, body["ServiceDetails"].(map[string]any))
	}
	b, err := json.Marshal(env)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

const createJSON = `{
  "Task": {"Id": "bf9f2707-d612-4d63-9958-4c8b1fcf3cc0", "Source": "3e095d30-40ff-11e9-8959-5be078353003",
    "Verb": "Create", "Resource": "WorkVisit", "ContentType": "application/json", "Version": "1.0",
    "Body": {"RequestorId": "123456789", "RequestorIdUnique": false,
      "Location": ["LD8:00:000000", "LD8:00:000001:0501"], "CustomerContact": "demo@equinix.com",
      "Description": "Create Work Visit Order",
      "ServiceDetails": {"Visitors": [{"LastName": "John", "FirstName": "Doe", "CompanyName": "Demo"}, {"UserName": "jane.visitor"}],
        "StartDateTime": "2020-05-22T00:05:00.000Z", "EndDateTime": "2020-05-26T14:00:00Z", "OpenCabinet": true}}},
  "Signature": "RWNobwp7CiAgIklkIjogIjM1MGFlZjcwLTc4MWItMTFlOSogIH0KfQ=="}`

func TestParseCreate(t *testing.T) {
	t.Parallel()
	m, err := Parse("create.json", []byte(createJSON))
	if err != nil {
		t.Fatal(err)
	}
	if m.Kind != KindCreate || m.ID != "bf9f2707-d612-4d63-9958-4c8b1fcf3cc0" || m.Signature != "not verified; ignored" {
		t.Errorf("message = %+v", m)
	}
	c := m.Create
	if c.IBX() != "LD8" || len(c.Visitors) != 2 || !c.OpenCabinet ||
		!c.Start.Equal(time.Date(2020, 5, 22, 0, 5, 0, 0, time.UTC)) || !c.End.Equal(time.Date(2020, 5, 26, 14, 0, 0, 0, time.UTC)) {
		t.Errorf("create = %+v", c)
	}
	ref := m.Reference()
	if ref != "123456789-BF9F2707" {
		t.Errorf("reference = %q; want the RequestorId with the message's id (RequestorIdUnique is false)", ref)
	}
	got, err := json.Marshal(m.Request(ref))
	if err != nil {
		t.Fatal(err)
	}
	want := `{"description":"Create Work Visit Order","customerReferenceId":"123456789-BF9F2707",` +
		`"contacts":[{"type":"TECHNICAL","registeredUsers":["demo@equinix.com"],"availability":"WORK_HOURS","timezone":"Europe/London"},` +
		`{"type":"NOTIFICATION","registeredUsers":["demo@equinix.com"]}],` +
		`"details":{"cages":[{"id":"LD8:00:000000"},{"id":"LD8:00:000001","cabinetId":"LD8:00:000001:0501"}],` +
		`"visitStartDateTime":"2020-05-22T00:05:00Z","visitEndDateTime":"2020-05-26T14:00:00Z","openCabinet":true,` +
		`"visitors":[{"firstName":"Doe","lastName":"John","companyName":"Demo"},{"registeredUsers":["jane.visitor"]}]}}`
	if string(got) != want {
		t.Errorf("request:\n got %s\nwant %s", got, want)
	}
}

func TestParseTaskAsString(t *testing.T) {
	t.Parallel()
	var env struct {
		Task      json.RawMessage
		Signature string
	}
	if err := json.Unmarshal([]byte(createJSON), &env); err != nil {
		t.Fatal(err)
	}
	s, _ := json.Marshal(string(env.Task))
	b := []byte(`{"Task":` + string(s) + `}`)
	m, err := Parse("string.json", b)
	if err != nil {
		t.Fatal(err)
	}
	if m.Kind != KindCreate || len(m.Create.Location) != 2 || m.Signature != "unsigned" {
		t.Errorf("message = %+v, create %+v", m, m.Create)
	}
}

func TestParseUpdateAndCancel(t *testing.T) {
	t.Parallel()
	upd := `{"Task":{"Id":"2352c576-fab3-4856-a431-0a4b55a2babe","Source":"3e095d30-40ff-11e9-8959-5be078353003","Verb":"Update",
	  "Resource":"WorkVisit","Version":"1.0","Body":{"ServicerId":"1-199912345789","Description":"Update WorkVisit Order",
	  "ServiceDetails":{"StartDateTime":"2027-01-13T07:00:00Z","OpenCabinet":false}}},"Signature":"x"}`
	m, err := Parse("update.json", []byte(upd))
	if err != nil {
		t.Fatal(err)
	}
	if m.Kind != KindUpdate || m.Update.ServicerID != "1-199912345789" || m.Update.Start == nil || m.Update.End != nil ||
		m.Update.OpenCabinet == nil || *m.Update.OpenCabinet {
		t.Errorf("update = %+v", m.Update)
	}
	if b, _ := json.Marshal(m.Update.Request()); string(b) != `{"details":{"visitStartDateTime":"2027-01-13T07:00:00Z","openCabinet":false}}` {
		t.Errorf("PATCH body = %s", b)
	}
	if len(m.Notes) == 0 || !strings.Contains(m.Notes[0], "Description") {
		t.Errorf("notes = %q; want one about the description not being sent", m.Notes)
	}
	cancel := `{"Task":{"Id":"63d7a57b-848a-4335-ab47-6c1aaee71b04","Source":"3e095d30-40ff-11e9-8959-5be078353003","Verb":"Update",
	  "Resource":"WorkVisit","Version":"1.0","Body":{"State":"Cancelled","RequestorId":"PO-1","Description":"Cancel WorkVisit Order"}}}`
	m, err = Parse("cancel.json", []byte(cancel))
	if err != nil {
		t.Fatal(err)
	}
	if id, ref := m.Order(); m.Kind != KindCancel || id != "" || ref != "PO-1" || m.Cancel.Reason() != "Cancel WorkVisit Order" {
		t.Errorf("cancel = %+v (order %q, ref %q)", m.Cancel, id, ref)
	}
}

func TestParseErrors(t *testing.T) {
	t.Parallel()
	visitors := func(n int) []any {
		out := make([]any, n)
		for i := range out {
			out[i] = map[string]any{"FirstName": "Ann", "LastName": fmt.Sprintf("Visitor%c", 'a'+i%26), "CompanyName": "Acme"}
		}
		return out
	}
	tests := []struct {
		name     string
		msg      []byte
		field    string // of one of the errors
		want     string
		envelope bool
	}{
		{name: "bad JSON", msg: []byte(`{"Task": {"Id": `), want: "not a JSON envelope", envelope: true},
		{name: "not an object", msg: []byte(`[1, 2]`), want: "not a JSON envelope", envelope: true},
		{name: "text after the envelope", msg: []byte(createJSON + ` {}`), want: "unexpected text", envelope: true},
		{name: "no Task", msg: []byte(`{"Signature": "x"}`), field: "Task", want: "missing", envelope: true},
		{name: "Task string with bad JSON", msg: []byte(`{"Task": "{\"Id\": \"bf9f2707"}`), field: "Task", want: "not valid JSON", envelope: true},
		{name: "Task string not an object", msg: []byte(`{"Task": "42"}`), field: "Task", want: "does not hold a JSON object", envelope: true},
		{name: "wrong Resource", msg: create(t, func(task, _, _ map[string]any) { task["Resource"] = "SmartHands" }), field: "Task.Resource", want: "WorkVisit messages only", envelope: true},
		{name: "missing Body", msg: create(t, func(task, _, _ map[string]any) { delete(task, "Body") }), field: "Task.Body", want: "no Body", envelope: true},
		{name: "wrong Verb", msg: create(t, func(task, _, _ map[string]any) { task["Verb"] = "Delete" }), field: "Task.Verb", want: "Create or Update", envelope: true},
		{name: "Id not a GUID", msg: create(t, func(task, _, _ map[string]any) { task["Id"] = "42" }), field: "Task.Id", want: "not a GUID"},
		{name: "Version", msg: create(t, func(task, _, _ map[string]any) { task["Version"] = "2.0" }), field: "Task.Version", want: `want "1.0"`},
		{name: "RequestorIdUnique missing", msg: create(t, func(_, b, _ map[string]any) { delete(b, "RequestorIdUnique") }), field: "Task.Body.RequestorIdUnique", want: "required"},
		{name: "unique without RequestorId", msg: create(t, func(_, b, _ map[string]any) { b["RequestorIdUnique"] = true; delete(b, "RequestorId") }), field: "Task.Body.RequestorId", want: "required when"},
		{name: "RequestorId too long", msg: create(t, func(_, b, _ map[string]any) { b["RequestorId"] = strings.Repeat("x", 41) }), field: "Task.Body.RequestorId", want: "at most 40"},
		{name: "no Location", msg: create(t, func(_, b, _ map[string]any) { b["Location"] = []any{} }), field: "Task.Body.Location", want: "required"},
		{name: "bad Location", msg: create(t, func(_, b, _ map[string]any) { b["Location"] = []any{"LD8-00-000000"} }), field: "Task.Body.Location[0]", want: "not a cage"},
		{name: "two IBXs", msg: create(t, func(_, b, _ map[string]any) { b["Location"] = []any{"LD8:00:000000", "AM1:01:000111"} }), field: "Task.Body.Location[1]", want: "one IBX"},
		{name: "no CustomerContact", msg: create(t, func(_, b, _ map[string]any) { delete(b, "CustomerContact") }), field: "Task.Body.CustomerContact", want: "required"},
		{name: "bad CustomerContact email", msg: create(t, func(_, b, _ map[string]any) { b["CustomerContact"] = "demo@equinix" }), field: "Task.Body.CustomerContact", want: "not an email"},
		{name: "OpenCabinet not a bool", msg: create(t, func(_, _, sd map[string]any) { sd["OpenCabinet"] = "yes" }), field: "Task.Body.ServiceDetails.OpenCabinet", want: "true or false"},
		{name: "no ServiceDetails", msg: create(t, func(_, b, _ map[string]any) { delete(b, "ServiceDetails") }), field: "Task.Body.ServiceDetails", want: "required"},
		{name: "51 visitors", msg: create(t, func(_, _, sd map[string]any) { sd["Visitors"] = visitors(51) }), field: "Task.Body.ServiceDetails.Visitors", want: "at most 50"},
		{name: "no visitors", msg: create(t, func(_, _, sd map[string]any) { sd["Visitors"] = []any{} }), field: "Task.Body.ServiceDetails.Visitors", want: "at least one"},
		{name: "visitor without a name", msg: create(t, func(_, _, sd map[string]any) {
			sd["Visitors"] = []any{map[string]any{"FirstName": "Ann", "CompanyName": "Acme"}}
		}), field: "Task.Body.ServiceDetails.Visitors[0].LastName", want: "required when there is no UserName"},
		{name: "bad email", msg: create(t, func(_, _, sd map[string]any) {
			sd["Visitors"] = []any{map[string]any{"FirstName": "Ann", "LastName": "B", "CompanyName": "Acme", "Email": "ann@"}}
		}), field: "Task.Body.ServiceDetails.Visitors[0].Email", want: "not an email"},
		{name: "email too long", msg: create(t, func(_, _, sd map[string]any) {
			sd["Visitors"] = []any{map[string]any{"FirstName": "Ann", "LastName": "B", "CompanyName": "Acme", "Email": strings.Repeat("a", 90) + "@example.com"}}
		}), field: "Task.Body.ServiceDetails.Visitors[0].Email", want: "at most 100"},
		{name: "phone without country code", msg: create(t, func(_, _, sd map[string]any) {
			sd["Visitors"] = []any{map[string]any{"FirstName": "Ann", "LastName": "B", "CompanyName": "Acme", "MobilePhone": "612 345 678"}}
		}), field: "Task.Body.ServiceDetails.Visitors[0].MobilePhoneCountryCode", want: "required with a phone"},
		{name: "bad country code", msg: create(t, func(_, _, sd map[string]any) {
			sd["Visitors"] = []any{map[string]any{"FirstName": "Ann", "LastName": "B", "CompanyName": "Acme", "MobilePhone": "612", "MobilePhoneCountryCode": "31"}}
		}), field: "Task.Body.ServiceDetails.Visitors[0].MobilePhoneCountryCode", want: "a + and 1 to 6 digits"},
		{name: "bad phone", msg: create(t, func(_, _, sd map[string]any) {
			sd["Visitors"] = []any{map[string]any{"FirstName": "Ann", "LastName": "B", "CompanyName": "Acme", "MobilePhone": "call me", "MobilePhoneCountryCode": "+31"}}
		}), field: "Task.Body.ServiceDetails.Visitors[0].MobilePhone", want: "2 to 40 digits"},
		{name: "short username", msg: create(t, func(_, _, sd map[string]any) { sd["Visitors"] = []any{map[string]any{"UserName": "jdoe"}} }), field: "Task.Body.ServiceDetails.Visitors[0].UserName", want: "8 to 100"},
		{name: "longer than two weeks", msg: create(t, func(_, _, sd map[string]any) { sd["EndDateTime"] = "2020-06-05T00:06:00Z" }), field: "Task.Body.ServiceDetails.EndDateTime", want: "at most two weeks"},
		{name: "end before start", msg: create(t, func(_, _, sd map[string]any) { sd["EndDateTime"] = "2020-05-21T00:00:00Z" }), field: "Task.Body.ServiceDetails.EndDateTime", want: "not after"},
		{name: "bad start", msg: create(t, func(_, _, sd map[string]any) { sd["StartDateTime"] = "22/05/2020" }), field: "Task.Body.ServiceDetails.StartDateTime", want: "not an ISO 8601"},
		{name: "attachment by bad id", msg: create(t, func(_, b, _ map[string]any) { b["Attachments"] = []any{map[string]any{"Name": "a.pdf", "Id": "42"}} }), field: "Task.Body.Attachments[0].Id", want: "not the id"},
		{name: "additional contact without phone", msg: create(t, func(_, b, _ map[string]any) {
			b["AdditionalContacts"] = []any{map[string]any{"ContactType": "TECHNICAL", "Name": "Ann B", "Email": "ann@example.com"}}
		}), field: "Task.Body.AdditionalContacts[0].WorkPhone", want: "required"},
		{name: "update of visitors", msg: []byte(`{"Task":{"Id":"2352c576-fab3-4856-a431-0a4b55a2babe","Source":"3e095d30-40ff-11e9-8959-5be078353003","Verb":"Update","Resource":"WorkVisit","Version":"1.0",
			"Body":{"ServicerId":"1-1","Description":"add a visitor","ServiceDetails":{"Visitors":[{"UserName":"jane.visitor"}]}}}}`), field: "Task.Body.ServiceDetails.Visitors", want: "cannot be changed"},
		{name: "update changing nothing", msg: []byte(`{"Task":{"Id":"2352c576-fab3-4856-a431-0a4b55a2babe","Source":"3e095d30-40ff-11e9-8959-5be078353003","Verb":"Update","Resource":"WorkVisit","Version":"1.0",
			"Body":{"ServicerId":"1-1","Description":"new description"}}}`), field: "Task.Body.ServiceDetails", want: "changes nothing"},
		{name: "update without order", msg: []byte(`{"Task":{"Id":"2352c576-fab3-4856-a431-0a4b55a2babe","Source":"3e095d30-40ff-11e9-8959-5be078353003","Verb":"Update","Resource":"WorkVisit","Version":"1.0",
			"Body":{"Description":"d","ServiceDetails":{"OpenCabinet":true}}}}`), field: "Task.Body.ServicerId", want: "required"},
		{name: "update description too long", msg: []byte(`{"Task":{"Id":"2352c576-fab3-4856-a431-0a4b55a2babe","Source":"3e095d30-40ff-11e9-8959-5be078353003","Verb":"Update","Resource":"WorkVisit","Version":"1.0",
			"Body":{"ServicerId":"1-1","Description":"` + strings.Repeat("d", 3801) + `","ServiceDetails":{"OpenCabinet":true}}}}`), field: "Task.Body.Description", want: "at most 3800"},
		{name: "cancel with another State", msg: []byte(`{"Task":{"Id":"63d7a57b-848a-4335-ab47-6c1aaee71b04","Source":"3e095d30-40ff-11e9-8959-5be078353003","Verb":"Update","Resource":"WorkVisit","Version":"1.0",
			"Body":{"State":"Open","ServicerId":"1-1","Description":"Cancel it"}}}`), field: "Task.Body.State", want: `"Cancelled"`},
		{name: "cancel without description", msg: []byte(`{"Task":{"Id":"63d7a57b-848a-4335-ab47-6c1aaee71b04","Source":"3e095d30-40ff-11e9-8959-5be078353003","Verb":"Update","Resource":"WorkVisit","Version":"1.0",
			"Body":{"State":"Cancelled","ServicerId":"1-1"}}}`), field: "Task.Body.Description", want: "required"},
		{name: "cancel of a bad order id", msg: []byte(`{"Task":{"Id":"63d7a57b-848a-4335-ab47-6c1aaee71b04","Source":"3e095d30-40ff-11e9-8959-5be078353003","Verb":"Update","Resource":"WorkVisit","Version":"1.0",
			"Body":{"State":"Cancelled","ServicerId":"WV-1","Description":"Cancel it"}}}`), field: "Task.Body.ServicerId", want: "not an Equinix order id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m, err := Parse("msg.json", tt.msg)
			var es Errors
			if !errors.As(err, &es) || m != nil {
				t.Fatalf("Parse = %+v, %v; want Errors", m, err)
			}
			if es.Envelope() != tt.envelope {
				t.Errorf("envelope problem = %v; want %v: %v", es.Envelope(), tt.envelope, es)
			}
			found := false
			for _, e := range es {
				if e.Field == tt.field && strings.Contains(e.Message, tt.want) {
					found = true
				}
				if e.File != "msg.json" {
					t.Errorf("error %q does not name the file", e)
				}
			}
			if !found {
				t.Errorf("errors:\n%v\nwant one for field %q saying %q", es, tt.field, tt.want)
			}
		})
	}
}

func TestErrorsNameTheMessage(t *testing.T) {
	t.Parallel()
	_, err := Parse("msgs/a.json", create(t, func(_, b, _ map[string]any) { b["Location"] = []any{"nowhere"} }))
	if err == nil || !strings.Contains(err.Error(), "msgs/a.json (message bf9f2707-d612-4d63-9958-4c8b1fcf3cc0): Task.Body.Location[0]: ") {
		t.Errorf("error = %v; want it to name the file, the message Id and the field", err)
	}
}

func TestReference(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		edit   func(task, body, sd map[string]any)
		want   string
		maxLen int
	}{
		{"unique RequestorId as is", func(_, b, _ map[string]any) { b["RequestorIdUnique"] = true }, "123456789", 0},
		{"no RequestorId", func(_, b, _ map[string]any) { delete(b, "RequestorId") }, "EMG-BF9F2707D6124D63", 0},
		{"long RequestorId is cut", func(_, b, _ map[string]any) { b["RequestorId"] = strings.Repeat("R", 40) }, strings.Repeat("R", 31) + "-BF9F2707", 40},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			m, err := Parse("m.json", create(t, tt.edit))
			if err != nil {
				t.Fatal(err)
			}
			if got := m.Reference(); got != tt.want || tt.maxLen > 0 && len(got) > tt.maxLen {
				t.Errorf("Reference() = %q; want %q", got, tt.want)
			}
		})
	}
}

// TestSamples parses the messages shipped in samples/emg.
func TestSamples(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob("../../samples/emg/*.json")
	if err != nil || len(files) < 3 {
		t.Fatalf("samples: %v, %v", files, err)
	}
	kinds := map[Kind]int{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		m, err := Parse(f, b)
		if err != nil {
			t.Errorf("%s: %v", f, err)
			continue
		}
		kinds[m.Kind]++
	}
	if kinds[KindCreate] == 0 || kinds[KindUpdate] == 0 || kinds[KindCancel] == 0 {
		t.Errorf("samples hold %v; want Create, Update and Cancel", kinds)
	}
}
