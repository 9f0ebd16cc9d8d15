package sim

import (
	"encoding/binary"
	"io"
	"math"
	"net/http"
	"strconv"
	"time"
)

// WAV parameters of stored recordings: 8 kHz, mono, 16-bit PCM.
const (
	wavRate    = 8000
	wavBits    = 16
	wavHdrSize = 44
)

// WAVSize is the byte length of the WAV file for a recording of d.
func WAVSize(d time.Duration) int64 { return wavHdrSize + 2*wavSamples(d) }

func wavSamples(d time.Duration) int64 {
	if d < 0 {
		d = 0
	}
	return int64(d) * wavRate / int64(time.Second)
}

func wavHeader(samples int64) []byte {
	h := make([]byte, wavHdrSize)
	data := uint32(samples * 2)
	copy(h[0:], "RIFF")
	binary.LittleEndian.PutUint32(h[4:], 36+data)
	copy(h[8:], "WAVE")
	copy(h[12:], "fmt ")
	binary.LittleEndian.PutUint32(h[16:], 16)
	binary.LittleEndian.PutUint16(h[20:], 1) // PCM
	binary.LittleEndian.PutUint16(h[22:], 1) // mono
	binary.LittleEndian.PutUint32(h[24:], wavRate)
	binary.LittleEndian.PutUint32(h[28:], wavRate*2)
	binary.LittleEndian.PutUint16(h[32:], 2)
	binary.LittleEndian.PutUint16(h[34:], wavBits)
	copy(h[36:], "data")
	binary.LittleEndian.PutUint32(h[40:], data)
	return h
}

// toneBlock is one second of a quiet 400 Hz tone, the body of every
// generated recording (repeated; the tail is cut to length).
var toneBlock = func() []byte {
	b := make([]byte, 2*wavRate)
	for i := 0; i < wavRate; i++ {
		v := int16(1000 * math.Sin(2*math.Pi*400*float64(i)/wavRate))
		binary.LittleEndian.PutUint16(b[2*i:], uint16(v))
	}
	return b
}()

// writeWAV streams a WAV of d to w without buffering the whole file.
func writeWAV(w io.Writer, d time.Duration) error {
	n := wavSamples(d)
	if _, err := w.Write(wavHeader(n)); err != nil {
		return err
	}
	left := 2 * n
	for left > 0 {
		chunk := toneBlock
		if int64(len(chunk)) > left {
			chunk = chunk[:left]
		}
		if _, err := w.Write(chunk); err != nil {
			return err
		}
		left -= int64(len(chunk))
	}
	return nil
}

// handleRecordingFile serves GET /recordings/stored/{recordingName}/file.
func (s *Server) handleRecordingFile(w http.ResponseWriter, r *http.Request) {
	if !s.authorized(r) {
		unauthorized(w)
		return
	}
	s.mu.Lock()
	st, found := s.stored[r.PathValue("recordingName")]
	var d time.Duration
	if found {
		d = st.duration
	}
	s.mu.Unlock()
	if !found {
		writeJSON(w, http.StatusNotFound, errBody("Recording not found"))
		return
	}
	w.Header().Set("Content-Type", "audio/wav")
	w.Header().Set("Content-Length", strconv.FormatInt(WAVSize(d), 10))
	w.WriteHeader(http.StatusOK)
	writeWAV(w, d)
}
