package alerting

import (
	"testing"

	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/reconcile"

	"github.com/flok-dev/flok/api/v1beta1"
)

func receiverNamed(name, secret string) *v1beta1.AlertReceiver {
	return &v1beta1.AlertReceiver{ObjectMeta: metav1.ObjectMeta{Namespace: "team", Name: name, Generation: 1},
		Spec: v1beta1.AlertReceiverSpec{Type: v1beta1.ReceiverSlack, SecretRef: v1beta1.SecretReference{Name: secret}}}
}

// TestConfigMistakesShowAtOnce: a receiver without its Secret and one whose Secret
// holds no URL are marked SecretValid False, a route naming a receiver that does not
// exist or with a selector that does not parse Ready False, each with the field to
// fix; a complete receiver's Secret is valid.
func TestConfigMistakesShowAtOnce(t *testing.T) {
	w := newWorld(t,
		receiverNamed("nosecret", "absent"), receiverNamed("badurl", "badurl"), receiverNamed("good", "good"),
		&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "team", Name: "badurl"}, Data: map[string][]byte{"address": []byte("hooks.slack.com/x")}},
		&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: "team", Name: "good"}, Data: map[string][]byte{"address": []byte("https://hooks.slack.com/x")}},
		&v1beta1.AlertRoute{ObjectMeta: metav1.ObjectMeta{Namespace: "team", Name: "oncall", Generation: 1}, Spec: v1beta1.AlertRouteSpec{Receivers: []string{"good", "gone"}}},
	)
	c := &ConfigChecker{Client: w.client, Reader: w.client, Recorder: w.recorder}
	condition := func(obj client.Object, kind string, conditions func() []metav1.Condition) *metav1.Condition {
		require.NoError(t, w.client.Get(t.Context(), client.ObjectKeyFromObject(obj), obj))
		return meta.FindStatusCondition(conditions(), kind)
	}
	for name, want := range map[string]string{
		"nosecret": "spec.secretRef.name: Secret absent does not exist in namespace team; create it with the receiver's address",
		"badurl":   "Secret badurl (spec.secretRef.name): key address is not an http(s) URL",
		"good":     "its Secret holds what a slack receiver needs",
	} {
		res, err := c.checkReceiver(t.Context(), reconcile.Request{NamespacedName: types.NamespacedName{Namespace: "team", Name: name}})
		require.NoError(t, err)
		r := &v1beta1.AlertReceiver{ObjectMeta: metav1.ObjectMeta{Namespace: "team", Name: name}}
		cond := condition(r, conditionSecretValid, func() []metav1.Condition { return r.Status.Conditions })
		require.Contains(t, cond.Message, want, name)
		require.Equal(t, name == "good", cond.Status == metav1.ConditionTrue, name)
		require.Equal(t, name != "good", res.RequeueAfter > 0, "an incomplete Secret is looked at again")
	}

	_, err := c.checkRoute(t.Context(), reconcile.Request{NamespacedName: types.NamespacedName{Namespace: "team", Name: "oncall"}})
	require.NoError(t, err)
	route := &v1beta1.AlertRoute{ObjectMeta: metav1.ObjectMeta{Namespace: "team", Name: "oncall"}}
	cond := condition(route, conditionReady, func() []metav1.Condition { return route.Status.Conditions })
	require.Equal(t, metav1.ConditionFalse, cond.Status)
	require.Equal(t, "spec.receivers[1]: AlertReceiver gone does not exist in namespace team; create it or take it out of the route", cond.Message)
	require.Equal(t, []reconcile.Request{{NamespacedName: types.NamespacedName{Namespace: "team", Name: "oncall"}}}, c.routesOf(t.Context(), receiverNamed("gone", "")))
	require.Len(t, w.recorder.Events, 3, "a Warning event for each mistake")

	require.NoError(t, w.client.Create(t.Context(), &v1beta1.AlertRoute{ObjectMeta: metav1.ObjectMeta{Namespace: "team", Name: "typo"}, Spec: v1beta1.AlertRouteSpec{
		Receivers: []string{"good"}, Resources: &v1beta1.AlertResourceSelector{LabelSelector: &metav1.LabelSelector{
			MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "tier", Operator: "Near"}}}}}}))
	_, err = c.checkRoute(t.Context(), reconcile.Request{NamespacedName: types.NamespacedName{Namespace: "team", Name: "typo"}})
	require.NoError(t, err)
	typo := &v1beta1.AlertRoute{ObjectMeta: metav1.ObjectMeta{Namespace: "team", Name: "typo"}}
	cond = condition(typo, conditionReady, func() []metav1.Condition { return typo.Status.Conditions })
	require.Equal(t, "InvalidSelector", cond.Reason)
	require.Contains(t, cond.Message, "spec.resources.labelSelector:")
}
