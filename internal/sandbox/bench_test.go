package sandbox

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// BenchmarkCreate measures work visit creates: through the handler alone,
// over HTTP on loopback, and a bare HTTP handler over the same loopback as
// the baseline to compare with. It reports creates/s; the sandbox must
// manage 5,000/s on 2 cores without latency.
func BenchmarkCreate(b *testing.B) {
	body, err := json.Marshal(visitBody())
	if err != nil {
		b.Fatal(err)
	}
	newServer := func(b *testing.B) (*Server, string) {
		srv, err := New(Config{Now: func() time.Time { return t0 }})
		if err != nil {
			b.Fatal(err)
		}
		tok := "bench-token"
		srv.tokens[tok] = tokenInfo{clientID: DefaultClientID, user: DefaultOrderingUser, expires: t0.Add(time.Hour)}
		return srv, tok
	}
	post := func(b *testing.B, client *http.Client, url, tok string) {
		req, _ := http.NewRequest("POST", url+"/colocations/v2/orders/workVisits", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := client.Do(req)
		if err != nil {
			b.Error(err)
			return
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusCreated {
			b.Errorf("status %d", resp.StatusCode)
		}
	}
	overHTTP := func(b *testing.B, h http.Handler, tok string) {
		ts := httptest.NewServer(h)
		defer ts.Close()
		client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				post(b, client, ts.URL, tok)
			}
		})
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "creates/s")
	}

	b.Run("handler", func(b *testing.B) {
		srv, tok := newServer(b)
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				req := httptest.NewRequest("POST", "/colocations/v2/orders/workVisits", bytes.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Authorization", "Bearer "+tok)
				w := httptest.NewRecorder()
				srv.ServeHTTP(w, req)
				if w.Code != http.StatusCreated {
					b.Errorf("status %d: %s", w.Code, w.Body)
				}
			}
		})
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "creates/s")
	})
	b.Run("http", func(b *testing.B) {
		srv, tok := newServer(b)
		overHTTP(b, srv, tok)
	})
	b.Run("http-baseline", func(b *testing.B) {
		bare := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.Copy(io.Discard, r.Body)
			w.Header().Set("Location", "/orders/1-1")
			w.WriteHeader(http.StatusCreated)
		})
		overHTTP(b, bare, "")
	})
}
