package fid

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"

	"github.com/ddpm-go/ddpm/internal/atomicfile"
)

// The stats and features cache files share one layout (version 1 of each format):
//
//	line 1:  a JSON object (payloadHeader) terminated by '\n'
//	payload: little-endian IEEE-754 float64 values
//
// The header names the format and version, the network and its weight hash, the dataset, N, Dim,
// what the payload holds, its length and its SHA-256, so a file is self-describing and truncation
// or corruption is detected. Values round-trip bit-exactly.

// maxHeaderLen bounds the header line, newline included.
const maxHeaderLen = 1 << 16

// payloadHeader is the header line of a stats or features file. The field order is the
// file format: keep it.
type payloadHeader struct {
	Format       string `json:"format"`
	Version      int    `json:"version"`
	Network      string `json:"network"`
	NetworkHash  string `json:"network_hash"`
	Dataset      string `json:"dataset"`
	N            int    `json:"n"`
	Dim          int    `json:"dim"`
	Payload      string `json:"payload"`
	PayloadBytes int64  `json:"payload_bytes"`
	SHA256       string `json:"sha256"`
}

// appendFloat64s appends vals to b as little-endian float64.
func appendFloat64s(b []byte, vals ...float64) []byte {
	for _, v := range vals {
		b = binary.LittleEndian.AppendUint64(b, math.Float64bits(v))
	}
	return b
}

// writePayloadFile sets h's PayloadBytes and SHA256 from payload and writes the header line and
// the payload to path atomically (package atomicfile).
func writePayloadFile(path string, h payloadHeader, payload []byte) error {
	sum := sha256.Sum256(payload)
	h.PayloadBytes, h.SHA256 = int64(len(payload)), hex.EncodeToString(sum[:])
	line, err := json.Marshal(h)
	if err != nil {
		return err
	}
	line = append(line, '\n')
	return atomicfile.Write(path, func(w io.Writer) error {
		if _, err := w.Write(line); err != nil {
			return err
		}
		_, err := w.Write(payload)
		return err
	})
}

// readPayloadFile reads a file written by writePayloadFile: a header line of at most maxHeaderLen
// bytes, decoded strictly (unknown fields are an error), then check, which validates the header
// and returns the number of float64 values the payload must hold; then the header's payload_bytes
// and the file's size must agree with it and the payload must match its SHA-256. It returns the
// header and the decoded values. kind ("stats", "features") words the errors of a file that is not
// of the format at all.
func readPayloadFile(path, kind string, check func(h *payloadHeader) (count int, err error)) (*payloadHeader, []float64, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return nil, nil, err
	}
	br := bufio.NewReaderSize(f, maxHeaderLen)
	line, err := br.ReadSlice('\n')
	if err != nil {
		if errors.Is(err, bufio.ErrBufferFull) {
			return nil, nil, fmt.Errorf("no header line within %d bytes: not a %s file", maxHeaderLen, kind)
		}
		return nil, nil, fmt.Errorf("truncated or not a %s file: no complete header line (%d bytes)", kind, info.Size())
	}
	var h payloadHeader
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&h); err != nil {
		return nil, nil, fmt.Errorf("corrupt header: %v", err)
	}
	count, err := check(&h)
	if err != nil {
		return nil, nil, err
	}
	want := 8 * int64(count)
	if h.PayloadBytes != want {
		return nil, nil, fmt.Errorf("corrupt header: payload_bytes=%d, want %d", h.PayloadBytes, want)
	}
	if have := info.Size() - int64(len(line)); have != want {
		if have < want {
			return nil, nil, fmt.Errorf("truncated: payload has %d bytes, header promises %d", have, want)
		}
		return nil, nil, fmt.Errorf("corrupt: %d unexpected trailing bytes after the payload", have-want)
	}
	payload := make([]byte, want)
	if _, err := io.ReadFull(br, payload); err != nil {
		return nil, nil, fmt.Errorf("truncated: reading %d payload bytes: %v", want, err)
	}
	if sum := sha256.Sum256(payload); hex.EncodeToString(sum[:]) != h.SHA256 {
		return nil, nil, errors.New("corrupt: payload SHA-256 does not match the header")
	}
	vals := make([]float64, count)
	for i := range vals {
		vals[i] = math.Float64frombits(binary.LittleEndian.Uint64(payload[8*i:]))
	}
	return &h, vals, nil
}
