package backup

import (
	"bufio"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// A backup file is a plaintext preamble — the magic line and a JSON line
// naming the cipher, the key's id and the nonce prefix — followed by the
// sealed stream: chunks of at most chunkSize bytes, each sealed with
// AES-256-GCM under the backup key, nonce = prefix (4 bytes) ‖ chunk
// number (8 bytes), additional data = the preamble and the chunk's
// "last" flag. Each chunk is framed by a 4-byte length whose top bit is
// that flag. A reordered, dropped, altered or appended chunk fails to
// open, and a file cut short has no last chunk: both are refused before a
// byte of it is trusted.

const (
	magic     = "KAIDIAN-BACKUP\n"
	chunkSize = 1 << 20
	lastFlag  = 1 << 31
)

var (
	// ErrNotBackup: the file does not start like a kaidian backup.
	ErrNotBackup = errors.New("not a kaidian backup file")
	// ErrWrongKey: the file was sealed with another backup key.
	ErrWrongKey = errors.New("the backup was made with another backup key")
	// ErrCorrupt: a chunk does not open (changed, reordered or damaged).
	ErrCorrupt = errors.New("the backup is corrupt (a sealed chunk does not open)")
	// ErrTruncated: the file ends before its last chunk.
	ErrTruncated = errors.New("the backup is truncated (its last chunk is missing)")
	// ErrVersion: a format this build does not read.
	ErrVersion = errors.New("the backup's format is newer than this kaidian")
)

type preamble struct {
	Format      int    `json:"format"`
	Cipher      string `json:"cipher"`
	KeyID       string `json:"key_id"`
	NoncePrefix []byte `json:"nonce_prefix"`
}

// KeyID names a backup key without revealing it: the first 8 bytes of
// HMAC-SHA256(key, "kaidian backup key id"), in hex.
func KeyID(key []byte) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte("kaidian backup key id"))
	return hex.EncodeToString(m.Sum(nil)[:8])
}

func newAEAD(key []byte) (cipher.AEAD, error) {
	if len(key) != 32 {
		return nil, fmt.Errorf("a backup key is 32 bytes, not %d", len(key))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

// sealer is the io.WriteCloser of a sealed stream.
type sealer struct {
	w      io.Writer
	aead   cipher.AEAD
	ad     []byte // the preamble
	prefix []byte
	n      uint64
	buf    []byte
	out    []byte
	closed bool
}

// seal writes the preamble to w and returns the writer of the sealed
// stream; Close seals the last chunk (it does not close w).
func seal(w io.Writer, key []byte) (io.WriteCloser, error) {
	aead, err := newAEAD(key)
	if err != nil {
		return nil, err
	}
	p := preamble{Format: 1, Cipher: "AES-256-GCM", KeyID: KeyID(key), NoncePrefix: make([]byte, 4)}
	if _, err := rand.Read(p.NoncePrefix); err != nil {
		return nil, err
	}
	line, _ := json.Marshal(p)
	head := append([]byte(magic), append(line, '\n')...)
	if _, err := w.Write(head); err != nil {
		return nil, err
	}
	return &sealer{w: w, aead: aead, ad: head, prefix: p.NoncePrefix, buf: make([]byte, 0, chunkSize)}, nil
}

func (s *sealer) Write(p []byte) (int, error) {
	if s.closed {
		return 0, errors.New("backup: write after close")
	}
	written := 0
	for len(p) > 0 {
		n := min(len(p), chunkSize-len(s.buf))
		s.buf = append(s.buf, p[:n]...)
		p, written = p[n:], written+n
		if len(s.buf) == chunkSize {
			if err := s.flush(false); err != nil {
				return written, err
			}
		}
	}
	return written, nil
}

func (s *sealer) Close() error {
	if s.closed {
		return nil
	}
	s.closed = true
	return s.flush(true)
}

func (s *sealer) flush(last bool) error {
	s.out = s.aead.Seal(s.out[:0], nonce(s.prefix, s.n), s.buf, additional(s.ad, last))
	s.n++
	s.buf = s.buf[:0]
	frame := uint32(len(s.out))
	if last {
		frame |= lastFlag
	}
	var hdr [4]byte
	binary.BigEndian.PutUint32(hdr[:], frame)
	if _, err := s.w.Write(hdr[:]); err != nil {
		return err
	}
	_, err := s.w.Write(s.out)
	return err
}

func nonce(prefix []byte, n uint64) []byte {
	out := make([]byte, 12)
	copy(out, prefix)
	binary.BigEndian.PutUint64(out[4:], n)
	return out
}

func additional(preamble []byte, last bool) []byte {
	flag := byte(0)
	if last {
		flag = 1
	}
	return append(append([]byte(nil), preamble...), flag)
}

// opener is the io.Reader of a sealed stream.
type opener struct {
	r      *bufio.Reader
	aead   cipher.AEAD
	ad     []byte
	prefix []byte
	n      uint64
	plain  []byte
	in     []byte
	done   bool
}

// open reads the preamble of r and returns the reader of the plaintext:
// each chunk is authenticated before any of it is returned.
func open(r io.Reader, key []byte) (io.Reader, error) {
	aead, err := newAEAD(key)
	if err != nil {
		return nil, err
	}
	br := bufio.NewReaderSize(r, 64<<10)
	m := make([]byte, len(magic))
	if _, err := io.ReadFull(br, m); err != nil || string(m) != magic {
		return nil, ErrNotBackup
	}
	line, err := br.ReadSlice('\n')
	if err != nil || len(line) > 1024 {
		return nil, ErrNotBackup
	}
	var p preamble
	if err := json.Unmarshal(line, &p); err != nil || len(p.NoncePrefix) != 4 {
		return nil, ErrNotBackup
	}
	switch {
	case p.Format != 1 || p.Cipher != "AES-256-GCM":
		return nil, ErrVersion
	case p.KeyID != KeyID(key):
		return nil, ErrWrongKey
	}
	ad := append([]byte(magic), line...)
	return &opener{r: br, aead: aead, ad: ad, prefix: p.NoncePrefix}, nil
}

func (o *opener) Read(p []byte) (int, error) {
	for len(o.plain) == 0 {
		if o.done {
			return 0, io.EOF
		}
		if err := o.next(); err != nil {
			return 0, err
		}
	}
	n := copy(p, o.plain)
	o.plain = o.plain[n:]
	return n, nil
}

func (o *opener) next() error {
	var hdr [4]byte
	if _, err := io.ReadFull(o.r, hdr[:]); err != nil {
		return ErrTruncated
	}
	frame := binary.BigEndian.Uint32(hdr[:])
	last, size := frame&lastFlag != 0, int(frame&^lastFlag)
	if size > chunkSize+o.aead.Overhead() {
		return ErrCorrupt
	}
	if cap(o.in) < size {
		o.in = make([]byte, size)
	}
	o.in = o.in[:size]
	if _, err := io.ReadFull(o.r, o.in); err != nil {
		return ErrTruncated
	}
	plain, err := o.aead.Open(o.in[:0], nonce(o.prefix, o.n), o.in, additional(o.ad, last))
	if err != nil {
		return ErrCorrupt
	}
	o.n++
	o.plain = plain
	if last {
		o.done = true
		if extra, _ := o.r.Peek(1); len(extra) > 0 {
			return ErrCorrupt // bytes after the last chunk
		}
	}
	return nil
}
