package bench

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Memory is a snapshot of a process's memory.
type Memory struct {
	RSS       uint64 `json:"rss_bytes"`                  // resident set size (VmRSS)
	PeakRSS   uint64 `json:"peak_rss_bytes"`             // high-water mark (VmHWM)
	HeapInuse uint64 `json:"heap_inuse_bytes,omitempty"` // Go heap spans in use (this process only)
	HeapAlloc uint64 `json:"heap_alloc_bytes,omitempty"` // live Go objects after a GC
	GoSys     uint64 `json:"go_sys_bytes,omitempty"`     // memory the Go runtime got from the OS
}

// SelfMemory collects garbage, returns freed memory to the OS and reads
// this process's memory, so that figures taken at different times compare.
func SelfMemory() (Memory, error) {
	runtime.GC()
	debug.FreeOSMemory()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	m, err := ProcMemory(os.Getpid())
	m.HeapInuse, m.HeapAlloc, m.GoSys = ms.HeapInuse, ms.HeapAlloc, ms.Sys
	return m, err
}

// ProcMemory reads VmRSS and VmHWM of process pid from /proc (Linux).
func ProcMemory(pid int) (Memory, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return Memory{}, err
	}
	defer f.Close()
	return parseStatus(f)
}

func parseStatus(r io.Reader) (Memory, error) {
	var m Memory
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		var dst *uint64
		switch k {
		case "VmRSS":
			dst = &m.RSS
		case "VmHWM":
			dst = &m.PeakRSS
		default:
			continue
		}
		kb, err := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		if err != nil {
			return m, fmt.Errorf("/proc status %s: %w", k, err)
		}
		*dst = kb << 10
	}
	if err := sc.Err(); err != nil {
		return m, err
	}
	if m.RSS == 0 {
		return m, fmt.Errorf("/proc status: no VmRSS")
	}
	return m, nil
}

// CPUSnapshot is the machine's busy CPU time and this process's CPU time at
// one moment; two of them tell how much CPU other processes used between.
type CPUSnapshot struct {
	At      time.Time
	Machine time.Duration // all CPUs: user, nice, system and steal (not idle, iowait or interrupts, which are mostly our own loopback traffic)
	Self    time.Duration // this process, user + system
	ok      bool
}

// TakeCPUSnapshot reads /proc/stat and getrusage (Linux; elsewhere the
// snapshot is empty and OtherCPU returns -1).
func TakeCPUSnapshot() CPUSnapshot {
	s := CPUSnapshot{At: time.Now()}
	data, err := os.ReadFile("/proc/stat")
	if err != nil {
		return s
	}
	line, _, _ := strings.Cut(string(data), "\n")
	fields := strings.Fields(line)
	if len(fields) < 9 || fields[0] != "cpu" {
		return s
	}
	var busy uint64
	for i, v := range fields[1:9] { // user nice system idle iowait irq softirq steal
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			return s
		}
		if i <= 2 || i == 7 {
			busy += n
		}
	}
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return s
	}
	s.Machine = time.Duration(busy) * time.Second / userHZ
	s.Self = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	s.ok = true
	return s
}

// userHZ is the unit of /proc/stat (USER_HZ, 100 on every Linux platform Go supports).
const userHZ = 100

// OtherCPU returns the CPU other processes (and the hypervisor, as steal)
// used from s to later, in cores (1.0 = one CPU busy all the time), or -1
// when unknown.
func (s CPUSnapshot) OtherCPU(later CPUSnapshot) float64 {
	wall := later.At.Sub(s.At)
	if !s.ok || !later.ok || wall <= 0 {
		return -1
	}
	other := (later.Machine - s.Machine) - (later.Self - s.Self)
	return max(0, other.Seconds()/wall.Seconds())
}

// ResetPeakRSS restarts this process's VmHWM from its current RSS (Linux:
// /proc/self/clear_refs), so that a later Memory.PeakRSS is the peak of
// what happened in between.
func ResetPeakRSS() error {
	return os.WriteFile("/proc/self/clear_refs", []byte("5"), 0)
}
