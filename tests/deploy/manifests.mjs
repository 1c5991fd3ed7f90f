// Rendering and schema validation shared by the deploy tests.
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import YAML from "yaml";
import { root } from "./sync-rules.mjs";

export { root };

/** Every directory under k8s/overlays with a kustomization. */
export function overlays() {
  const dir = join(root, "k8s/overlays");
  return readdirSync(dir)
    .filter((name) => existsSync(join(dir, name, "kustomization.yaml")))
    .sort()
    .map((name) => `k8s/overlays/${name}`);
}

/** `kubectl kustomize DIR` (offline), as parsed objects. */
export function kustomize(relativeDir) {
  const text = execFileSync("kubectl", ["kustomize", join(root, relativeDir)], { encoding: "utf8", maxBuffer: 64 << 20 });
  return YAML.parseAllDocuments(text).map((doc) => {
    if (doc.errors.length > 0) throw new Error(`${relativeDir}: ${doc.errors.join("; ")}`);
    return doc.toJSON();
  }).filter((o) => o !== null);
}

/** The model module for an apiVersion: kubernetes-models for Kubernetes' own groups, the Prometheus Operator models for
 * monitoring.coreos.com. An apiVersion neither knows is an error: every object is validated against a schema. */
async function modelsFor(apiVersion) {
  if (apiVersion.startsWith("monitoring.coreos.com/")) {
    return import(`@kubernetes-models/prometheus-operator/${apiVersion}`);
  }

  return import(`kubernetes-models/${apiVersion}`);
}

/** Validates one object against its kind's JSON schema; returns the error messages (empty when valid). */
export async function validate(object) {
  const where = `${object?.kind ?? "?"}/${object?.metadata?.name ?? "?"}`;
  if (!object?.apiVersion || !object?.kind) return [`${where}: no apiVersion or kind`];
  let models;
  try {
    models = await modelsFor(object.apiVersion);
  } catch {
    return [`${where}: no schema for apiVersion ${object.apiVersion}`];
  }

  const Model = models[object.kind];
  if (typeof Model !== "function") return [`${where}: no schema for ${object.apiVersion} ${object.kind}`];
  try {
    new Model(object).validate();
    return [];
  } catch (error) {
    const details = (error.errors ?? []).map((e) => `${e.instancePath || "/"} ${e.message}`);
    return [`${where}: ${error.message}${details.length ? " (" + details.join("; ") + ")" : ""}`];
  }
}

export const find = (objects, kind, name) => objects.find((o) => o.kind === kind && o.metadata.name === name);

export const matches = (selector, labels) => Object.entries(selector ?? {}).every(([k, v]) => labels?.[k] === v);

/** `docker-compose config` of the top-level compose file with every profile's services, parsed. */
export function composeConfig() {
  const text = execFileSync("docker-compose", ["--project-directory", root, "-f", join(root, "docker-compose.yml"), "--profile", "load", "config"],
    { encoding: "utf8", env: { PATH: process.env.PATH, HOME: process.env.HOME ?? "/root" } });
  return YAML.parse(text);
}
