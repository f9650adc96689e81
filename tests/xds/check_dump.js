#!/usr/bin/env node
// SPDX-License-Identifier: Apache-2.0
//
// Reads an admin answer (JSON on stdin) the way a strict protobuf JSON parser
// does (Envoy's own, istioctl's): against the official Envoy protos that
// @grpc/grpc-js-xds ships, every field must exist in its message (proto
// field names), every enum value must be one of its names, every Any's
// "@type" must name a message these protos define, and its fields are read
// as that message's. Prints "ok" or each problem with its JSON path, exit 1.
//
// usage: check_dump.js TYPE < answer.json   (TYPE: envoy.admin.v3.ConfigDump,
//        envoy.admin.v3.Clusters)
'use strict';

const fs = require('fs');
const path = require('path');
const protobuf = require('protobufjs');

const DEPS = path.join(path.dirname(require.resolve('@grpc/grpc-js-xds/package.json')), 'deps');
// The well-known types protobufjs lacks (descriptor.proto) come with Debian's libprotobuf-dev.
const INCLUDE = ['envoy-api', 'xds', 'googleapis', 'protoc-gen-validate'].map((d) => path.join(DEPS, d))
  .concat(['/usr/include']);
const PROTOS = [
  'envoy/admin/v3/config_dump.proto',
  'envoy/admin/v3/clusters.proto',
  'envoy/config/bootstrap/v3/bootstrap.proto',
  'envoy/config/listener/v3/listener.proto',
  'envoy/config/route/v3/route.proto',
  'envoy/config/cluster/v3/cluster.proto',
  'envoy/config/endpoint/v3/endpoint.proto',
  'envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager.proto',
  'envoy/extensions/filters/http/router/v3/router.proto',
  'envoy/extensions/filters/http/fault/v3/fault.proto',
  'envoy/extensions/filters/http/cors/v3/cors.proto',
  'envoy/extensions/filters/http/buffer/v3/buffer.proto',
  'envoy/extensions/filters/network/tcp_proxy/v3/tcp_proxy.proto',
  'envoy/extensions/transport_sockets/tls/v3/tls.proto',
  'envoy/extensions/transport_sockets/tls/v3/secret.proto',
  'envoy/extensions/upstreams/http/v3/http_protocol_options.proto',
  'envoy/extensions/transport_sockets/raw_buffer/v3/raw_buffer.proto',
  'envoy/extensions/filters/listener/tls_inspector/v3/tls_inspector.proto',
];

const root = new protobuf.Root();
root.resolvePath = (origin, target) => {
  for (const d of INCLUDE) {
    const p = path.join(d, target);
    if (fs.existsSync(p)) return p;
  }
  return target;
};
root.loadSync(PROTOS, { keepCase: true });
root.resolveAll();

const problems = [];
const bad = (at, what) => problems.push(at + ': ' + what);

// The JSON forms of the well-known types (protobuf's JSON mapping).
const WKT = {
  'google.protobuf.Duration': (v, at) => typeof v === 'string' && /^-?\d+(\.\d+)?s$/.test(v) || bad(at, 'not a Duration'),
  'google.protobuf.Timestamp': (v, at) => typeof v === 'string' && !isNaN(Date.parse(v)) || bad(at, 'not a Timestamp'),
  'google.protobuf.Struct': () => true,
  'google.protobuf.Value': () => true,
  'google.protobuf.ListValue': (v, at) => Array.isArray(v) || bad(at, 'not a list'),
  'google.protobuf.Empty': (v, at) => typeof v === 'object' || bad(at, 'not an object'),
};
const WRAPPERS = /^google\.protobuf\.(U?Int(32|64)|Bool|Double|Float|String|Bytes)Value$/;

function scalar(f, v, at) {
  switch (f.type) {
    case 'string': return typeof v === 'string' || bad(at, 'not a string');
    case 'bytes': return typeof v === 'string' || bad(at, 'not base64');
    case 'bool': return typeof v === 'boolean' || bad(at, 'not a bool');
    case 'double': case 'float': return typeof v === 'number' || bad(at, 'not a number');
    case 'int64': case 'uint64': case 'sint64': case 'fixed64': case 'sfixed64':
      return (typeof v === 'string' && /^-?\d+$/.test(v)) || Number.isInteger(v) || bad(at, 'not an integer');
    default: return Number.isInteger(v) || bad(at, 'not an integer');
  }
}

function value(f, v, at) {
  const t = f.resolvedType;
  if (t instanceof protobuf.Enum) {
    if (!(typeof v === 'string' && v in t.values) && !Number.isInteger(v)) bad(at, `'${v}' is not a ${t.name}`);
    return;
  }
  if (t instanceof protobuf.Type) return message(t, v, at);
  scalar(f, v, at);
}

function message(type, v, at) {
  const name = type.fullName.replace(/^\./, '');
  if (WKT[name]) return WKT[name](v, at);
  if (WRAPPERS.test(name)) return scalar(type.fields.value, v, at);
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return bad(at, `not a ${name} object`);
  if (name === 'google.protobuf.Any') {
    const url = v['@type'];
    if (typeof url !== 'string') return bad(at, 'an Any without "@type"');
    let inner;
    try {
      inner = root.lookupType(url.slice(url.lastIndexOf('/') + 1));
    } catch (e) {
      return bad(at, `"@type" ${url} is not a message of these protos`);
    }
    const body = Object.assign({}, v);
    delete body['@type'];
    const iname = inner.fullName.replace(/^\./, '');
    if (WKT[iname] || WRAPPERS.test(iname)) return message(inner, body.value, at);
    return message(inner, body, at + '<' + inner.name + '>');
  }
  for (const [k, x] of Object.entries(v)) {
    const f = type.fields[k];
    const p = at + '.' + k;
    if (!f) {
      bad(p, `no field '${k}' in ${name}`);
      continue;
    }
    if (f.map) {
      if (typeof x !== 'object' || Array.isArray(x)) bad(p, 'not a map');
      else for (const [mk, mv] of Object.entries(x)) value(f, mv, `${p}[${mk}]`);
    } else if (f.repeated) {
      if (!Array.isArray(x)) bad(p, 'not a list');
      else x.forEach((e, i) => value(f, e, `${p}[${i}]`));
    } else {
      value(f, x, p);
    }
  }
}

const top = root.lookupType(process.argv[2] || 'envoy.admin.v3.ConfigDump');
let doc;
try {
  doc = JSON.parse(fs.readFileSync(0, 'utf8'));
} catch (e) {
  console.log('not JSON: ' + e.message);
  process.exit(1);
}
message(top, doc, '$');
if (problems.length === 0) {
  console.log('ok');
} else {
  for (const p of problems.slice(0, 20)) console.log(p);
  process.exit(1);
}
