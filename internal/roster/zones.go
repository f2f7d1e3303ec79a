package roster

import (
	"bufio"
	_ "embed"
	"fmt"
	"strings"
	"sync"
	"time"
	_ "time/tzdata" // the zone table must work on machines without a zoneinfo database
)

//go:embed zones.txt
var zonesTxt string

// metroZones maps an IBX metro code ("AM") to its IANA zone name.
var metroZones = sync.OnceValue(func() map[string]string {
	m := make(map[string]string)
	sc := bufio.NewScanner(strings.NewReader(zonesTxt))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		metro, zone, ok := strings.Cut(line, " ")
		if !ok {
			panic(fmt.Sprintf("zones.txt: bad line %q", line))
		}
		m[metro] = strings.TrimSpace(zone)
	}
	return m
})

// MetroZone returns the IANA zone of an IBX ("AM1" → "Europe/Amsterdam") and
// whether its metro is known.
func MetroZone(ibx string) (string, bool) {
	if len(ibx) < 2 {
		return "", false
	}
	z, ok := metroZones()[strings.ToUpper(ibx[:2])]
	return z, ok
}

// zones are the locations Location has loaded.
var zones zoneCache

// Location is time.LoadLocation for an IANA zone name, loaded once per
// process: a report of thousands of orders asks for the same few zones
// thousands of times. "" and "Local" are refused.
func Location(name string) (*time.Location, error) { return zones.load(name) }

// zoneCache holds loaded locations; time.LoadLocation parses the embedded
// database on every call.
type zoneCache struct {
	mu sync.Mutex
	m  map[string]*time.Location
}

func (c *zoneCache) load(name string) (*time.Location, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if loc, ok := c.m[name]; ok {
		return loc, nil
	}
	if c.m == nil {
		c.m = make(map[string]*time.Location)
	}
	if name == "" || strings.EqualFold(name, "local") {
		// "Local" would silently mean the machine's zone.
		return nil, fmt.Errorf("unknown time zone %q", name)
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, err
	}
	c.m[name] = loc
	return loc, nil
}
