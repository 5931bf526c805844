package procnode

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// memoryCgroupRoot is where the cgroup v1 memory controller is mounted.
const memoryCgroupRoot = "/sys/fs/cgroup/memory"

// memoryCgroup limits one container's memory as the kubelet does, and tells whether
// the kernel's OOM killer ended it.
type memoryCgroup struct {
	dir string
}

// newMemoryCgroup creates the container's cgroup; limit 0 means unlimited.
func newMemoryCgroup(path string, limit int64) (*memoryCgroup, error) {
	cg := &memoryCgroup{dir: filepath.Join(memoryCgroupRoot, path)}
	if err := os.MkdirAll(cg.dir, 0o755); err != nil {
		return nil, fmt.Errorf("create memory cgroup: %w", err)
	}
	if limit > 0 {
		if err := os.WriteFile(filepath.Join(cg.dir, "memory.limit_in_bytes"), []byte(strconv.FormatInt(limit, 10)), 0o644); err != nil {
			return nil, fmt.Errorf("set memory limit: %w", err)
		}
	}
	return cg, nil
}

// procsFile is where a process writes its pid to join the cgroup; its later children
// stay there.
func (cg *memoryCgroup) procsFile() string { return filepath.Join(cg.dir, "cgroup.procs") }

// oomKills is the kernel's count of OOM kills in the cgroup.
func (cg *memoryCgroup) oomKills() int {
	f, err := os.Open(filepath.Join(cg.dir, "memory.oom_control"))
	if err != nil {
		return 0
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if v, ok := strings.CutPrefix(s.Text(), "oom_kill "); ok {
			n, _ := strconv.Atoi(v)
			return n
		}
	}
	return 0
}

// remove deletes the cgroup once its processes are gone, killing any that remain.
func (cg *memoryCgroup) remove() {
	for range 50 {
		if err := syscall.Rmdir(cg.dir); err == nil || os.IsNotExist(err) {
			break
		}
		if data, err := os.ReadFile(filepath.Join(cg.dir, "cgroup.procs")); err == nil {
			for _, field := range strings.Fields(string(data)) {
				if pid, err := strconv.Atoi(field); err == nil {
					_ = syscall.Kill(pid, syscall.SIGKILL)
				}
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	// Parent directories (pod, slot) go when empty.
	for dir := filepath.Dir(cg.dir); dir != memoryCgroupRoot && strings.HasPrefix(dir, memoryCgroupRoot); dir = filepath.Dir(dir) {
		if syscall.Rmdir(dir) != nil {
			break
		}
	}
}
