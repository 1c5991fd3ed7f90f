// k8s/: every overlay renders with `kubectl kustomize`, every object passes its Kubernetes (or Prometheus Operator)
// schema, and the farm's requirements hold in what is rendered, not just in the files.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { find, kustomize, matches, overlays, root, validate } from "./manifests.mjs";
import { render, target } from "./sync-rules.mjs";

const rendered = new Map(["k8s/base", ...overlays()].map((dir) => [dir, kustomize(dir)]));
const dockerfile = readFileSync(join(root, "deploy/Dockerfile"), "utf8");
const imageUser = /^USER (\d+):(\d+)$/m.exec(dockerfile);

test("there is a lab overlay", () => assert.ok(rendered.has("k8s/overlays/lab"), [...rendered.keys()].join(", ")));

for (const [dir, objects] of rendered) {
  test(`${dir}: every object passes its schema`, async () => {
    assert.ok(objects.length > 0);
    const errors = (await Promise.all(objects.map(validate))).flat();
    assert.deepEqual(errors, []);
    console.log(`# ${dir}: ${objects.length} objects valid (${[...new Set(objects.map((o) => o.kind))].sort().join(", ")})`);
  });

  test(`${dir}: the KMS Deployment has >= 2 replicas spread over machines, a disruption budget and probes`, () => {
    const deployment = find(objects, "Deployment", "kmsfarm");
    assert.ok(deployment.spec.replicas >= 2, `replicas ${deployment.spec.replicas}`);
    const pod = deployment.spec.template;
    const term = pod.spec.affinity.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution[0].podAffinityTerm;
    assert.equal(term.topologyKey, "kubernetes.io/hostname");
    assert.ok(matches(term.labelSelector.matchLabels, pod.metadata.labels));
    const pdb = objects.find((o) => o.kind === "PodDisruptionBudget" && matches(o.spec.selector.matchLabels, pod.metadata.labels));
    assert.ok(pdb, "a PodDisruptionBudget selects the node pods");
    assert.equal(pdb.spec.maxUnavailable, 1);

    const node = pod.spec.containers.find((c) => c.name === "node");
    assert.equal(node.readinessProbe.httpGet.path, "/healthz/ready");
    assert.equal(node.livenessProbe.httpGet.path, "/healthz/live");
    assert.equal(node.readinessProbe.httpGet.port, "http");
    assert.ok(node.resources.requests.cpu && node.resources.requests.memory && node.resources.limits.cpu && node.resources.limits.memory);
    // The container ports are the image's EXPOSEd ones.
    const exposed = /^EXPOSE (.*)$/m.exec(dockerfile)[1].split(" ").map((p) => Number(p.split("/")[0]));
    assert.deepEqual(node.ports.map((p) => p.containerPort), exposed);
  });

  test(`${dir}: every pod runs non-root on a read-only root filesystem`, () => {
    const pods = objects.filter((o) => ["Deployment", "StatefulSet", "Job"].includes(o.kind)).map((o) => [o, o.spec.template.spec]);
    assert.ok(pods.length >= 2);
    for (const [owner, spec] of pods) {
      assert.equal(spec.securityContext.runAsNonRoot, true, `${owner.kind}/${owner.metadata.name}`);
      assert.equal(spec.securityContext.seccompProfile.type, "RuntimeDefault");
      for (const container of spec.containers) {
        const name = `${owner.kind}/${owner.metadata.name} ${container.name}`;
        assert.equal(container.securityContext.readOnlyRootFilesystem, true, name);
        assert.equal(container.securityContext.allowPrivilegeEscalation, false, name);
        assert.deepEqual(container.securityContext.capabilities.drop, ["ALL"], name);
      }
    }

    // The node and the load test run as the image's own user.
    for (const name of ["kmsfarm", "kmsfarm-load"]) {
      const owner = objects.find((o) => o.metadata.name === name && o.spec?.template);
      if (owner) assert.equal(String(owner.spec.template.spec.securityContext.runAsUser), imageUser[1], name);
    }
  });

  test(`${dir}: settings come from a ConfigMap, the password from a Secret, the silo identity from the pod`, () => {
    const deployment = find(objects, "Deployment", "kmsfarm");
    const node = deployment.spec.template.spec.containers[0];
    const configMap = find(objects, "ConfigMap", node.envFrom[0].configMapRef.name);
    assert.ok(configMap, "the envFrom ConfigMap is rendered");
    assert.match(configMap.data.KmsFarm__Store__Location, /^postgres:Host=postgres;/);
    assert.ok(!/password/i.test(configMap.data.KmsFarm__Store__Location), "no password in the ConfigMap");
    assert.equal(configMap.data.KmsFarm__Listener__HttpEndpoint, "0.0.0.0:8688");

    const env = Object.fromEntries(node.env.map((e) => [e.name, e]));
    assert.equal(env.POD_NAME.valueFrom.fieldRef.fieldPath, "metadata.name");
    assert.equal(env.POD_IP.valueFrom.fieldRef.fieldPath, "status.podIP");
    assert.equal(env.KmsFarm__Node__Name.value, "$(POD_NAME)");
    assert.equal(env.KmsFarm__Cluster__AdvertisedAddress.value, "$(POD_IP)");
    assert.equal(env.PGPASSWORD.valueFrom.secretKeyRef.key, "password");
    // Kubernetes expands $(VAR) only from variables defined before it.
    const order = node.env.map((e) => e.name);
    assert.ok(order.indexOf("POD_NAME") < order.indexOf("KmsFarm__Node__Name"));
    assert.ok(order.indexOf("POD_IP") < order.indexOf("KmsFarm__Cluster__AdvertisedAddress"));

    if (dir !== "k8s/base") {
      // An overlay is deployable as is: the Secret both the nodes and PostgreSQL read is rendered.
      assert.ok(find(objects, "Secret", env.PGPASSWORD.valueFrom.secretKeyRef.name), "the database Secret is rendered");
    }

    const postgres = find(objects, "StatefulSet", "postgres");
    assert.equal(postgres.spec.volumeClaimTemplates[0].metadata.name, "data");
    assert.ok(postgres.spec.template.spec.containers[0].volumeMounts.some((m) => m.name === "data"));
  });

  test(`${dir}: KMS is served on a port named vlmcs, in the cluster and on a LoadBalancer`, () => {
    const pods = find(objects, "Deployment", "kmsfarm").spec.template.metadata.labels;
    const services = objects.filter((o) => o.kind === "Service" && matches(o.spec.selector, pods));
    const vlmcs = services.filter((s) => s.spec.ports.some((p) => p.name === "vlmcs" && p.port === 1688 && p.protocol === "TCP"));
    assert.ok(vlmcs.length >= 2, services.map((s) => s.metadata.name).join(", "));
    const lb = vlmcs.find((s) => s.spec.type === "LoadBalancer");
    assert.ok(lb, "a LoadBalancer Service for the lab network");
    assert.equal(lb.spec.externalTrafficPolicy, "Local", "client addresses reach the pods unchanged");
    assert.ok(vlmcs.some((s) => s.spec.clusterIP === "None"), "a headless Service: one SRV target per pod");
  });

  test(`${dir}: KMS is admitted only from the configured lab CIDRs`, () => {
    const pods = find(objects, "Deployment", "kmsfarm").spec.template.metadata.labels;
    const policies = objects.filter((o) => o.kind === "NetworkPolicy" && matches(o.spec.podSelector.matchLabels, pods));
    assert.ok(policies.length >= 1);
    const kmsRules = policies.flatMap((p) => p.spec.ingress).filter((r) => r.ports?.some((p) => p.port === 1688));
    const cidrs = kmsRules.flatMap((r) => r.from.filter((f) => f.ipBlock).map((f) => f.ipBlock.cidr)).sort();
    assert.ok(cidrs.length > 0);
    // Other peers for 1688 may only be the in-cluster load test's pods.
    for (const peer of kmsRules.flatMap((r) => r.from).filter((f) => !f.ipBlock)) {
      assert.equal(peer.podSelector?.matchLabels?.["app.kubernetes.io/component"], "load-test", JSON.stringify(peer));
    }

    assert.ok(kmsRules.every((r) => r.ports.every((p) => p.port === 1688)), "the CIDR rule admits nothing but KMS");
    const lb = objects.find((o) => o.kind === "Service" && o.spec.type === "LoadBalancer");
    assert.deepEqual([...lb.spec.loadBalancerSourceRanges].sort(), cidrs, "the load balancer admits the same CIDRs");
  });

  test(`${dir}: Prometheus Operator objects scrape /metrics and carry the farm's rules; dashboards for Grafana's sidecar`, () => {
    const monitor = find(objects, "ServiceMonitor", "kmsfarm");
    const service = objects.find((o) => o.kind === "Service" && matches(monitor.spec.selector.matchLabels, o.metadata.labels));
    assert.ok(service, "the ServiceMonitor selects a Service");
    assert.ok(service.spec.ports.some((p) => p.name === monitor.spec.endpoints[0].port));
    assert.equal(monitor.spec.endpoints[0].path, "/metrics");

    assert.ok(find(objects, "PrometheusRule", "kmsfarm").spec.groups.length > 0);

    const dashboards = objects.filter((o) => o.kind === "ConfigMap" && o.metadata.labels?.grafana_dashboard === "1");
    const keys = dashboards.flatMap((c) => Object.keys(c.data)).sort();
    const files = readdirSync(join(root, "dashboards")).filter((f) => f.endsWith(".json")).sort();
    assert.deepEqual(keys, files, "every dashboards/*.json is in the ConfigMap (dashboards/kustomization.yaml)");
    for (const c of dashboards) for (const [name, text] of Object.entries(c.data)) assert.doesNotThrow(() => JSON.parse(text), name);
  });
}

test("the lab overlay runs 3 KMS replicas and a load test that finds them by SRV", () => {
  const objects = rendered.get("k8s/overlays/lab");
  assert.equal(find(objects, "Deployment", "kmsfarm").spec.replicas, 3);
  const job = find(objects, "Job", "kmsfarm-load");
  const container = job.spec.template.spec.containers[0];
  assert.equal(container.image, find(objects, "Deployment", "kmsfarm").spec.template.spec.containers[0].image);
  assert.deepEqual(container.command, ["dotnet", "/app/client/kmsfarm-client.dll"]);
  const domain = container.args[container.args.indexOf("--dns-domain") + 1];
  const [service, namespace] = domain.split(".");
  const headless = find(objects, "Service", service);
  assert.equal(headless.metadata.namespace, namespace);
  assert.equal(headless.spec.clusterIP, "None");
  assert.ok(headless.spec.ports.some((p) => p.name === "vlmcs"), "cluster DNS serves _vlmcs._tcp for a port named vlmcs");
});

test("the PrometheusRule is generated from the current rule files (node tests/deploy/sync-rules.mjs --write)", () => {
  assert.equal(readFileSync(target, "utf8"), render());
});
