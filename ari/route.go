package ari

import (
	"net/http"
	"strings"
)

// route is one ARI request as its metrics name it: the method and the path
// template, with {placeholders} where the path carries an id. Metrics are
// labelled with route.String() ("POST /bridges/{id}/addChannel"), never with
// a concrete path: ids are unbounded, a label must not be.
type route struct {
	method string
	tmpl   string // path template below the ARI base URL
}

// String is the route's label: "DELETE /channels/{id}".
func (r route) String() string { return r.method + " " + r.tmpl }

// path fills the template's placeholders, in order, with ids (already
// checked by checkID, or escaped by the caller). A missing id leaves the
// placeholder, which Asterisk answers 404: a programming error the tests
// catch.
func (r route) path(ids ...string) string {
	var b strings.Builder
	rest := r.tmpl
	for _, id := range ids {
		i := strings.IndexByte(rest, '{')
		j := strings.IndexByte(rest, '}')
		if i < 0 || j < i {
			break
		}
		b.WriteString(rest[:i])
		b.WriteString(id)
		rest = rest[j+1:]
	}
	b.WriteString(rest)
	return b.String()
}

// The routes the adapter uses. knownRoutes lists them all, so that Stats
// has every route from the start.
var (
	rAsteriskInfo     = route{http.MethodGet, "/asterisk/info"}
	rGetGlobal        = route{http.MethodGet, "/asterisk/variable"}
	rSetGlobal        = route{http.MethodPost, "/asterisk/variable"}
	rAnswer           = route{http.MethodPost, "/channels/{id}/answer"}
	rRing             = route{http.MethodPost, "/channels/{id}/ring"}
	rHangup           = route{http.MethodDelete, "/channels/{id}"}
	rOriginate        = route{http.MethodPost, "/channels"}
	rOriginateID      = route{http.MethodPost, "/channels/{id}"}
	rContinue         = route{http.MethodPost, "/channels/{id}/continue"}
	rRedirect         = route{http.MethodPost, "/channels/{id}/redirect"}
	rSetVariable      = route{http.MethodPost, "/channels/{id}/variable"}
	rGetVariable      = route{http.MethodGet, "/channels/{id}/variable"}
	rSendDTMF         = route{http.MethodPost, "/channels/{id}/dtmf"}
	rHold             = route{http.MethodPost, "/channels/{id}/hold"}
	rUnhold           = route{http.MethodDelete, "/channels/{id}/hold"}
	rMOHStart         = route{http.MethodPost, "/channels/{id}/moh"}
	rMOHStop          = route{http.MethodDelete, "/channels/{id}/moh"}
	rPlay             = route{http.MethodPost, "/channels/{id}/play/{playbackId}"}
	rPlayBridge       = route{http.MethodPost, "/bridges/{id}/play/{playbackId}"}
	rStopPlayback     = route{http.MethodDelete, "/playbacks/{id}"}
	rGetPlayback      = route{http.MethodGet, "/playbacks/{id}"}
	rCreateBridge     = route{http.MethodPost, "/bridges/{id}"}
	rAddToBridge      = route{http.MethodPost, "/bridges/{id}/addChannel"}
	rRemoveFromBridge = route{http.MethodPost, "/bridges/{id}/removeChannel"}
	rDestroyBridge    = route{http.MethodDelete, "/bridges/{id}"}
	rRecordBridge     = route{http.MethodPost, "/bridges/{id}/record"}
	rRecordChannel    = route{http.MethodPost, "/channels/{id}/record"}
	rStopRecording    = route{http.MethodPost, "/recordings/live/{name}/stop"}
	rGetLiveRecording = route{http.MethodGet, "/recordings/live/{name}"}
	rPauseRecording   = route{http.MethodPost, "/recordings/live/{name}/pause"}
	rResumeRecording  = route{http.MethodDelete, "/recordings/live/{name}/pause"}
	rStoredFile       = route{http.MethodGet, "/recordings/stored/{name}/file"}
	rDeleteStored     = route{http.MethodDelete, "/recordings/stored/{name}"}
	rSnoop            = route{http.MethodPost, "/channels/{id}/snoop"}
	rSnoopID          = route{http.MethodPost, "/channels/{id}/snoop/{snoopId}"}
	rGetApplication   = route{http.MethodGet, "/applications/{app}"}
	rSubscribe        = route{http.MethodPost, "/applications/{app}/subscription"}
	rListChannels     = route{http.MethodGet, "/channels"}
	rListBridges      = route{http.MethodGet, "/bridges"}
	rListEndpoints    = route{http.MethodGet, "/endpoints"}
	rListSounds       = route{http.MethodGet, "/sounds"}
)

var knownRoutes = []route{
	rAsteriskInfo, rAnswer, rRing, rHangup, rOriginate, rOriginateID, rContinue, rRedirect,
	rGetGlobal, rSetGlobal, rSetVariable, rGetVariable, rSendDTMF, rHold, rUnhold, rMOHStart, rMOHStop, rPlay, rPlayBridge,
	rStopPlayback, rGetPlayback, rCreateBridge, rAddToBridge, rRemoveFromBridge, rDestroyBridge,
	rRecordBridge, rRecordChannel, rStopRecording, rGetLiveRecording, rPauseRecording,
	rResumeRecording, rStoredFile, rDeleteStored, rSnoop, rSnoopID, rGetApplication, rSubscribe,
	rListChannels, rListBridges, rListEndpoints, rListSounds,
}
