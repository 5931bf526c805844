package procnode

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	securejoin "github.com/cyphar/filepath-securejoin"
	corev1 "k8s.io/api/core/v1"
)

// errContainerConfig is the kubelet's CreateContainerConfigError: the container's
// settings cannot be applied to its image.
type errContainerConfig struct{ msg string }

func (e *errContainerConfig) Error() string { return e.msg }

// identity is who a container of a pulled image runs as.
type identity struct {
	uid, gid int64
	home     string
}

// runAs resolves the user of a container of a pulled image as the kubelet and a
// container runtime do: the security context's runAsUser and runAsGroup (the
// container's over the Pod's) over the image's USER, names looked up in the image's
// /etc/passwd and /etc/group; with runAsNonRoot, root — or a user name that cannot be
// verified — is refused.
func (r *containerRunner) runAs(pod *corev1.Pod) (identity, error) {
	uid, gid := securityIDs(pod, r.spec.SecurityContext)
	imageUser, imageGroup, _ := strings.Cut(r.img.user, ":")
	nonRoot := runAsNonRoot(pod, r.spec.SecurityContext)
	if uid == nil {
		if nonRoot && imageUser != "" && !isNumeric(imageUser) {
			return identity{}, &errContainerConfig{fmt.Sprintf(
				"container has runAsNonRoot and image has non-numeric user (%s), cannot verify user is non-root (pod: %q, container: %s)",
				imageUser, pod.Namespace+"/"+pod.Name, r.spec.Name)}
		}
		id, err := r.lookupID("passwd", imageUser)
		if err != nil {
			return identity{}, err
		}
		uid = &id
		if gid == nil && imageGroup != "" {
			g, err := r.lookupID("group", imageGroup)
			if err != nil {
				return identity{}, err
			}
			gid = &g
		}
	}
	if nonRoot && *uid == 0 {
		return identity{}, &errContainerConfig{fmt.Sprintf(
			"container has runAsNonRoot and image will run as root (pod: %q, container: %s)", pod.Namespace+"/"+pod.Name, r.spec.Name)}
	}
	id := identity{uid: *uid, home: "/"}
	if entry := r.passwdEntry(strconv.FormatInt(*uid, 10)); entry != nil {
		id.home = entry[5]
		if gid == nil {
			g, _ := strconv.ParseInt(entry[3], 10, 64)
			gid = &g
		}
	}
	if gid != nil {
		id.gid = *gid
	}
	return id, nil
}

// securityIDs are the runAsUser and runAsGroup in force, the container's over the Pod's.
func securityIDs(pod *corev1.Pod, sc *corev1.SecurityContext) (uid, gid *int64) {
	if psc := pod.Spec.SecurityContext; psc != nil {
		uid, gid = psc.RunAsUser, psc.RunAsGroup
	}
	if sc != nil {
		if sc.RunAsUser != nil {
			uid = sc.RunAsUser
		}
		if sc.RunAsGroup != nil {
			gid = sc.RunAsGroup
		}
	}
	return uid, gid
}

func runAsNonRoot(pod *corev1.Pod, sc *corev1.SecurityContext) bool {
	if sc != nil && sc.RunAsNonRoot != nil {
		return *sc.RunAsNonRoot
	}
	psc := pod.Spec.SecurityContext
	return psc != nil && psc.RunAsNonRoot != nil && *psc.RunAsNonRoot
}

func readOnlyRoot(sc *corev1.SecurityContext) bool {
	return sc != nil && sc.ReadOnlyRootFilesystem != nil && *sc.ReadOnlyRootFilesystem
}

func isNumeric(s string) bool {
	_, err := strconv.ParseInt(s, 10, 64)
	return err == nil
}

// lookupID reads a user or group (file "passwd" or "group") as a number, or by name
// from the image's file; "" is root.
func (r *containerRunner) lookupID(file, user string) (int64, error) {
	if user == "" {
		return 0, nil
	}
	if id, err := strconv.ParseInt(user, 10, 64); err == nil {
		return id, nil
	}
	for _, entry := range r.imageEntries(file) {
		if entry[0] == user {
			return strconv.ParseInt(entry[2], 10, 64)
		}
	}
	return 0, &errContainerConfig{fmt.Sprintf("unable to find %s %s: no matching entries in the image's /etc/%s", map[string]string{"passwd": "user", "group": "group"}[file], user, file)}
}

// passwdEntry is the image's /etc/passwd line of uid, nil when it has none.
func (r *containerRunner) passwdEntry(uid string) []string {
	for _, entry := range r.imageEntries("passwd") {
		if len(entry) >= 7 && entry[2] == uid {
			return entry
		}
	}
	return nil
}

// imageEntries are the colon-separated lines of the image's /etc/<file>.
func (r *containerRunner) imageEntries(file string) [][]string {
	path, err := securejoin.SecureJoin(r.img.rootfs, "/etc/"+file)
	if err != nil {
		return nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil
	}
	defer f.Close()
	var entries [][]string
	lines := bufio.NewScanner(f)
	for lines.Scan() {
		if fields := strings.Split(lines.Text(), ":"); len(fields) >= 3 {
			entries = append(entries, fields)
		}
	}
	return entries
}

// writeRootMounts writes the launcher's part that builds a pulled image's container
// root, returned: a fresh overlay over the image's file system (a new container's
// writable layer), with the node's /dev, /proc and /sys.
func (r *containerRunner) writeRootMounts(b *strings.Builder) (string, error) {
	upper, work, root := filepath.Join(r.dir, "upper"), filepath.Join(r.dir, "work"), filepath.Join(r.dir, "rootfs")
	for _, d := range []string{upper, work, root} {
		if err := os.RemoveAll(d); err != nil {
			return "", err
		}
		if err := os.MkdirAll(d, 0o755); err != nil {
			return "", err
		}
	}
	fmt.Fprintf(b, "mount -t overlay overlay -o %s %s\n",
		shellQuote(fmt.Sprintf("lowerdir=%s,upperdir=%s,workdir=%s",
			hostPathInContainer(r.img.rootfs), hostPathInContainer(upper), hostPathInContainer(work))),
		shellQuote(hostPathInContainer(root)))
	for _, d := range []string{"/dev", "/proc", "/sys"} {
		fmt.Fprintf(b, "mkdir -p %[2]s\nmount --rbind %[1]s %[2]s\n", d, shellQuote(hostPathInContainer(root)+d))
	}
	return root, nil
}

// writeRootExec writes the launcher's end for a pulled image: its working directory
// made (workDirOnHost is where it is), a read-only root when the security context says
// so, then the command in the container's root, working directory and identity.
func (r *containerRunner) writeRootExec(b *strings.Builder, root, workDir, workDirOnHost string, id identity) {
	inRoot := shellQuote(hostPathInContainer(root))
	fmt.Fprintf(b, "mkdir -p %s\n", shellQuote(workDirOnHost))
	if readOnlyRoot(r.spec.SecurityContext) {
		fmt.Fprintf(b, "mount -o remount,bind,ro %s\n", inRoot)
	}
	fmt.Fprintf(b, ": > %s\n", shellQuote(hostPathInContainer(r.startedMarker())))
	fmt.Fprintf(b, "export PATH=$container_path\nexec %s --root=%s --wd=%s --setgid=%d --setuid=%d -- \"$@\"\n",
		shellQuote(hostTool("unshare")), inRoot, shellQuote(workDir), id.gid, id.uid)
}

// inRoot is where path of the container is on the host, below mountRoot (the container's
// root as the launcher sees it; "" for the host's). In a pulled image the path is
// resolved as the container would: its symbolic links (like /var/run -> /run) stay
// inside the image.
func (r *containerRunner) inRoot(mountRoot, path string) (string, error) {
	if r.img.rootfs == "" {
		return path, nil
	}
	resolved, err := securejoin.SecureJoin(r.img.rootfs, path)
	if err != nil {
		return "", fmt.Errorf("resolving %s in the image: %w", path, err)
	}
	rel, err := filepath.Rel(r.img.rootfs, resolved)
	if err != nil {
		return "", err
	}
	return filepath.Join(mountRoot, "/", rel), nil
}
