package obcall

import (
	"strconv"
	"strings"

	sb "github.com/switchboard/switchboard"
)

// LineVars are the channel variables of a campaign line (the customer's
// leg): its campaign and attempt, which the dialplan's hangup handler
// records a call answered while no Switchboard was connected by.
func LineVars(campaignName string, attempt int64) map[string]string {
	return map[string]string{"SB_CAMPAIGN": campaignName, "SB_ATTEMPT": strconv.FormatInt(attempt, 10)}
}

// AgentVars adds to vars, the channel variables of the agent's leg, what
// the agent's screen shows of a campaign call: the campaign, the attempt,
// the lead's number and each of the lead's data (SB_LEAD_<NAME>).
func AgentVars(vars map[string]string, campaignName string, attempt int64, lead sb.Lead) {
	for name, v := range LineVars(campaignName, attempt) {
		vars[name] = v
	}
	vars["SB_LEAD_NUMBER"] = lead.Number
	for name, v := range lead.Data {
		vars["SB_LEAD_"+strings.ToUpper(name)] = v
	}
}

// DialplanSounds turns campaign media (sound:NAME,...) into the file list
// the dialplan's Playback() takes (NAME&NAME), for a message the dialplan
// plays when no Switchboard is there to (the abandon message of a call
// answered meanwhile); media of other kinds cannot be played there and
// are left out.
func DialplanSounds(media string) string {
	var names []string
	for _, m := range strings.Split(media, ",") {
		if name, ok := strings.CutPrefix(strings.TrimSpace(m), "sound:"); ok && name != "" {
			names = append(names, name)
		}
	}
	return strings.Join(names, "&")
}
