// docker-compose.yml as `docker-compose config` (Debian's docker-compose 1.29) resolves it: it must be accepted, and
// the resolved services must be one farm of three nodes on one database, monitored, with a load profile.
import { test } from "node:test";
import assert from "node:assert/strict";
import { composeConfig } from "./manifests.mjs";

const config = composeConfig();
const services = config.services;
const nodes = Object.keys(services).filter((name) => services[name].environment?.KmsFarm__Store__Location).sort();

test("docker-compose config accepts the file: PostgreSQL, three nodes, Prometheus, Grafana and the load profile", () => {
  assert.deepEqual(Object.keys(services).sort(), ["grafana", "load", "node-a", "node-b", "node-c", "postgres", "prometheus"]);
  assert.deepEqual(nodes, ["node-a", "node-b", "node-c"]);
  console.log(`# docker-compose config: ${Object.keys(services).length} services, volumes ${Object.keys(config.volumes).sort().join(", ")}`);
});

test("the nodes are one farm: one image, one database, one cluster id, each its own name", () => {
  const envs = nodes.map((n) => services[n].environment);
  assert.equal(new Set(nodes.map((n) => services[n].image)).size, 1);
  assert.equal(new Set(envs.map((e) => e.KmsFarm__Store__Location)).size, 1);
  assert.match(envs[0].KmsFarm__Store__Location, /^postgres:Host=postgres;/);
  assert.equal(new Set(envs.map((e) => e.KmsFarm__Cluster__ClusterId)).size, 1);
  assert.deepEqual(envs.map((e) => e.KmsFarm__Node__Name), nodes);
  assert.equal(envs[0].PGPASSWORD, services.postgres.environment.POSTGRES_PASSWORD);
  for (const n of nodes) {
    assert.equal(services[n].depends_on.postgres.condition, "service_healthy", n);
    assert.equal(services[n].build.dockerfile, "deploy/Dockerfile", n);
  }
});

test("the nodes run read-only with a tmpfs /tmp, no capabilities, no privilege gain", () => {
  for (const name of [...nodes, "load"]) {
    const s = services[name];
    assert.equal(s.read_only, true, name);
    assert.deepEqual(s.tmpfs, ["/tmp"], name);
    assert.deepEqual(s.cap_drop, ["ALL"], name);
    assert.deepEqual(s.security_opt, ["no-new-privileges:true"], name);
  }
});

test("each node publishes KMS on its own host port and HTTP on loopback only", () => {
  const published = nodes.map((n) => services[n].ports.map((p) => (typeof p === "string" ? p : `${p.host_ip ?? ""}:${p.published}:${p.target}`)));
  const kms = published.map((ports) => ports.find((p) => p.endsWith(":1688/tcp") || p.endsWith(":1688")));
  assert.equal(new Set(kms).size, nodes.length, kms.join(" "));
  for (const ports of published) {
    const http = ports.find((p) => /:8688(\/tcp)?$/.test(p));
    assert.match(http, /^127\.0\.0\.1:/);
  }
});

test("Prometheus loads deploy/prometheus, Grafana is provisioned from dashboards/", () => {
  const volumes = (name) => services[name].volumes.map((v) => (typeof v === "string" ? v : `${v.source}:${v.target}`));
  assert.ok(volumes("prometheus").some((v) => /\/deploy\/prometheus:\/etc\/prometheus(:ro)?$/.test(v)), volumes("prometheus").join(" "));
  assert.ok(services.prometheus.command.includes("--config.file=/etc/prometheus/prometheus.yml"));
  assert.ok(volumes("grafana").some((v) => /\/dashboards\/provisioning:\/etc\/grafana\/provisioning(:ro)?$/.test(v)));
  assert.ok(volumes("grafana").some((v) => /\/dashboards:\/var\/lib\/grafana\/dashboards(:ro)?$/.test(v)));
});

test("the load profile runs the load generator against every node", () => {
  const load = services.load;
  assert.deepEqual(load.profiles, ["load"]);
  assert.deepEqual(load.entrypoint, ["dotnet", "/app/client/kmsfarm-client.dll"]);
  assert.equal(load.command[0], "load");
  const hosts = load.command[load.command.indexOf("--hosts") + 1].split(",");
  assert.deepEqual(hosts, nodes.map((n) => `${n}:1688`));
  for (const n of nodes) assert.equal(load.depends_on[n].condition, "service_healthy");
});
