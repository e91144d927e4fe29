// Renders /openapi.json as a readable, keyboard- and screen-reader-friendly page.
"use strict";

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) node.setAttribute(key, value);
  for (const child of children) {
    if (child !== null && child !== undefined) {
      node.append(typeof child === "string" ? document.createTextNode(child) : child);
    }
  }
  return node;
}

function refName(schema) {
  return schema && schema.$ref ? schema.$ref.split("/").pop() : null;
}

function schemaText(schema) {
  const name = refName(schema);
  if (name) return el("a", { href: "#schema-" + name }, name);
  if (!schema) return "";
  if (schema.oneOf) {
    const span = el("span");
    schema.oneOf.forEach((s, i) => { if (i) span.append(" or "); span.append(schemaText(s)); });
    return span;
  }
  let text = schema.type ? [].concat(schema.type).join(" | ") : "";
  if (schema.enum) text += " (" + schema.enum.join(", ") + ")";
  if (schema.minimum !== undefined) text += ` from ${schema.minimum} to ${schema.maximum}`;
  return text;
}

function parameterTable(parameters) {
  const body = el("tbody");
  for (const p of parameters) {
    body.append(el("tr", {}, el("th", { scope: "row" }, el("code", {}, p.name)),
      el("td", {}, p.in), el("td", {}, p.required ? "yes" : "no"),
      el("td", {}, schemaText(p.schema)), el("td", {}, p.description || "")));
  }
  return el("table", {}, el("caption", {}, "Parameters"),
    el("thead", {}, el("tr", {}, ...["Name", "In", "Required", "Type", "Meaning"].map(
      (h) => el("th", { scope: "col" }, h)))), body);
}

function responseList(responses, spec) {
  const list = el("ul");
  for (const [status, raw] of Object.entries(responses)) {
    const response = raw.$ref ? spec.components.responses[refName(raw)] : raw;
    const content = response.content || {};
    const type = Object.keys(content)[0];
    const schema = type ? content[type].schema : null;
    list.append(el("li", {}, el("strong", {}, status), " ", response.description || "",
      type ? el("span", {}, " — ", el("code", {}, type), " ", schemaText(schema)) : null));
  }
  return el("section", {}, el("h4", {}, "Responses"), list);
}

function render(spec) {
  document.getElementById("status").textContent =
    `${spec.info.title}, version ${spec.info.version} (OpenAPI ${spec.openapi}).`;
  const toc = document.getElementById("toc");
  const ops = document.getElementById("operations");
  ops.append(el("p", {}, spec.info.description || ""));
  for (const [path, operations] of Object.entries(spec.paths)) {
    for (const [method, op] of Object.entries(operations)) {
      const id = op.operationId || method + path;
      toc.append(el("li", {}, el("a", { href: "#" + id }, `${method.toUpperCase()} ${path}`),
        " — ", op.summary || ""));
      const section = el("section", { id, "aria-labelledby": id + "-h" },
        el("h3", { id: id + "-h" }, el("code", {}, `${method.toUpperCase()} ${path}`)),
        el("p", {}, op.summary || ""));
      if (op.parameters && op.parameters.length) section.append(parameterTable(op.parameters));
      if (op.requestBody) {
        const [type, media] = Object.entries(op.requestBody.content)[0];
        section.append(el("p", {}, "Request body: ", el("code", {}, type), " ",
          schemaText(media.schema)));
      }
      section.append(responseList(op.responses, spec));
      ops.append(section);
    }
  }
  const schemas = document.getElementById("schemas");
  for (const [name, schema] of Object.entries(spec.components.schemas || {})) {
    schemas.append(el("details", { id: "schema-" + name }, el("summary", {}, name),
      el("pre", {}, JSON.stringify(schema, null, 2))));
  }
}

fetch("/openapi.json")
  .then((r) => { if (!r.ok) throw new Error("HTTP " + r.status); return r.json(); })
  .then(render)
  .catch((err) => {
    document.getElementById("status").textContent = "Could not load /openapi.json: " + err.message;
  });
