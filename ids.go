package switchboard

// CallID identifies one customer call from the moment it enters Switchboard
// until its call-log row is written. It is the caller channel's ID.
type CallID string

// ChannelID identifies one PBX channel (one leg of a call).
type ChannelID string

// BridgeID identifies one PBX mixing bridge.
type BridgeID string

// AgentID identifies an agent (a person who answers calls).
type AgentID string

// PlaybackID identifies one playback of media on a channel or bridge.
type PlaybackID string

// QueueName names a queue.
type QueueName string
