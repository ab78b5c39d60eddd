// Validate Kubernetes and Istio objects against their published JSON schemas.
// Reads a JSON array of objects on stdin; prints one line per invalid or unknown object and exits 1
// when there is any, else prints how many objects were valid.
import { readFileSync } from "node:fs";

const ISTIO_GROUPS = new Set(["networking.istio.io", "security.istio.io", "telemetry.istio.io", "extensions.istio.io", "install.istio.io"]);

function modulePath(apiVersion, kind) {
  const [group, version] = apiVersion.includes("/") ? apiVersion.split("/") : ["", apiVersion];
  if (ISTIO_GROUPS.has(group)) return `@kubernetes-models/istio/${group}/${version}/${kind}`;
  return group ? `kubernetes-models/${group}/${version}/${kind}` : `kubernetes-models/${version}/${kind}`;
}

const objects = JSON.parse(readFileSync(0, "utf8"));
const problems = [];
for (const [index, obj] of objects.entries()) {
  const where = `#${index} ${obj.kind}/${obj.metadata?.namespace ?? ""}/${obj.metadata?.name ?? "?"}`;
  let Model;
  try {
    Model = (await import(modulePath(obj.apiVersion, obj.kind)))[obj.kind];
  } catch {
    problems.push(`${where}: no schema for ${obj.apiVersion} ${obj.kind}`);
    continue;
  }
  try {
    new Model(obj).validate();
  } catch (error) {
    problems.push(`${where}: ${error.message}`);
  }
}
for (const line of problems) console.log(line);
if (problems.length) process.exit(1);
console.log(`${objects.length} objects valid`);
