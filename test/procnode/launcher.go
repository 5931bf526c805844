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
// and UTS namespaces: it sets the hostname, binds the Pod's hosts file, the image at
// /opt/flink and every volumeMount, changes to the working directory and execs the
// container's command (its arguments).
func (r *containerRunner) writeLauncher(pod *corev1.Pod) (string, error) {
	if err := os.MkdirAll(r.dir, 0o755); err != nil {
		return "", err
	}
	var b strings.Builder
	b.WriteString("set -e\n")
	fmt.Fprintf(&b, "hostname %s\n", shellQuote(podHostname(pod)))
	fmt.Fprintf(&b, "mount --bind %s /etc/hosts\n", shellQuote(r.w.hostsPath()))
	fmt.Fprintf(&b, "mount --bind %s /etc/resolv.conf\n", shellQuote(r.w.resolvConfPath()))
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
	workDir := r.spec.WorkingDir
	if r.img.flinkHome != nil {
		root, err := r.prepareImageRoot()
		if err != nil {
			return "", err
		}
		bind(&b, root, flinkHomeInPod, false)
		for _, d := range imageReadOnlyDirs {
			bind(&b, filepath.Join(r.img.flinkHome.Dir, d), filepath.Join(flinkHomeInPod, d), true)
		}
		if workDir == "" {
			workDir = flinkHomeInPod
		}
	}
	for _, m := range r.spec.VolumeMounts {
		vol, ok := r.w.volumes[m.Name]
		if !ok {
			return "", fmt.Errorf("volumeMount %q names no volume of the Pod", m.Name)
		}
		src := vol.path
		if m.SubPath != "" {
			if !filepath.IsLocal(m.SubPath) {
				return "", fmt.Errorf("volumeMount %q: subPath %q leaves the volume", m.Name, m.SubPath)
			}
			src = filepath.Join(vol.path, m.SubPath)
			if _, err := os.Stat(src); os.IsNotExist(err) {
				if err := os.MkdirAll(src, 0o755); err != nil {
					return "", err
				}
			}
		}
		bind(&b, src, m.MountPath, m.ReadOnly || vol.readOnly)
	}
	if workDir == "" {
		workDir = "/"
	}
	fmt.Fprintf(&b, "mkdir -p %[1]s && cd %[1]s\n", shellQuote(workDir))
	// Tell the node the container stands in its namespaces (probes wait for it).
	_ = os.Remove(r.startedMarker())
	fmt.Fprintf(&b, ": > %s\nexec \"$@\"\n", shellQuote(hostPathInContainer(r.startedMarker())))
	path := filepath.Join(r.dir, "launcher.sh")
	return path, os.WriteFile(path, []byte(b.String()), 0o755)
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
