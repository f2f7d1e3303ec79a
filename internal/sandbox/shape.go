package sandbox

import (
	"maps"
	"slices"
	"strconv"
)

// kind is the JSON type a property must have.
type kind int

const (
	kAny kind = iota
	kString
	kBool
	kObject
	kArray
)

var kindNames = map[kind]string{kString: "a string", kBool: "a boolean", kObject: "an object", kArray: "an array"}

// shape describes the properties a request body may have, so that unknown
// properties and wrong types are reported with their JSON path, as Equinix
// reports them ("details.visitors[3].firstName").
type shape struct {
	kind   kind
	fields map[string]*shape // kObject
	items  *shape            // kArray
}

var (
	anyShape  = &shape{kind: kAny}
	strShape  = &shape{kind: kString}
	boolShape = &shape{kind: kBool}
)

func object(fields map[string]*shape) *shape { return &shape{kind: kObject, fields: fields} }
func array(items *shape) *shape              { return &shape{kind: kArray, items: items} }

var contactDetailShape = object(map[string]*shape{"type": strShape, "value": strShape})

// createShape is the work visit create body (seed 003).
var createShape = object(map[string]*shape{
	"description":         strShape,
	"customerReferenceId": strShape,
	"purchaseOrder": object(map[string]*shape{
		"type": strShape, "number": anyShape, "amount": anyShape,
		"startDate": strShape, "endDate": strShape, "attachmentId": strShape,
	}),
	"attachments": array(object(map[string]*shape{"id": strShape, "name": strShape})),
	"contacts": array(object(map[string]*shape{
		"type": strShape, "registeredUsers": array(strShape),
		"firstName": strShape, "lastName": strShape, "details": array(contactDetailShape),
		"availability": strShape, "timezone": strShape,
	})),
	"details": object(map[string]*shape{
		"cages": array(object(map[string]*shape{
			"id": strShape, "accountNumber": strShape, "cabinetId": strShape,
		})),
		"visitStartDateTime": strShape,
		"visitEndDateTime":   strShape,
		"openCabinet":        boolShape,
		"visitors": array(object(map[string]*shape{
			"registeredUsers": array(strShape),
			"firstName":       strShape, "lastName": strShape, "companyName": strShape,
			"details": array(contactDetailShape),
		})),
	}),
})

// patchShape is the work visit update body: only these can change.
var patchShape = object(map[string]*shape{
	"contacts": array(object(map[string]*shape{"type": strShape, "registeredUsers": array(strShape)})),
	"details": object(map[string]*shape{
		"visitStartDateTime": strShape,
		"visitEndDateTime":   strShape,
		"openCabinet":        boolShape,
	}),
})

// cancelShape is the cancel body (orders-v2.json Cancel_Request).
var cancelShape = object(map[string]*shape{
	"reason":      strShape,
	"attachments": array(object(map[string]*shape{"id": strShape, "name": strShape})),
	"lineIds":     array(strShape),
})

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// check walks v (decoded into any) and reports properties the shape does
// not allow and values of the wrong type. JSON null passes as absent.
// unknown describes why an unknown property is refused.
func (sh *shape) check(v any, path string, unknown string, out *[]problem) {
	if v == nil || sh.kind == kAny {
		return
	}
	switch sh.kind {
	case kString:
		if _, ok := v.(string); !ok {
			*out = append(*out, problem{Property: path, Reason: path + " must be " + kindNames[sh.kind], Value: v})
		}
	case kBool:
		if _, ok := v.(bool); !ok {
			*out = append(*out, problem{Property: path, Reason: path + " must be " + kindNames[sh.kind], Value: v})
		}
	case kObject:
		m, ok := v.(map[string]any)
		if !ok {
			*out = append(*out, problem{Property: path, Reason: cmpPath(path) + " must be " + kindNames[sh.kind]})
			return
		}
		for _, k := range slices.Sorted(maps.Keys(m)) {
			sub, p := m[k], join(path, k)
			f, ok := sh.fields[k]
			if !ok {
				*out = append(*out, problem{Property: p, Reason: p + " " + unknown})
				continue
			}
			f.check(sub, p, unknown, out)
		}
	case kArray:
		a, ok := v.([]any)
		if !ok {
			*out = append(*out, problem{Property: path, Reason: path + " must be " + kindNames[sh.kind]})
			return
		}
		for i, e := range a {
			sh.items.check(e, path+"["+strconv.Itoa(i)+"]", unknown, out)
		}
	}
}

func cmpPath(p string) string {
	if p == "" {
		return "the request body"
	}
	return p
}
