#!/usr/bin/env node
// SPDX-License-Identifier: Apache-2.0
//
// An xDS management server for the tests: Aggregated Discovery Service, both
// variants (state of the world: StreamAggregatedResources; incremental:
// DeltaAggregatedResources), on @grpc/grpc-js with the official Envoy protos
// (the ones @grpc/grpc-js-xds ships, loaded by @grpc/proto-loader and protobufjs).
//
// It serves the Envoy v3 resources of the *.json / *.yaml files of a
// directory: each file holds {"resources": [ {"@type": TYPE_URL, ...fields}, ... ]}
// (or a list of resources), in protobuf's field names (snake_case), Durations
// as {"seconds": N}. A type's version is a hash of its resources, and each
// resource's own version (delta) a hash of its bytes, so a server restarted
// on the same files offers the same versions. The directory is
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
// Delta streams log the same events with "delta":true; their requests carry
// "subscribe", "unsubscribe" and "initial" ({name: version}), their sends
// "versions" ({name: version}) and "removed" ([names]). As the protocol
// says, a delta server sends what changed: the resources whose version the
// client does not hold, and as removed the ones it holds that are gone (or a
// name subscribed that does not exist).
//
// With --tls-cert, --tls-key and --tls-ca it serves over TLS (istiod's 15012
// style) and requires a client certificate chaining to the CA; each
// stream_open then carries "peer_san", the SANs of the client's certificate.
// --poll-ms sets how often the directory is re-read (200 ms).
//
// usage: server.js --dir DIR [--port N] [--address A] [--tls-cert F --tls-key F --tls-ca F]
//                  [--poll-ms MS]
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
  'envoy/extensions/filters/http/fault/v3/fault.proto',
  'envoy/extensions/filters/http/cors/v3/cors.proto',
  'envoy/extensions/transport_sockets/tls/v3/tls.proto',
  'envoy/extensions/upstreams/http/v3/http_protocol_options.proto',
  'envoy/extensions/transport_sockets/raw_buffer/v3/raw_buffer.proto',
  'envoy/extensions/filters/listener/tls_inspector/v3/tls_inspector.proto',
  'envoy/extensions/access_loggers/file/v3/file.proto',
  'envoy/extensions/request_id/uuid/v3/uuid.proto',
];

function arg(name, dflt) {
  const i = process.argv.indexOf('--' + name);
  return i > 0 && i + 1 < process.argv.length ? process.argv[i + 1] : dflt;
}
// Each event carries "t", the wall clock in ms (tests measure push-to-served times with it).
function log(o) {
  process.stdout.write(JSON.stringify(Object.assign(o, { t: Date.now() })) + '\n');
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
  const value = Buffer.from(type.encode(msg).finish());
  const version = crypto.createHash('sha256').update(value).digest('hex').slice(0, 12);
  return { name, version, any: { type_url: t, value } };
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

// ---------------------------------------------------------------- incremental (delta)

// Sends type @t on delta stream @st: what the client lacks or holds in another version,
// and as removed what it holds that is gone and the names it asked for that do not exist.
function sendDelta(st, t) {
  const sub = st.subs.get(t);
  const s = state[t];
  if (!sub || !s) return;
  const inScope = (n) => sub.wildcard || sub.names.has(n);
  const list = [...s.byName.values()].filter((e) => inScope(e.name) && sub.known.get(e.name) !== e.version);
  const removed = [...sub.known.keys()].filter((n) => !s.byName.has(n) || !inScope(n));
  for (const n of sub.names)
    if (!s.byName.has(n) && !sub.known.has(n) && !sub.absent.has(n)) removed.push(n);
  if (list.length === 0 && removed.length === 0) return;
  for (const e of list) {
    sub.known.set(e.name, e.version);
    sub.absent.delete(e.name);
  }
  for (const n of removed) {
    sub.known.delete(n);
    sub.absent.add(n);
  }
  const nonce = String(nextNonce++);
  sub.nonce = nonce;
  st.call.write({ system_version_info: s.version, type_url: t, nonce, removed_resources: removed,
    resources: list.map((e) => ({ name: e.name, version: e.version, resource: e.any })) });
  const versions = {};
  for (const e of list) versions[e.name] = e.version;
  log({ event: 'send', delta: true, id: st.id, type: t.split('.').pop(), version: s.version, nonce,
    resources: list.map((e) => e.name), versions, removed });
}

function onDeltaRequest(st, rq) {
  const t = rq.type_url;
  const short = t.split('.').pop();
  const subscribe = rq.resource_names_subscribe || [];
  const unsubscribe = rq.resource_names_unsubscribe || [];
  const initial = rq.initial_resource_versions || {};
  log({ event: 'request', delta: true, id: st.id, type: short, nonce: rq.response_nonce,
    subscribe, unsubscribe, initial,
    node: rq.node ? { id: rq.node.id, cluster: rq.node.cluster, metadata: rq.node.metadata } : undefined });
  let sub = st.subs.get(t);
  const fresh = !sub;
  if (fresh) {
    // A first request naming nothing is the legacy wildcard subscription.
    sub = { wildcard: subscribe.length === 0, names: new Set(), known: new Map(), absent: new Set(), nonce: '' };
    st.subs.set(t, sub);
    for (const [n, v] of Object.entries(initial)) sub.known.set(n, v);
  }
  for (const n of subscribe) {
    if (n === '*') sub.wildcard = true;
    else sub.names.add(n);
  }
  for (const n of unsubscribe) {
    if (n === '*') sub.wildcard = false;
    else {
      sub.names.delete(n);
      sub.known.delete(n);
      sub.absent.delete(n);
    }
  }
  if (rq.response_nonce !== '') {
    const stale = rq.response_nonce !== sub.nonce ? { stale: true } : {};
    if (rq.error_detail) {
      log(Object.assign({ event: 'nack', delta: true, id: st.id, type: short, nonce: rq.response_nonce,
        error: rq.error_detail.message }, stale));
    } else {
      log(Object.assign({ event: 'ack', delta: true, id: st.id, type: short, nonce: rq.response_nonce }, stale));
    }
  }
  if (fresh || subscribe.length > 0 || unsubscribe.length > 0) sendDelta(st, t);
}

// The SANs of the client certificate of @call's connection ("URI:spiffe://..."), or undefined.
// grpc-js 1.13 has no server-side auth context: the call's HTTP/2 stream leads to the socket.
function peerSan(call) {
  let c = call.call;
  for (let i = 0; c && !c.stream && i < 8; i++) c = c.nextCall;
  const sock = c && c.stream && c.stream.session && c.stream.session.socket;
  if (!sock || typeof sock.getPeerCertificate !== 'function') return undefined;
  const cert = sock.getPeerCertificate();
  return cert && cert.subjectaltname;
}

function serveDelta(call) {
  const st = { id: nextStream++, call, subs: new Map(), delta: true };
  streams.add(st);
  log({ event: 'stream_open', id: st.id, delta: true, peer: call.getPeer(), peer_san: peerSan(call) });
  call.on('data', (rq) => onDeltaRequest(st, rq));
  const end = () => {
    if (streams.delete(st)) log({ event: 'stream_close', id: st.id, delta: true });
  };
  call.on('end', () => { end(); call.end(); });
  call.on('error', end);
  call.on('cancelled', end);
}

function serve(call) {
  const st = { id: nextStream++, call, subs: new Map() };
  streams.add(st);
  log({ event: 'stream_open', id: st.id, peer: call.getPeer(), peer_san: peerSan(call) });
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
    for (const [t, sub] of st.subs) {
      if (st.delta) sendDelta(st, t);
      else if (state[t] && sub.sent !== state[t].version) send(st, t);
    }
}, Number(arg('poll-ms', '200')));

const server = new grpc.Server();
server.addService(ADS.service, { StreamAggregatedResources: serve, DeltaAggregatedResources: serveDelta });
const address = arg('address', '127.0.0.1');
const tlsCert = arg('tls-cert');
const creds = tlsCert
  ? grpc.ServerCredentials.createSsl(fs.readFileSync(arg('tls-ca')),
    [{ cert_chain: fs.readFileSync(tlsCert), private_key: fs.readFileSync(arg('tls-key')) }], true)
  : grpc.ServerCredentials.createInsecure();
server.bindAsync(`${address}:${arg('port', '15010')}`, creds, (err, port) => {
  if (err) {
    console.error('server.js: ' + err.message);
    process.exit(1);
  }
  log({ event: 'listening', port });
});
process.on('SIGTERM', () => process.exit(0));
