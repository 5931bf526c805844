package procnode

import (
	"net/netip"
	"testing"

	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"

	"github.com/flok-dev/flok/test/hostnet"
)

func TestExpand(t *testing.T) {
	vars := map[string]string{"A": "1", "POD_IP": "10.245.0.2"}
	for in, want := range map[string]string{
		"plain":                     "plain",
		"$(A)":                      "1",
		"jobmanager $(POD_IP)":      "jobmanager 10.245.0.2",
		"$(UNDEFINED) stays":        "$(UNDEFINED) stays",
		"$$(A) escapes":             "$(A) escapes",
		"cost $5":                   "cost $5",
		"unclosed $(A":              "unclosed $(A",
		"-Dx=$(A),y=$(A)":           "-Dx=1,y=1",
		"trailing $":                "trailing $",
		"$(A)$(POD_IP)":             "110.245.0.2",
		"-D rest.address=$(POD_IP)": "-D rest.address=10.245.0.2",
	} {
		require.Equal(t, want, expand(in, vars), "expand(%q)", in)
	}
}

func TestSplitImageAndFlinkTags(t *testing.T) {
	for ref, want := range map[string][2]string{
		"flink:1.20":                           {"flink", "1.20"},
		"apache/flink:2.3.0-scala_2.12-java17": {"apache/flink", "2.3.0-scala_2.12-java17"},
		"docker.io/library/flink":              {"docker.io/library/flink", "latest"},
		"localhost:5000/flink:2.3":             {"localhost:5000/flink", "2.3"},
		"flink:2.3@sha256:abc":                 {"flink", "2.3"},
	} {
		repo, tag := splitImage(ref)
		require.Equal(t, want, [2]string{repo, tag}, ref)
	}
	for _, repo := range []string{"flink", "apache/flink", "docker.io/library/flink", "docker.io/apache/flink"} {
		require.True(t, flinkImage.MatchString(repo), repo)
	}
	for _, repo := range []string{"nginx", "myorg/flink", "flink-operator"} {
		require.False(t, flinkImage.MatchString(repo), repo)
	}
	require.Equal(t, "1.20.5", flinkTagVersion.FindStringSubmatch("1.20.5-scala_2.12-java17")[1])
	require.Nil(t, flinkTagVersion.FindStringSubmatch("java17"))
}

func TestPodPhase(t *testing.T) {
	running := corev1.ContainerStatus{State: corev1.ContainerState{Running: &corev1.ContainerStateRunning{}}}
	ok := corev1.ContainerStatus{State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 0}}}
	failed := corev1.ContainerStatus{State: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 1}}}
	waiting := corev1.ContainerStatus{State: corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "ContainerCreating"}}}
	backingOff := corev1.ContainerStatus{
		State:                corev1.ContainerState{Waiting: &corev1.ContainerStateWaiting{Reason: "CrashLoopBackOff"}},
		LastTerminationState: corev1.ContainerState{Terminated: &corev1.ContainerStateTerminated{ExitCode: 1}},
	}
	for name, tc := range map[string]struct {
		policy     corev1.RestartPolicy
		initDone   bool
		inits      []corev1.ContainerStatus
		containers []corev1.ContainerStatus
		want       corev1.PodPhase
	}{
		"init running":               {corev1.RestartPolicyAlways, false, []corev1.ContainerStatus{running}, []corev1.ContainerStatus{waiting}, corev1.PodPending},
		"init failed, never restart": {corev1.RestartPolicyNever, false, []corev1.ContainerStatus{failed}, []corev1.ContainerStatus{waiting}, corev1.PodFailed},
		"creating":                   {corev1.RestartPolicyAlways, true, nil, []corev1.ContainerStatus{waiting}, corev1.PodPending},
		"running":                    {corev1.RestartPolicyAlways, true, nil, []corev1.ContainerStatus{running, ok}, corev1.PodRunning},
		"crash loop":                 {corev1.RestartPolicyAlways, true, nil, []corev1.ContainerStatus{backingOff}, corev1.PodRunning},
		"all succeeded":              {corev1.RestartPolicyNever, true, nil, []corev1.ContainerStatus{ok, ok}, corev1.PodSucceeded},
		"one failed, never":          {corev1.RestartPolicyNever, true, nil, []corev1.ContainerStatus{ok, failed}, corev1.PodFailed},
		"exited, always restarts":    {corev1.RestartPolicyAlways, true, nil, []corev1.ContainerStatus{ok}, corev1.PodRunning},
	} {
		t.Run(name, func(t *testing.T) {
			require.Equal(t, tc.want, podPhase(tc.policy, tc.initDone, tc.inits, tc.containers))
		})
	}
}

func TestRegistryOnLoopback(t *testing.T) {
	for ref, want := range map[string]bool{
		"127.0.0.1:5000/team/app:1": true,
		"localhost:5000/app":        true,
		"[::1]:5000/app@sha256:0123456789012345678901234567890123456789012345678901234567890123": true,
		"127.1.2.3/app":                 true,
		"10.0.0.1:5000/app":             false,
		"registry.example.com/team/app": false,
		"nginx:1.27":                    false,
		"flink:2.3":                     false,
		"Not A Reference":               false,
	} {
		_, got := registryOnLoopback(ref)
		require.Equal(t, want, got, ref)
	}
}

// TestAddressesAreNotReusedAtOnce: a Pod gets the next free address after the last
// one handed out, so the address of a Pod just gone waits until the range wraps.
func TestAddressesAreNotReusedAtOnce(t *testing.T) {
	slot := &hostnet.Slot{Index: 7}
	pn := &podNetwork{slot: slot, prefix: netip.MustParsePrefix(slot.PodCIDR()), used: map[netip.Addr]bool{}}
	allocate := func() string {
		a, err := pn.allocate()
		require.NoError(t, err)
		return a.String()
	}
	require.Equal(t, "10.245.7.2", allocate())
	require.Equal(t, "10.245.7.3", allocate())
	delete(pn.used, netip.MustParseAddr("10.245.7.3"))
	require.Equal(t, "10.245.7.4", allocate(), "not the address just freed")
	pn.last = netip.MustParseAddr("10.245.7.253")
	require.Equal(t, "10.245.7.3", allocate(), "after the end of the range, the first free one from its start")
	for a := netip.MustParseAddr("10.245.7.2"); a.As4()[3] < 254; a = a.Next() {
		pn.used[a] = true
	}
	_, err := pn.allocate()
	require.ErrorContains(t, err, "no free address left in 10.245.7.0/24")
}
