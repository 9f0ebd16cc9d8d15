package recording

import (
	"encoding/binary"
	"fmt"
	"io"
	"time"

	sb "github.com/switchboard/switchboard"
)

// WAVInfo is what a WAV file's header says about its audio.
type WAVInfo struct {
	Format        uint16 // 1 = PCM
	Channels      uint16
	SampleRate    uint32
	ByteRate      uint32
	BitsPerSample uint16
	DataOffset    int64 // where the samples begin
	DataSize      int64 // bytes of samples
	Duration      time.Duration
}

// maxChunks bounds the walk over a RIFF file's chunks, so a crafted file of
// empty chunks cannot keep a reader busy.
const maxChunks = 64

// ParseWAV checks that the size bytes of r are a complete WAV file and
// returns what its header says. It fails with EINVALID unless: the file is
// RIFF/WAVE, the RIFF length matches the file size (a recording the PBX has
// not finished, or a truncated copy, does not), a fmt chunk precedes the
// data chunk, the data chunk lies inside the file, and the format fields
// agree (for PCM: block align, byte rate, whole frames). The duration is
// the data length over the byte rate.
func ParseWAV(r io.ReaderAt, size int64) (WAVInfo, error) {
	var info WAVInfo
	bad := func(format string, args ...any) (WAVInfo, error) {
		return WAVInfo{}, sb.Errorf(sb.EINVALID, "wav: "+format, args...)
	}
	var hdr [12]byte
	if size < int64(len(hdr)) {
		return bad("%d bytes is too short for a WAV header", size)
	}
	if _, err := r.ReadAt(hdr[:], 0); err != nil {
		return WAVInfo{}, fmt.Errorf("wav: read header: %w", err)
	}
	if string(hdr[0:4]) != "RIFF" || string(hdr[8:12]) != "WAVE" {
		return bad("not a RIFF/WAVE file")
	}
	if riff := int64(binary.LittleEndian.Uint32(hdr[4:8])); riff+8 != size {
		return bad("RIFF length %d does not match the file size %d (unfinished or truncated)", riff+8, size)
	}
	haveFmt := false
	frame := int64(1) // bytes per PCM frame; 1 for other formats
	off := int64(len(hdr))
	for range maxChunks {
		var ch [8]byte
		if off+8 > size {
			break
		}
		if _, err := r.ReadAt(ch[:], off); err != nil {
			return WAVInfo{}, fmt.Errorf("wav: read chunk at %d: %w", off, err)
		}
		id, n := string(ch[0:4]), int64(binary.LittleEndian.Uint32(ch[4:8]))
		body := off + 8
		if body+n > size {
			return bad("chunk %q of %d bytes at %d runs past the end of the file (%d bytes)", id, n, off, size)
		}
		switch id {
		case "fmt ":
			if n < 16 {
				return bad("fmt chunk of %d bytes is too short", n)
			}
			var f [16]byte
			if _, err := r.ReadAt(f[:], body); err != nil {
				return WAVInfo{}, fmt.Errorf("wav: read fmt chunk: %w", err)
			}
			info.Format = binary.LittleEndian.Uint16(f[0:2])
			info.Channels = binary.LittleEndian.Uint16(f[2:4])
			info.SampleRate = binary.LittleEndian.Uint32(f[4:8])
			info.ByteRate = binary.LittleEndian.Uint32(f[8:12])
			align := binary.LittleEndian.Uint16(f[12:14])
			info.BitsPerSample = binary.LittleEndian.Uint16(f[14:16])
			switch {
			case info.Channels == 0 || info.SampleRate == 0 || info.ByteRate == 0 || align == 0:
				return bad("fmt chunk has a zero channel count, sample rate, byte rate or block align")
			case info.Format == 1 && (info.BitsPerSample == 0 || info.BitsPerSample%8 != 0 ||
				uint32(align) != uint32(info.Channels)*uint32(info.BitsPerSample/8) ||
				info.ByteRate != info.SampleRate*uint32(align)):
				return bad("PCM fmt chunk is inconsistent (%d channels, %d bits, block align %d, %d Hz, %d bytes/s)",
					info.Channels, info.BitsPerSample, align, info.SampleRate, info.ByteRate)
			}
			haveFmt = true
			if info.Format == 1 {
				frame = int64(align)
			}
		case "data":
			if !haveFmt {
				return bad("data chunk before the fmt chunk")
			}
			if n%frame != 0 {
				return bad("data length %d is not a whole number of %d-byte frames", n, frame)
			}
			info.DataOffset, info.DataSize = body, n
			info.Duration = time.Duration(n) * time.Second / time.Duration(info.ByteRate)
			return info, nil
		}
		off = body + n + n&1 // chunks are padded to an even length
	}
	if !haveFmt {
		return bad("no fmt chunk")
	}
	return bad("no data chunk")
}
