package arispec

import "encoding/json"

// ResourceListingDoc is resources.json as Asterisk serves it.
type ResourceListingDoc struct {
	APIVersion     string           `json:"apiVersion"`
	SwaggerVersion string           `json:"swaggerVersion"`
	BasePath       string           `json:"basePath,omitempty"`
	APIs           []ListingItemDoc `json:"apis"`
}

// ListingItemDoc is one resource line of resources.json.
type ListingItemDoc struct {
	Path        string `json:"path"`
	Description string `json:"description"`
}

// DeclarationDoc is one API declaration ({resource}.json).
type DeclarationDoc struct {
	APIVersion     string              `json:"apiVersion"`
	SwaggerVersion string              `json:"swaggerVersion"`
	BasePath       string              `json:"basePath,omitempty"`
	ResourcePath   string              `json:"resourcePath"`
	APIs           []APIDoc            `json:"apis"`
	Models         map[string]ModelDoc `json:"models"`
}

// APIDoc is one path of a declaration.
type APIDoc struct {
	Path        string         `json:"path"`
	Description string         `json:"description,omitempty"`
	Operations  []OperationDoc `json:"operations"`
}

// OperationDoc is one operation of a path.
type OperationDoc struct {
	HTTPMethod        string             `json:"httpMethod"`
	Upgrade           string             `json:"upgrade,omitempty"`
	WebsocketProtocol string             `json:"websocketProtocol,omitempty"`
	Summary           string             `json:"summary,omitempty"`
	Nickname          string             `json:"nickname"`
	ResponseClass     string             `json:"responseClass,omitempty"`
	Parameters        []ParameterDoc     `json:"parameters,omitempty"`
	ErrorResponses    []ErrorResponseDoc `json:"errorResponses,omitempty"`
}

// ParameterDoc is one parameter of an operation.
type ParameterDoc struct {
	Name            string          `json:"name"`
	ParamType       string          `json:"paramType"`
	Required        bool            `json:"required"`
	AllowMultiple   bool            `json:"allowMultiple"`
	DataType        string          `json:"dataType"`
	DefaultValue    json.RawMessage `json:"defaultValue,omitempty"`
	AllowableValues json.RawMessage `json:"allowableValues,omitempty"`
}

// ErrorResponseDoc is one declared error status.
type ErrorResponseDoc struct {
	Code   int    `json:"code"`
	Reason string `json:"reason"`
}

// ModelDoc is one model of a declaration.
type ModelDoc struct {
	ID            string                 `json:"id"`
	Description   string                 `json:"description,omitempty"`
	Discriminator string                 `json:"discriminator,omitempty"`
	SubTypes      []string               `json:"subTypes,omitempty"`
	Properties    map[string]PropertyDoc `json:"properties"`
}

// PropertyDoc is one property of a model.
type PropertyDoc struct {
	Type            string          `json:"type"`
	Required        bool            `json:"required,omitempty"`
	AllowableValues json.RawMessage `json:"allowableValues,omitempty"`
}

// ResourceListing renders resources.json; basePath is the server's own
// ARI root ("http://host:port/ari"), or empty to leave it out as Asterisk
// does when the request has no Host.
func (l Listing) ResourceListing(basePath string) ResourceListingDoc {
	doc := ResourceListingDoc{APIVersion: l.APIVersion, SwaggerVersion: l.SwaggerVersion, BasePath: basePath,
		APIs: []ListingItemDoc{}}
	for _, r := range l.Resources {
		doc.APIs = append(doc.APIs, ListingItemDoc{Path: "/api-docs/" + r.Name + ".{format}", Description: r.Description})
	}
	return doc
}

// Resource returns the resource called name ("channels").
func (l Listing) Resource(name string) (Resource, bool) {
	for _, r := range l.Resources {
		if r.Name == name {
			return r, true
		}
	}
	return Resource{}, false
}

// Declaration renders the resource's API declaration with the operations
// for which keep is true; a path left with no operation is left out.
// Every model is kept: models describe objects and events, not routes.
func (r Resource) Declaration(basePath string, keep func(API, Operation) bool) DeclarationDoc {
	doc := DeclarationDoc{APIVersion: r.APIVersion, SwaggerVersion: r.SwaggerVersion, BasePath: basePath,
		ResourcePath: r.ResourcePath, APIs: []APIDoc{}, Models: map[string]ModelDoc{}}
	for _, api := range r.APIs {
		ad := APIDoc{Path: api.Path, Description: api.Description}
		for _, op := range api.Operations {
			if keep(api, op) {
				ad.Operations = append(ad.Operations, op.doc())
			}
		}
		if len(ad.Operations) > 0 {
			doc.APIs = append(doc.APIs, ad)
		}
	}
	for _, m := range r.Models {
		md := ModelDoc{ID: m.ID, Description: m.Description, Discriminator: m.Discriminator, SubTypes: m.SubTypes,
			Properties: map[string]PropertyDoc{}}
		for _, p := range m.Properties {
			md.Properties[p.Name] = PropertyDoc{Type: p.Type, Required: p.Required, AllowableValues: raw(p.AllowableValues)}
		}
		doc.Models[m.ID] = md
	}
	return doc
}

func (op Operation) doc() OperationDoc {
	od := OperationDoc{HTTPMethod: op.Method, Upgrade: op.Upgrade, WebsocketProtocol: op.WebsocketProtocol,
		Summary: op.Summary, Nickname: op.Nickname, ResponseClass: op.ResponseClass}
	for _, p := range op.Parameters {
		od.Parameters = append(od.Parameters, ParameterDoc{Name: p.Name, ParamType: p.ParamType, Required: p.Required,
			AllowMultiple: p.AllowMultiple, DataType: p.DataType, DefaultValue: raw(p.DefaultValue),
			AllowableValues: raw(p.AllowableValues)})
	}
	for _, e := range op.ErrorResponses {
		od.ErrorResponses = append(od.ErrorResponses, ErrorResponseDoc(e))
	}
	return od
}

func raw(s string) json.RawMessage {
	if s == "" {
		return nil
	}
	return json.RawMessage(s)
}
