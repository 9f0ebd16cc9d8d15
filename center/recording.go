package center

import (
	"context"

	sb "github.com/switchboard/switchboard"
	"github.com/switchboard/switchboard/recording"
)

// Call recording is package recording's driver (recording.Driver): the
// center hands it the calls that start talking and end, the recordings'
// PBX events and the agents' keys, and carries out its PBX commands
// through the host (host_recording.go).

// RecordingRepo keeps recordings' metadata.
type RecordingRepo = recording.Repo

// RecordingOptions wires call recording into the center. Without a Repo
// nothing is recorded.
type RecordingOptions = recording.Options

// Defaults of RecordingOptions.
const (
	DefaultRecordingEndWait = recording.DefaultEndWait
	DefaultRecordingSweep   = recording.DefaultSweep
)

// OpenRecordings is how many recordings are being made or fetched: a
// recording counts from its start until its file is stored (or it is
// marked failed).
func (c *Center) OpenRecordings() int { return c.rec.OpenRecordings() }

// Pause pauses the live recordings of a call (a card number is being
// read); the pause is marked in their metadata. It implements the API's
// LiveRecordings.
func (c *Center) Pause(ctx context.Context, call sb.CallID) error { return c.rec.Pause(ctx, call) }

// Resume resumes them and closes the pause.
func (c *Center) Resume(ctx context.Context, call sb.CallID) error { return c.rec.Resume(ctx, call) }

// StartRecording starts recording a bridged call by hand (the on-demand
// policy; any policy but never). ECONFLICT when it is already recorded or
// not bridged.
func (c *Center) StartRecording(ctx context.Context, call sb.CallID) error {
	return c.rec.Start(ctx, call)
}

// RecordingPolicy returns the recording policy of a live call: its
// campaign's, its queue's or the default (ENOTFOUND when no such call).
func (c *Center) RecordingPolicy(ctx context.Context, call sb.CallID) (recording.Policy, error) {
	return c.rec.Policy(ctx, call)
}

// StopRecording stops a call's recordings; they are fetched and stored as
// when the call ends.
func (c *Center) StopRecording(ctx context.Context, call sb.CallID) error {
	return c.rec.Stop(ctx, call)
}
