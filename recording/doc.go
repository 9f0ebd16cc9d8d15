// Package recording holds the pure decisions about call recordings: which
// calls a queue's or campaign's policy records (deterministically, so a
// restart decides the same), the pause and resume bookkeeping of a live
// recording, a live recording's course from its start to its end (Live:
// pause, stop, the agent's keys, the end-watch after its call), the life
// cycle of a recording's row, which stored recordings retention deletes
// now, and the sanity check of a WAV file's header.
//
// Nothing here does I/O, starts goroutines or reads the clock: callers pass
// now. Fetching, verifying and deleting files is package
// recording/files; the rows live in package storage.
//
// The engine's recording capability is the Driver (driver.go): it keeps
// the live recordings and carries out what their Live machines decide,
// through the Host the engine gives it and the stores it is handed
// (Options); its PBX commands and writes run on the host's executors.
package recording
