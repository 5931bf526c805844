package render

import (
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
)

const minimalApplication = `
metadata:
  name: orders
  namespace: streaming
spec:
  image: flink:2.3
  flinkVersion: v2_3
  job:
    jarURI: local:///opt/flink/usrlib/orders.jar
`

// TestBadInput: every mistake comes back as an *Error naming the field, what is wrong
// and what would be right — never a panic.
func TestBadInput(t *testing.T) {
	for _, tc := range []struct {
		name, overlay string
		path, hint    string
	}{
		{"name too long", `metadata: {name: a-very-long-flink-deployment-name-that-flink-rejects}`, "metadata.name", "may not be more than 45"},
		{"name not a DNS label", `metadata: {name: Orders}`, "metadata.name", "lower case"},
		{"no version", `spec: {flinkVersion: ""}`, "spec.flinkVersion", "such as v1_20 or v2_3"},
		{"no jar", `spec: {job: {jarURI: ""}}`, "spec.job.jarURI", "local:///opt/flink/usrlib/job.jar"},
		{"bad memory unit", `spec: {jobManager: {resource: {memory: 2 zb}}}`, "spec.jobManager.resource.memory", "unknown unit"},
		{"replicas without HA", `spec: {jobManager: {replicas: 2}}`, "spec.jobManager.replicas", "high-availability.type: kubernetes"},
		{"resource and resources", `spec: {taskManager: {resource: {memory: 2g}, resources: {requests: {memory: 2Gi}}}}`, "spec.taskManager.resources", "not both"},
		{"limit below request", `spec: {taskManager: {resources: {requests: {memory: 2Gi}, limits: {memory: 1Gi}}}}`, "spec.taskManager.resources.limits[memory]", "at least the request"},
		{"pod template typo", `spec: {podTemplate: {spec: {containerz: []}}}`, "spec.podTemplate", `unknown field "spec.containerz"`},
		{"role template typo", `spec: {taskManager: {podTemplate: {spec: {containers: [{name: x, imagePullPolizy: Always}]}}}}`, "spec.taskManager.podTemplate", "imagePullPolizy"},
		{"template of another kind", `spec: {podTemplate: {kind: Deployment}}`, "spec.podTemplate.kind", "kind: Pod"},
		{"reactive in native mode", `spec: {flinkConfiguration: {scheduler-mode: reactive}}`, "spec.flinkConfiguration[scheduler-mode]", "spec.mode: standalone"},
		{"port range", `spec: {flinkConfiguration: {rest.port: 8081-8089}}`, "spec.flinkConfiguration[rest.port]", "not a range"},
		{"exposed type", `spec: {flinkConfiguration: {kubernetes.rest-service.exposed.type: Public}}`, "spec.flinkConfiguration[kubernetes.rest-service.exposed.type]", "NodePort"},
		{"limit factor", `spec: {flinkConfiguration: {kubernetes.jobmanager.memory.limit-factor: "0.5"}}`, "spec.flinkConfiguration[kubernetes.jobmanager.memory.limit-factor]", "1.0 or more"},
		{"secret env", `spec: {flinkConfiguration: {kubernetes.env.secretKeyRef: "env:A,secret:s"}}`, "spec.flinkConfiguration[kubernetes.env.secretKeyRef]", "env, secret and key"},
		{"toleration field", `spec: {flinkConfiguration: {kubernetes.jobmanager.tolerations: "key:a,colour:blue"}}`, "spec.flinkConfiguration[kubernetes.jobmanager.tolerations]", "unknown toleration field"},
		{"unclosed quote", `spec: {flinkConfiguration: {kubernetes.jobmanager.labels: "a:'b"}}`, "spec.flinkConfiguration[kubernetes.jobmanager.labels]", "unclosed quote"},
		{"log file name", `spec: {logConfiguration: {"../log4j.properties": x}}`, "spec.logConfiguration[../log4j.properties]", "logging file name"},
		{"ingress host", `spec: {ingress: {template: "Flink_UI.example.com/x"}}`, "spec.ingress.template", "host/path"},
		{"remote jar before 1.19", `spec: {flinkVersion: v1_18, job: {jarURI: "s3://jobs/orders.jar"}}`, "spec.job.jarURI", "only from 1.19 on"},
		{"SQL and a jar", `spec: {job: {sql: {script: "INSERT INTO t SELECT 1;"}}}`, "spec.job.jarURI", "a SQL job runs its script"},
		{"SQL with an entry class", `spec: {job: {jarURI: "", entryClass: x.Main, sql: {script: "INSERT INTO t SELECT 1;"}}}`, "spec.job.entryClass", "remove entryClass"},
		{"SQL before 1.19", `spec: {flinkVersion: v1_18, job: {jarURI: "", sql: {script: "INSERT INTO t SELECT 1;"}}}`, "spec.job.sql", "1.19 and later"},
		{"empty SQL", `spec: {job: {jarURI: "", sql: {script: ""}}}`, "spec.job.sql.script", "ending in semicolons"},
		{"overlapping keys on 2.x", `spec: {flinkConfiguration: {high-availability: NONE, high-availability.type: NONE}}`, "spec.flinkConfiguration", "overlap"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Render(Input{Deployment: deploymentFrom(t, minimalApplication, tc.overlay)})
			require.Error(t, err)
			var rerr *Error
			require.True(t, errors.As(err, &rerr), "%T", err)
			require.Contains(t, err.Error(), tc.path)
			require.Contains(t, err.Error(), tc.hint)
		})
	}
	_, err := Render(Input{})
	require.ErrorContains(t, err, "a FlinkDeployment to render")
}

// TestPodTemplatePrecedence checks Flink's rules on the JobManager Pod: an explicit
// option wins over the template, the template over the default; Flink's labels, env
// and volumes win on the same name and the template's others stay; Flink owns name,
// command, args, restart policy, memory and CPU; sidecars stay, after the main
// container.
func TestPodTemplatePrecedence(t *testing.T) {
	const template = `
spec:
  image: ""
  podTemplate:
    metadata:
      labels: {component: mine, team: a}
    spec:
      serviceAccountName: from-template
      restartPolicy: Never
      containers:
      - name: sidecar
        image: envoy:1
      - name: flink-main-container
        image: from-template:1
        imagePullPolicy: Always
        command: [sleep]
        args: ["1000"]
        env: [{name: _POD_IP_ADDRESS, value: wrong}, {name: EXTRA, value: kept}]
        resources:
          requests: {memory: 1Gi, cpu: "8", ephemeral-storage: 1Gi}
`
	jmPod := func(t *testing.T, overlays ...string) corev1.PodSpec {
		objs, err := Render(Input{Deployment: deploymentFrom(t, append([]string{minimalApplication, template}, overlays...)...)})
		require.NoError(t, err)
		return objs.JobManager.Spec.Template.Spec
	}
	pod := jmPod(t)
	main := pod.Containers[0]
	require.Equal(t, "flink-main-container", main.Name)
	require.Equal(t, "sidecar", pod.Containers[1].Name)
	require.Equal(t, "from-template:1", main.Image, "template over default")
	require.Equal(t, corev1.PullAlways, main.ImagePullPolicy)
	require.Equal(t, "from-template", pod.ServiceAccountName, "the template's service account; Flok creates none")
	require.Equal(t, corev1.RestartPolicyAlways, pod.RestartPolicy)
	require.Equal(t, []string{"/docker-entrypoint.sh"}, main.Command)
	require.Equal(t, "1600Mi", main.Resources.Requests.Memory().String())
	require.Equal(t, "1", main.Resources.Requests.Cpu().String())
	require.Equal(t, "1Gi", main.Resources.Requests.StorageEphemeral().String(), "other resources stay")
	env := map[string]corev1.EnvVar{}
	for _, e := range main.Env {
		env[e.Name] = e
	}
	require.Equal(t, "kept", env["EXTRA"].Value)
	require.NotNil(t, env["_POD_IP_ADDRESS"].ValueFrom, "Flink's variable wins")

	objs, err := Render(Input{Deployment: deploymentFrom(t, minimalApplication, template)})
	require.NoError(t, err)
	require.Equal(t, "jobmanager", objs.JobManager.Spec.Template.Labels["component"], "Flink's label wins")
	require.Equal(t, "a", objs.JobManager.Spec.Template.Labels["team"])
	require.Nil(t, objs.ServiceAccount)

	pod = jmPod(t, `spec: {image: explicit:2, imagePullPolicy: IfNotPresent, serviceAccount: explicit}`)
	require.Equal(t, "explicit:2", pod.Containers[0].Image, "an explicit option wins over the template")
	require.Equal(t, corev1.PullIfNotPresent, pod.Containers[0].ImagePullPolicy)
	require.Equal(t, "explicit", pod.ServiceAccountName)
}

// TestDefaults: with nothing but a name, version and jar, the image is flink:<version>
// for the JobManager and (through the shipped template) the TaskManagers, and Flok
// creates the service account Flink's native mode needs.
func TestDefaults(t *testing.T) {
	objs, err := Render(Input{Deployment: deploymentFrom(t, minimalApplication, `spec: {image: ""}`)})
	require.NoError(t, err)
	require.Equal(t, "flink:2.3", objs.JobManager.Spec.Template.Spec.Containers[0].Image)
	require.NotNil(t, objs.TaskManagerPodTemplate)
	require.Contains(t, objs.TaskManagerPodTemplate.Data[tmTemplateFile], "image: flink:2.3")
	require.Equal(t, "orders-flink", objs.ServiceAccount.Name)
	require.Equal(t, "orders-flink", objs.Configuration[keyServiceAccount])
	require.Equal(t, "orders-flink", objs.JobManager.Spec.Template.Spec.ServiceAccountName)

	objs, err = Render(Input{Deployment: deploymentFrom(t, minimalApplication,
		`spec: {flinkConfiguration: {metrics.reporters: none, kubernetes.operator.liveness.probes.enabled: "false"}}`)})
	require.NoError(t, err)
	require.Nil(t, objs.TaskManagerPodTemplate, "no template to ship: an image, no metrics port, no probe")

	objs, err = Render(Input{Deployment: deploymentFrom(t, minimalApplication, `spec: {podTemplate: {metadata: {labels: {team: a}}}}`)})
	require.NoError(t, err)
	require.Contains(t, objs.TaskManagerPodTemplate.Data[tmTemplateFile], "name: flink-main-container",
		"Flink fails on a template without containers")
}

// TestStandaloneReplicas: replicas from the spec, else from parallelism and slots.
func TestStandaloneReplicas(t *testing.T) {
	const standalone = `spec: {mode: standalone, job: {parallelism: 5}, flinkConfiguration: {taskmanager.numberOfTaskSlots: "2"}}`
	objs, err := Render(Input{Deployment: deploymentFrom(t, minimalApplication, standalone)})
	require.NoError(t, err)
	require.EqualValues(t, 3, *objs.TaskManager.Spec.Replicas)
	objs, err = Render(Input{Deployment: deploymentFrom(t, minimalApplication, standalone, `spec: {taskManager: {replicas: 7}}`)})
	require.NoError(t, err)
	require.EqualValues(t, 7, *objs.TaskManager.Spec.Replicas)
	require.Nil(t, objs.ServiceAccount, "standalone Flink needs no API rights without HA")
	_, err = Render(Input{Deployment: deploymentFrom(t, minimalApplication, standalone, `spec: {flinkConfiguration: {scheduler-mode: reactive}}`)})
	require.NoError(t, err, "reactive mode in a standalone application")
}

// TestHashFollowsInput: the hash changes with anything that changes the objects, and
// only then.
func TestHashFollowsInput(t *testing.T) {
	hash := func(overlays ...string) string {
		objs, err := Render(Input{Deployment: deploymentFrom(t, append([]string{minimalApplication}, overlays...)...)})
		require.NoError(t, err)
		require.Equal(t, objs.Hash, objs.JobManager.Annotations[HashAnnotation])
		return objs.Hash
	}
	require.Equal(t, hash(), hash())
	require.NotEqual(t, hash(), hash(`spec: {flinkConfiguration: {state.backend.type: rocksdb}}`))
	require.NotEqual(t, hash(), hash(`spec: {job: {parallelism: 3}}`))
}

// TestStatefulCheckpointDefaults: a stateful job keeps its checkpoints on cancel and
// failure and retains three, unless told otherwise under either name of the option; a
// stateless job keeps Flink's defaults.
func TestStatefulCheckpointDefaults(t *testing.T) {
	render := func(overlay string) map[string]string {
		objs, err := Render(Input{Deployment: deploymentFrom(t, minimalApplication, overlay)})
		require.NoError(t, err)
		return objs.Configuration
	}
	conf := render(`spec: {job: {upgradeMode: savepoint}, flinkConfiguration: {execution.checkpointing.savepoint-dir: file:///sp}}`)
	require.Equal(t, "RETAIN_ON_CANCELLATION", conf[keyCheckpointRetention])
	require.Equal(t, "3", conf[keyRetainedCheckpoints])

	conf = render(`spec: {job: {upgradeMode: savepoint}, flinkConfiguration: {execution.checkpointing.savepoint-dir: file:///sp, state.checkpoints.num-retained: "5"}}`)
	require.Empty(t, conf[keyRetainedCheckpoints], "the user's older name of the option is not overridden")
	require.Equal(t, "5", conf[keyRetainedCheckpointsBefore120])

	conf = render(`spec: {job: {upgradeMode: stateless}}`)
	require.Empty(t, conf[keyCheckpointRetention])
	require.Empty(t, conf[keyRetainedCheckpoints])
}

// TestRESTPort: the REST API's port follows rest.port wherever it is set, the
// operator's defaults included; Flink's default without objects.
func TestRESTPort(t *testing.T) {
	objs, err := Render(Input{Deployment: deploymentFrom(t, minimalApplication), Defaults: map[string]string{keyRESTPort: "9091"}})
	require.NoError(t, err)
	require.Equal(t, int32(9091), objs.RESTPort())
	var none *Objects
	require.Equal(t, int32(defaultRESTPort), none.RESTPort())
}

// TestStages: a cluster's objects are applied account, Role and ConfigMaps first, the
// RoleBinding after its Role (the API server lets the operator bind only a Role that
// exists), the Services and workloads last.
func TestStages(t *testing.T) {
	objs, err := Render(Input{Deployment: deploymentFrom(t, minimalApplication)})
	require.NoError(t, err)
	kinds := func(stage []Object) []string {
		var out []string
		for _, o := range stage {
			out = append(out, fmt.Sprintf("%T", o))
		}
		return out
	}
	stages := objs.Stages()
	require.Len(t, stages, 3)
	require.ElementsMatch(t, []string{"*v1.ServiceAccount", "*v1.Role", "*v1.ConfigMap", "*v1.ConfigMap"}, kinds(stages[0]),
		"the configuration and the TaskManagers' template")
	require.Equal(t, []string{"*v1.RoleBinding"}, kinds(stages[1]))
	require.Contains(t, kinds(stages[2]), "*v1.Deployment")
	require.Len(t, slices.Concat(stages...), len(objs.All()), "every object in one stage")

	standalone, err := Render(Input{Deployment: deploymentFrom(t, minimalApplication, `spec: {mode: standalone}`)})
	require.NoError(t, err)
	require.Len(t, standalone.Stages(), 2, "no RBAC, no empty stage")
}

// TestJarCredentials: an application's s3:// jar credentials reach its JobManager, which
// fetches the jar, as the Secret's own keys (the session token optional), and no
// TaskManager.
func TestJarCredentials(t *testing.T) {
	const s3Jar = `spec: {mode: standalone, job: {jarURI: "s3://jobs/orders.jar", artifact: {credentialsSecret: s3-jobs}}}`
	objs, err := Render(Input{Deployment: deploymentFrom(t, minimalApplication, s3Jar)})
	require.NoError(t, err)
	byName := map[string]corev1.EnvVar{}
	for _, e := range objs.JobManager.Spec.Template.Spec.Containers[0].Env {
		byName[e.Name] = e
	}
	for key, optional := range map[string]bool{"AWS_ACCESS_KEY_ID": false, "AWS_SECRET_ACCESS_KEY": false, "AWS_SESSION_TOKEN": true} {
		ref := byName[key].ValueFrom.SecretKeyRef
		require.Equal(t, "s3-jobs", ref.Name, key)
		require.Equal(t, key, ref.Key)
		require.Equal(t, optional, *ref.Optional, key)
	}
	for _, e := range objs.TaskManager.Spec.Template.Spec.Containers[0].Env {
		require.NotContains(t, e.Name, "AWS_", "a TaskManager fetches no jar")
	}
}
