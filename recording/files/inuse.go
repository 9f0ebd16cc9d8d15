package files

import "sync"

// InUse tracks which recordings are being read (downloaded or verified) and
// which are being deleted, so that retention never deletes a file under a
// listener and a download never starts on a file being deleted. A
// recording is either read by any number of readers or deleted by one
// deleter, never both: the check and the mark happen under one lock.
//
// It is a registry many HTTP handlers and the retention job consult at
// once, so it is a mutex around two maps rather than an owned goroutine:
// every operation is a few map accesses and never blocks on I/O.
type InUse struct {
	mu       sync.Mutex
	readers  map[int64]int
	deleting map[int64]bool
}

// NewInUse returns an empty registry.
func NewInUse() *InUse {
	return &InUse{readers: map[int64]int{}, deleting: map[int64]bool{}}
}

// Acquire marks recording id as read until release is called (once; more
// calls do nothing). ok is false, and nothing is marked, while the
// recording is being deleted.
func (u *InUse) Acquire(id int64) (release func(), ok bool) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.deleting[id] {
		return func() {}, false
	}
	u.readers[id]++
	var once sync.Once
	return func() {
		once.Do(func() {
			u.mu.Lock()
			defer u.mu.Unlock()
			if u.readers[id]--; u.readers[id] <= 0 {
				delete(u.readers, id)
			}
		})
	}, true
}

// Busy reports whether recording id is being read or deleted now.
func (u *InUse) Busy(id int64) bool {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.readers[id] > 0 || u.deleting[id]
}

// Readers returns how many readers hold recording id.
func (u *InUse) Readers(id int64) int {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.readers[id]
}

// beginDelete marks recording id as being deleted; false (and nothing
// marked) when it is being read or already being deleted.
func (u *InUse) beginDelete(id int64) bool {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.readers[id] > 0 || u.deleting[id] {
		return false
	}
	u.deleting[id] = true
	return true
}

// endDelete clears the mark of beginDelete.
func (u *InUse) endDelete(id int64) {
	u.mu.Lock()
	defer u.mu.Unlock()
	delete(u.deleting, id)
}
