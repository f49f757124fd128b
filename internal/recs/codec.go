package recs

import (
	"encoding/binary"
	"errors"
	"math"
	"slices"
)

// The stored model is a compact binary: a version byte, then varints and
// float32 bits. A few megabytes for 10,000 products.
const codecVersion = 1

var errCorrupt = errors.New("recs: corrupt model")

type encoder struct{ buf []byte }

func (e *encoder) int(v int64) { e.buf = binary.AppendVarint(e.buf, v) }
func (e *encoder) f32(v float32) {
	e.buf = binary.LittleEndian.AppendUint32(e.buf, math.Float32bits(v))
}
func (e *encoder) list(l []Neighbor) {
	e.int(int64(len(l)))
	for _, n := range l {
		e.int(n.ID)
		e.f32(n.Score)
	}
}

func (e *encoder) lists(m map[int64][]Neighbor) {
	keys := make([]int64, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	e.int(int64(len(keys)))
	for _, k := range keys {
		e.int(k)
		e.list(m[k])
	}
}

// Encode returns m as stored.
func (m *Model) Encode() []byte {
	e := &encoder{buf: []byte{codecVersion}}
	e.int(m.BuiltAt)
	e.int(m.Lines)
	e.lists(m.Together)
	e.lists(m.AlsoBought)
	e.list(m.Popular)
	e.lists(m.ByCategory)
	repeat := make([]int64, 0, len(m.Repeat))
	for id := range m.Repeat {
		repeat = append(repeat, id)
	}
	slices.Sort(repeat)
	e.int(int64(len(repeat)))
	for _, id := range repeat {
		e.int(id)
	}
	return e.buf
}

type decoder struct {
	buf []byte
	err error
}

func (d *decoder) int() int64 {
	v, n := binary.Varint(d.buf)
	if n <= 0 {
		d.err = errCorrupt
		d.buf = nil
		return 0
	}
	d.buf = d.buf[n:]
	return v
}

func (d *decoder) count() int {
	n := d.int()
	if n < 0 || n > int64(len(d.buf)) { // every element takes at least a byte
		d.err = errCorrupt
		return 0
	}
	return int(n)
}

func (d *decoder) f32() float32 {
	if len(d.buf) < 4 {
		d.err = errCorrupt
		return 0
	}
	v := math.Float32frombits(binary.LittleEndian.Uint32(d.buf))
	d.buf = d.buf[4:]
	return v
}

func (d *decoder) list() []Neighbor {
	n := d.count()
	out := make([]Neighbor, 0, n)
	for i := 0; i < n && d.err == nil; i++ {
		out = append(out, Neighbor{ID: d.int(), Score: d.f32()})
	}
	return out
}

func (d *decoder) lists() map[int64][]Neighbor {
	n := d.count()
	out := make(map[int64][]Neighbor, n)
	for i := 0; i < n && d.err == nil; i++ {
		k := d.int()
		out[k] = d.list()
	}
	return out
}

// Decode reads a model Encode wrote.
func Decode(b []byte) (*Model, error) {
	if len(b) == 0 || b[0] != codecVersion {
		return nil, errCorrupt
	}
	d := &decoder{buf: b[1:]}
	m := &Model{BuiltAt: d.int(), Lines: d.int()}
	m.Together = d.lists()
	m.AlsoBought = d.lists()
	m.Popular = d.list()
	m.ByCategory = d.lists()
	n := d.count()
	m.Repeat = make(map[int64]bool, n)
	for i := 0; i < n && d.err == nil; i++ {
		m.Repeat[d.int()] = true
	}
	if d.err != nil {
		return nil, d.err
	}
	return m, nil
}
