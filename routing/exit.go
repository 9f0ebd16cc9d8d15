package routing

// ExitHangup is the exit target that hangs the caller up at once (no
// prompt).
const ExitHangup = "hangup"

// ExitTo is where a caller who leaves a queue without an agent goes.
type ExitTo int

const (
	// ExitToPrompt: the no-agent prompt, then the hang-up (target "").
	ExitToPrompt ExitTo = iota
	// ExitToHangup: hung up at once, no prompt (target ExitHangup).
	ExitToHangup
	// ExitToFlow: the flow the target names (voicemail, a message,
	// another queue).
	ExitToFlow
)

// To says where the exit's caller goes, by its target.
func (x Exit) To() ExitTo {
	switch x.Target {
	case "":
		return ExitToPrompt
	case ExitHangup:
		return ExitToHangup
	}
	return ExitToFlow
}
