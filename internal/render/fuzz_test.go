package render

import (
	"encoding/json"
	"reflect"
	"testing"

	"k8s.io/apimachinery/pkg/runtime"

	"github.com/flok-dev/flok/api/v1beta1"
)

// FuzzLayerTemplates: merging pod templates never panics, gives the same result every
// time, and merging the same layer again changes nothing.
func FuzzLayerTemplates(f *testing.F) {
	f.Add(`{"spec":{"containers":[{"name":"flink-main-container","env":[{"name":"A","value":"1"}]}]}}`,
		`{"spec":{"containers":[{"name":"flink-main-container","env":[{"name":"A","value":"2"},{"name":"B"}]},{"name":"sidecar"}]}}`)
	f.Add(`{"spec":{"tolerations":[{"key":"a"}],"volumes":[{"name":"v","emptyDir":{}}]}}`,
		`{"spec":{"tolerations":[{"key":"a"},{"key":"b"}],"volumes":[{"name":"v","hostPath":{"path":"/x"}}]}}`)
	f.Add(`{"metadata":{"labels":{"a":"b"}},"spec":{"containers":[{"name":"c","args":["x","y"],"ports":[{"containerPort":1}]}]}}`,
		`{"spec":{"containers":[{"name":"c","args":["z"],"ports":[{"containerPort":1,"name":"p"},{"containerPort":2}]}]}}`)
	f.Add(`{"a":[1,{"name":"x"}]}`, `{"a":[{"name":"x"},{"name":"x"}]}`)
	f.Fuzz(func(t *testing.T, baseJSON, overlayJSON string) {
		var base, overlay map[string]any
		if json.Unmarshal([]byte(baseJSON), &base) != nil || json.Unmarshal([]byte(overlayJSON), &overlay) != nil {
			return
		}
		once := LayerTemplates(base, overlay)
		if again := LayerTemplates(base, overlay); !reflect.DeepEqual(once, again) {
			t.Fatalf("not deterministic:\n%v\n%v", once, again)
		}
		if twice := LayerTemplates(once, overlay); !reflect.DeepEqual(normalize(t, once), normalize(t, twice)) {
			t.Fatalf("not idempotent:\nonce  %v\ntwice %v", once, twice)
		}
	})
}

// normalize makes JSON-equal values DeepEqual (nil and empty lists, number types).
func normalize(t *testing.T, v any) any {
	data, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var out any
	if err := json.Unmarshal(data, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// FuzzRender: any Flink configuration and pod template either renders or comes back
// as an *Error; Render never panics.
func FuzzRender(f *testing.F) {
	f.Add(`{"taskmanager.numberOfTaskSlots":"2","kubernetes.jobmanager.tolerations":"key:a,operator:Exists"}`, `{"spec":{"containers":[{"name":"flink-main-container"}]}}`, "native", true)
	f.Add(`{"high-availability":{"type":"kubernetes","storageDir":"file:///ha"}}`, `{"metadata":{"labels":{"a":"b"}}}`, "standalone", false)
	f.Add(`{"kubernetes.secrets":"s:/x,'t:1':/y","rest.port":"0"}`, `{"spec":{"volumes":[{"name":"flink-config-volume"}]}}`, "standalone", true)
	f.Fuzz(func(t *testing.T, conf, template, mode string, application bool) {
		fd := &v1beta1.FlinkDeployment{}
		fd.Name, fd.Namespace = "fuzz", "default"
		fd.Spec.FlinkVersion = "v2_3"
		fd.Spec.Mode = v1beta1.DeploymentMode(mode)
		fd.Spec.FlinkConfiguration = &runtime.RawExtension{Raw: []byte(conf)}
		fd.Spec.PodTemplate = &runtime.RawExtension{Raw: []byte(template)}
		if application {
			fd.Spec.Job = &v1beta1.JobSpec{JarURI: "local:///opt/flink/usrlib/job.jar"}
		}
		objs, err := Render(Input{Deployment: fd})
		if err != nil {
			if _, ok := err.(*Error); !ok {
				t.Fatalf("error of type %T: %v", err, err)
			}
			return
		}
		if objs.JobManager == nil || objs.Config == nil || objs.RESTService == nil {
			t.Fatalf("rendered without a JobManager, ConfigMap or REST Service")
		}
	})
}
