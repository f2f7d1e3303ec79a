package sandbox

import (
	"bytes"
	"net/http"
	"reflect"
	"strings"
	"testing"
)

func TestSaveLoadState(t *testing.T) {
	t.Parallel()
	a := newEnv(t, Config{})
	id := a.mustCreate(visitBody())
	if err := a.srv.SetOrderStatus(id, StatusInProgress); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := a.srv.SaveState(&buf); err != nil {
		t.Fatal(err)
	}

	b := newEnv(t, Config{Now: a.clock.Now})
	if err := b.srv.LoadState(bytes.NewReader(buf.Bytes())); err != nil {
		t.Fatal(err)
	}
	if got, want := b.srv.Orders(), a.srv.Orders(); !reflect.DeepEqual(got, want) {
		t.Errorf("loaded orders %+v, want %+v", got, want)
	}
	// The loaded order answers as before, and a new one gets a new id.
	if got, want := b.do("GET", "/colocations/v2/orders/"+id, nil, b.login()), a.do("GET", "/colocations/v2/orders/"+id, nil, a.login()); got.status != http.StatusOK || !bytes.Equal(got.body, want.body) {
		t.Errorf("GET loaded order: %d %s, want %s", got.status, got, want)
	}
	if id2 := b.mustCreate(withRef("SECOND-ORDER")); id2 == id {
		t.Errorf("new order reuses id %s", id)
	}

	for _, bad := range []string{"", "{", `{"version":9}`, `{"version":1,"orders":[{"id":"x"}]}`} {
		if err := b.srv.LoadState(strings.NewReader(bad)); err == nil {
			t.Errorf("LoadState(%q) accepted", bad)
		}
	}
	if n := len(b.srv.Orders()); n != 2 {
		t.Errorf("a refused LoadState changed the orders: %d held", n)
	}
}
