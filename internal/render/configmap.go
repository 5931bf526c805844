package render

import (
	"maps"
	"slices"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"github.com/flok-dev/flok/internal/flinkconf"
)

const configVolume = "flink-config-volume"

// clientOnlyKeys are options that describe the machine the configuration was written
// on, never the cluster: Flink's client strips them too.
var clientOnlyKeys = []string{
	"kubernetes.config.file",
	"$internal.deployment.config-dir",
	"rest.bind-address",
	"jobmanager.bind-host",
	"taskmanager.bind-host",
	"taskmanager.host",
}

func (c *cluster) configMapName() string { return ConfigMapName(c.name()) }

// ConfigMapName names the ConfigMap holding a deployment's Flink configuration.
func ConfigMapName(deployment string) string { return "flink-config-" + deployment }

// configMap is flink-config-<name>: the configuration file of the version and the
// logging files (Flok's console logging unless spec.logConfiguration says otherwise).
func (c *cluster) configMap() (*corev1.ConfigMap, field.ErrorList) {
	conf := maps.Clone(c.conf)
	for _, k := range clientOnlyKeys {
		delete(conf, k)
	}
	fileName, content, err := flinkconf.Render(conf, c.version)
	if err != nil {
		return nil, field.ErrorList{field.Invalid(field.NewPath("spec", "flinkConfiguration"), "", err.Error())}
	}
	data := map[string]string{flinkconf.Log4jConsoleFile: DefaultLog4jConsole}
	var errs field.ErrorList
	for name, content := range c.spec().LogConfiguration {
		if msgs := validation.IsConfigMapKey(name); len(msgs) > 0 || name == fileName || name == SQLScriptFile {
			errs = append(errs, field.Invalid(field.NewPath("spec", "logConfiguration").Key(name), name,
				"must be a logging file name such as log4j-console.properties or logback-console.xml"))
			continue
		}
		data[name] = content
	}
	if len(errs) > 0 {
		return nil, errs
	}
	data[fileName] = string(content)
	if job := c.sqlJob(); job != nil {
		data[SQLScriptFile] = job.Script
	}
	return &corev1.ConfigMap{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "ConfigMap"},
		ObjectMeta: c.objectMeta(c.configMapName(), c.commonLabels()),
		Data:       data,
	}, nil
}

// configVolumeSource mounts every file of the ConfigMap, logging files first, as
// Flink's client lists them.
func (c *cluster) configVolumeSource(cm *corev1.ConfigMap) corev1.Volume {
	configFile := c.version.FileName()
	var items []corev1.KeyToPath
	for _, k := range slices.Sorted(maps.Keys(cm.Data)) {
		if k != configFile && k != SQLScriptFile {
			items = append(items, corev1.KeyToPath{Key: k, Path: k})
		}
	}
	items = append(items, corev1.KeyToPath{Key: configFile, Path: configFile})
	return corev1.Volume{
		Name: configVolume,
		VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{
			LocalObjectReference: corev1.LocalObjectReference{Name: cm.Name},
			Items:                items,
		}},
	}
}
