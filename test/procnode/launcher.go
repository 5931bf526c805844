package procnode

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// flinkHomeInPod is where the official images keep Flink.
const flinkHomeInPod = "/opt/flink"

// writeLauncher writes the script that runs first inside the container's fresh mount
// and UTS namespaces: it sets the hostname, gives the container its own /tmp, builds a
// pulled image's root, binds the Pod's hosts file, the Flink image at /opt/flink and
// every volumeMount, and execs the container's command (its arguments) in its working
// directory — for a pulled image in its root, as id.
func (r *containerRunner) writeLauncher(pod *corev1.Pod, id identity, cg *memoryCgroup) (string, error) {
	if err := os.MkdirAll(r.dir, 0o755); err != nil {
		return "", err
	}
	var b strings.Builder
	// The launcher joins the container's memory cgroup itself, first: the node moving
	// it there by its pid could move another process, should the container have ended
	// and its pid been taken again meanwhile.
	fmt.Fprintf(&b, "echo $$ > %s || echo \"[WARN] could not join the memory cgroup\" >&2\n", shellQuote(cg.procsFile()))
	// The launcher's tools are the node's; the command gets the container's PATH back.
	fmt.Fprintf(&b, "set -e\ncontainer_path=$PATH\nexport PATH=%s\n", shellQuote(os.Getenv("PATH")))
	fmt.Fprintf(&b, "hostname %s\n", shellQuote(podHostname(pod)))
	// A container's /tmp is its own and starts empty, as a new container's does. The
	// host's /tmp stays reachable at hostTmp for the sources bound below.
	tmp := filepath.Join(r.dir, "tmp")
	if err := os.RemoveAll(tmp); err != nil {
		return "", err
	}
	if err := os.MkdirAll(tmp, 0o1777); err != nil {
		return "", err
	}
	bind(&b, "/tmp", hostTmp, false)
	bind(&b, tmp, "/tmp", false)
	// root is the container's root file system as the launcher sees it: the host's,
	// or a pulled image's.
	root, mountRoot := "", ""
	if r.img.rootfs != "" {
		var err error
		if root, err = r.writeRootMounts(&b); err != nil {
			return "", err
		}
		mountRoot = hostPathInContainer(root)
	}
	target := func(path string) (string, error) { return r.inRoot(mountRoot, path) }
	for _, f := range [][2]string{{r.w.hostsPath(), "/etc/hosts"}, {r.w.resolvConfPath(), "/etc/resolv.conf"}} {
		dst, err := target(f[1])
		if err != nil {
			return "", err
		}
		bind(&b, f[0], dst, false)
	}
	workDir := r.spec.WorkingDir
	if r.img.flinkHome != nil {
		if err := r.bindFlinkHome(&b); err != nil {
			return "", err
		}
		if workDir == "" {
			workDir = flinkHomeInPod
		}
	}
	if err := r.bindVolumes(&b, target); err != nil {
		return "", err
	}
	if workDir == "" {
		workDir = r.img.workingDir
	}
	if workDir == "" {
		workDir = "/"
	}
	_ = os.Remove(r.startedMarker())
	if root != "" {
		inRoot, err := target(workDir)
		if err != nil {
			return "", err
		}
		r.writeRootExec(&b, root, workDir, inRoot, id)
	} else {
		fmt.Fprintf(&b, "mkdir -p %[1]s\ncd %[1]s\n", shellQuote(workDir))
		// Tell the node the container stands in its namespaces (probes wait for it).
		fmt.Fprintf(&b, ": > %s\nexport PATH=$container_path\nexec \"$@\"\n", shellQuote(hostPathInContainer(r.startedMarker())))
	}
	path := filepath.Join(r.dir, "launcher.sh")
	return path, os.WriteFile(path, []byte(b.String()), 0o755)
}

// bindFlinkHome presents the provisioned Flink home at /opt/flink: a fresh copy of
// its writable parts, its read-only parts bound.
func (r *containerRunner) bindFlinkHome(b *strings.Builder) error {
	root, err := r.prepareImageRoot()
	if err != nil {
		return err
	}
	bind(b, root, flinkHomeInPod, false)
	for _, d := range r.readOnlyHomeDirs() {
		bind(b, filepath.Join(r.img.flinkHome.Dir, d), filepath.Join(flinkHomeInPod, d), true)
	}
	return nil
}

// bindVolumes binds every volumeMount at the host path target gives for its path in
// the container.
func (r *containerRunner) bindVolumes(b *strings.Builder, target func(string) (string, error)) error {
	for _, m := range r.spec.VolumeMounts {
		vol, ok := r.w.volumes[m.Name]
		if !ok {
			return fmt.Errorf("volumeMount %q names no volume of the Pod", m.Name)
		}
		src := vol.path
		if m.SubPath != "" {
			if !filepath.IsLocal(m.SubPath) {
				return fmt.Errorf("volumeMount %q: subPath %q leaves the volume", m.Name, m.SubPath)
			}
			src = filepath.Join(vol.path, m.SubPath)
			if _, err := os.Stat(src); os.IsNotExist(err) {
				if err := os.MkdirAll(src, 0o755); err != nil {
					return err
				}
			}
		}
		dst, err := target(m.MountPath)
		if err != nil {
			return err
		}
		bind(b, src, dst, m.ReadOnly || vol.readOnly)
	}
	return nil
}

// hostTmp is where a container still sees the host's /tmp once its own /tmp is bound:
// the sources of later binds (the node's files, hostPath volumes) may live there.
const hostTmp = "/run/flok-host-tmp"

// startedMarker is the file the launcher creates just before it execs the container's
// command, when every mount is in place.
func (r *containerRunner) startedMarker() string { return filepath.Join(r.dir, "started") }

// hostPathInContainer is where a container's launcher finds a host path once the
// container's own /tmp is in place.
func hostPathInContainer(path string) string {
	if rest, ok := strings.CutPrefix(path, "/tmp/"); ok {
		return hostTmp + "/" + rest
	}
	return path
}

// bind mounts src at dst, creating dst as a file or directory like src; dst paths
// outside /opt/flink are created on the host, empty, the first time.
func bind(b *strings.Builder, src, dst string, readOnly bool) {
	src, dst = shellQuote(hostPathInContainer(src)), shellQuote(dst)
	fmt.Fprintf(b, "if [ -d %[1]s ]; then mkdir -p %[2]s; else mkdir -p \"$(dirname %[2]s)\"; [ -e %[2]s ] || : > %[2]s; fi\n", src, dst)
	fmt.Fprintf(b, "mount --bind %s %s\n", src, dst)
	if readOnly {
		fmt.Fprintf(b, "mount -o remount,bind,ro %s\n", dst)
	}
}

// shellQuote quotes s for bash.
func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// podHostname is the Pod's hostname: spec.hostname, else its name, cut to 63
// characters as the kubelet does.
func podHostname(pod *corev1.Pod) string {
	name := pod.Name
	if pod.Spec.Hostname != "" {
		name = pod.Spec.Hostname
	}
	if len(name) > 63 {
		name = strings.TrimRight(name[:63], "-.")
	}
	return name
}
