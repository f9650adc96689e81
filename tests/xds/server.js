#!/usr/bin/env node
// SPDX-License-Identifier: Apache-2.0
//
// An xDS management server for the tests: Aggregated Discovery Service, state
// of the world, on @grpc/grpc-js with the official Envoy protos (the ones
// @grpc/grpc-js-xds ships, loaded by @grpc/proto-loader and protobufjs).
//
// It serves the Envoy v3 resources of the *.json / *.yaml files of a
// directory: each file holds {"resources": [ {"@type": TYPE_URL, ...fields}, ... ]}
// (or a list of resources), in protobuf's field names (snake_case), Durations
// as {"seconds": N}. A type's version is a hash of its resources, so a server
// restarted on the same files offers the same versions. The directory is
// re-read every 200 ms; a change is pushed to every stream subscribed to the
// types it touches. A file that does not parse or encode is logged and the
// previous resources stay.
//
// Everything it sees and does is one JSON line on stdout, for tests to assert:
//   {"event":"listening","port":N}
//   {"event":"stream_open","id":N} / {"event":"stream_close","id":N}
//   {"event":"request","id":N,"type":T,"version":V,"nonce":NONCE,"names":[...],"node":{...}}
//   {"event":"ack","id":N,"type":T,"version":V,"nonce":NONCE}
//   {"event":"nack","id":N,"type":T,"version":V,"nonce":NONCE,"error":MSG}
//   (either with "stale":true when it answers an older response than the last sent)
//   {"event":"send","id":N,"type":T,"version":V,"nonce":NONCE,"resources":[names]}
//   {"event":"load","versions":{T:V}} / {"event":"load_error","error":MSG}
//
// usage: server.js --dir DIR [--port N] [--address A]
'use strict';

const crypto = require('crypto');
const fs = require('fs');
const path = require('path');
const grpc = require('@grpc/grpc-js');
const protoLoader = require('@grpc/proto-loader');
const protobuf = require('protobufjs');
const yaml = require('js-yaml');

const DEPS = path.join(path.dirname(require.resolve('@grpc/grpc-js-xds/package.json')), 'deps');
const INCLUDE = ['envoy-api', 'xds', 'googleapis', 'protoc-gen-validate'].map((d) => path.join(DEPS, d));
const PREFIX = 'type.googleapis.com/';
const TYPES = {
  LDS: 'envoy.config.listener.v3.Listener',
  RDS: 'envoy.config.route.v3.RouteConfiguration',
  CDS: 'envoy.config.cluster.v3.Cluster',
  EDS: 'envoy.config.endpoint.v3.ClusterLoadAssignment',
  SDS: 'envoy.extensions.transport_sockets.tls.v3.Secret',
};
// What each resource type's name field is.
const NAME_FIELD = { [TYPES.EDS]: 'cluster_name' };
// The files whose message types a resource's Any (typed_config) may hold.
const PROTOS = [
  'envoy/service/discovery/v3/ads.proto',
  'envoy/config/listener/v3/listener.proto',
  'envoy/config/route/v3/route.proto',
  'envoy/config/cluster/v3/cluster.proto',
  'envoy/config/endpoint/v3/endpoint.proto',
  'envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager.proto',
  'envoy/extensions/filters/http/router/v3/router.proto',
  'envoy/extensions/filters/network/tcp_proxy/v3/tcp_proxy.proto',
  'envoy/extensions/transport_sockets/tls/v3/secret.proto',
];

function arg(name, dflt) {
  const i = process.argv.indexOf('--' + name);
  return i > 0 && i + 1 < process.argv.length ? process.argv[i + 1] : dflt;
}
function log(o) {
  process.stdout.write(JSON.stringify(o) + '\n');
}

// protobufjs with every include root: encodes resources (Any with @type included).
const root = new protobuf.Root();
root.resolvePath = (origin, target) => {
  for (const d of INCLUDE) {
    const p = path.join(d, target);
    if (fs.existsSync(p)) return p;
  }
  // well-known types: protobufjs has them built in
  return target;
};
root.loadSync(PROTOS, { keepCase: true });
root.resolveAll();

const dir = arg('dir');
if (!dir) {
  console.error('usage: server.js --dir DIR [--port N] [--address A]');
  process.exit(2);
}

// type URL -> { version, byName: Map(name -> {name, any}) }
let state = {};
let fingerprint = '';

function encode(res) {
  const t = res['@type'];
  if (typeof t !== 'string' || !t.startsWith(PREFIX)) throw new Error('a resource without "@type"');
  const type = root.lookupType(t.slice(PREFIX.length));
  const body = Object.assign({}, res);
  delete body['@type'];
  const err = type.verify(type.fromObject(body));
  if (err) throw new Error(t + ': ' + err);
  const msg = type.fromObject(body);
  const name = body[NAME_FIELD[t.slice(PREFIX.length)] || 'name'];
  if (!name) throw new Error(t + ': a resource without a name');
  return { name, any: { type_url: t, value: Buffer.from(type.encode(msg).finish()) } };
}

function load() {
  let files;
  try {
    files = fs.readdirSync(dir).filter((f) => /\.(json|ya?ml)$/.test(f)).sort();
  } catch (e) {
    log({ event: 'load_error', error: String(e.message) });
    return false;
  }
  const texts = files.map((f) => fs.readFileSync(path.join(dir, f), 'utf8'));
  const fp = JSON.stringify([files, texts]);
  if (fp === fingerprint) return false;
  fingerprint = fp;
  const next = {};
  for (const t of Object.values(TYPES)) next[PREFIX + t] = { byName: new Map() };
  try {
    files.forEach((f, i) => {
      const doc = /\.json$/.test(f) ? JSON.parse(texts[i]) : yaml.load(texts[i]);
      const list = Array.isArray(doc) ? doc : (doc && doc.resources) || [];
      for (const r of list) {
        const e = encode(r);
        const s = next[e.any.type_url];
        if (!s) throw new Error(f + ': type ' + e.any.type_url + ' is not served');
        if (s.byName.has(e.name)) throw new Error(f + ': ' + e.name + ' defined twice');
        s.byName.set(e.name, e);
      }
    });
  } catch (e) {
    log({ event: 'load_error', error: String(e.message) });
    return false;
  }
  const versions = {};
  for (const [t, s] of Object.entries(next)) {
    const h = crypto.createHash('sha256');
    for (const [n, e] of [...s.byName.entries()].sort()) h.update(n).update(e.any.value);
    s.version = s.byName.size === 0 ? '' : h.digest('hex').slice(0, 12);
    versions[t.slice(PREFIX.length).split('.').pop()] = s.version;
  }
  state = next;
  log({ event: 'load', versions });
  return true;
}

const pkg = grpc.loadPackageDefinition(protoLoader.loadSync('envoy/service/discovery/v3/ads.proto', {
  keepCase: true, longs: String, enums: String, defaults: true, oneofs: true, includeDirs: INCLUDE,
}));
const ADS = pkg.envoy.service.discovery.v3.AggregatedDiscoveryService;
const streams = new Set();
let nextStream = 1;
let nextNonce = 1;

// Sends a state of the world of type @t on stream @st when the client's view differs.
function send(st, t) {
  const sub = st.subs.get(t);
  const s = state[t];
  if (!sub || !s) return;
  const wildcard = sub.names.length === 0 && (t === PREFIX + TYPES.LDS || t === PREFIX + TYPES.CDS);
  const list = [...s.byName.values()].filter((e) => wildcard || sub.names.includes(e.name));
  const nonce = String(nextNonce++);
  sub.nonce = nonce;
  sub.sent = s.version;
  st.call.write({ version_info: s.version, resources: list.map((e) => e.any), type_url: t, nonce });
  log({ event: 'send', id: st.id, type: t.split('.').pop(), version: s.version, nonce,
    resources: list.map((e) => e.name) });
}

function onRequest(st, rq) {
  const t = rq.type_url;
  const short = t.split('.').pop();
  const names = (rq.resource_names || []).slice().sort();
  log({ event: 'request', id: st.id, type: short, version: rq.version_info, nonce: rq.response_nonce,
    names, node: rq.node ? { id: rq.node.id, cluster: rq.node.cluster, metadata: rq.node.metadata } : undefined });
  let sub = st.subs.get(t);
  const fresh = !sub;
  if (fresh) {
    sub = { names, nonce: '', sent: null };
    st.subs.set(t, sub);
  }
  const changed = !fresh && JSON.stringify(sub.names) !== JSON.stringify(names);
  sub.names = names;
  if (rq.response_nonce !== '') {
    // An answer to an older response than the last one sent is stale: logged, not acted on.
    const stale = rq.response_nonce !== sub.nonce ? { stale: true } : {};
    if (rq.error_detail) {
      log(Object.assign({ event: 'nack', id: st.id, type: short, version: rq.version_info,
        nonce: rq.response_nonce, error: rq.error_detail.message }, stale));
    } else {
      log(Object.assign({ event: 'ack', id: st.id, type: short, version: rq.version_info,
        nonce: rq.response_nonce }, stale));
    }
    if (changed && !stale.stale) send(st, t);
    return;
  }
  // A new subscription (or a new stream): answer unless the client holds this version already.
  if (!state[t]) return;
  if (changed || rq.version_info !== state[t].version) send(st, t);
}

function serve(call) {
  const st = { id: nextStream++, call, subs: new Map() };
  streams.add(st);
  log({ event: 'stream_open', id: st.id, peer: call.getPeer() });
  call.on('data', (rq) => onRequest(st, rq));
  const end = () => {
    if (streams.delete(st)) log({ event: 'stream_close', id: st.id });
  };
  call.on('end', () => { end(); call.end(); });
  call.on('error', end);
  call.on('cancelled', end);
}

load();
setInterval(() => {
  if (!load()) return;
  for (const st of streams)
    for (const [t, sub] of st.subs) if (state[t] && sub.sent !== state[t].version) send(st, t);
}, 200);

const server = new grpc.Server();
server.addService(ADS.service, { StreamAggregatedResources: serve });
const address = arg('address', '127.0.0.1');
server.bindAsync(`${address}:${arg('port', '15010')}`, grpc.ServerCredentials.createInsecure(), (err, port) => {
  if (err) {
    console.error('server.js: ' + err.message);
    process.exit(1);
  }
  log({ event: 'listening', port });
});
process.on('SIGTERM', () => process.exit(0));
