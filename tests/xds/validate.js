#!/usr/bin/env node
// SPDX-License-Identifier: Apache-2.0
//
// Validates server.js against a production xDS client, @grpc/grpc-js-xds:
// serves an LDS/RDS/CDS/EDS set for a gRPC service through server.js, lets a
// grpc-js channel to xds:///echo subscribe through it and make a call to the
// endpoint EDS gave; prints the resources the server sent and the client
// ACKed, and the call's answer. Exits 0 when the call went through and the
// client ACKed every type; then a broken route configuration must be NACKed.
'use strict';

const { spawn } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');
const readline = require('readline');
const grpc = require('@grpc/grpc-js');

const T = 'type.googleapis.com/';
const id = (x) => x;
const ECHO = {
  Echo: { path: '/hf.test.Echo/Echo', requestStream: false, responseStream: false,
    requestSerialize: id, requestDeserialize: id, responseSerialize: id, responseDeserialize: id },
};

function resources(echoPort, locality) {
  const hcm = {
    '@type': T + 'envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager',
    rds: { route_config_name: 'echo-routes', config_source: { ads: {}, resource_api_version: 'V3' } },
    http_filters: [{ name: 'router', typed_config: { '@type': T + 'envoy.extensions.filters.http.router.v3.Router' } }],
  };
  return { resources: [
    { '@type': T + 'envoy.config.listener.v3.Listener', name: 'echo', api_listener: { api_listener: hcm } },
    { '@type': T + 'envoy.config.route.v3.RouteConfiguration', name: 'echo-routes',
      virtual_hosts: [{ name: 'echo', domains: ['*'],
        routes: [{ match: { prefix: '' }, route: { cluster: 'echo-cluster' } }] }] },
    { '@type': T + 'envoy.config.cluster.v3.Cluster', name: 'echo-cluster', type: 'EDS',
      eds_cluster_config: { eds_config: { ads: {}, resource_api_version: 'V3' } }, lb_policy: 'ROUND_ROBIN' },
    { '@type': T + 'envoy.config.endpoint.v3.ClusterLoadAssignment', cluster_name: 'echo-cluster',
      endpoints: [{ locality, load_balancing_weight: { value: 1 }, lb_endpoints: [{ endpoint: { address: { socket_address: { address: '127.0.0.1', port_value: echoPort } } } }] }] },
  ] };
}

function fail(msg) {
  console.log('not ok - ' + msg);
  process.exitCode = 1;
}

async function main() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hf-xds-validate-'));
  const events = [];
  let server, echo;
  const cleanup = () => {
    if (server) server.kill('SIGTERM');
    if (echo) echo.forceShutdown();
    fs.rmSync(dir, { recursive: true, force: true });
  };
  try {
    echo = new grpc.Server();
    echo.addService(ECHO, { Echo: (call, cb) => cb(null, Buffer.concat([Buffer.from('echo:'), call.request])) });
    const echoPort = await new Promise((res, rej) => echo.bindAsync('127.0.0.1:0',
      grpc.ServerCredentials.createInsecure(), (e, p) => (e ? rej(e) : res(p))));
    fs.writeFileSync(path.join(dir, 'echo.json'), JSON.stringify(resources(echoPort, { region: 'r1', zone: 'z1' })));

    server = spawn(process.execPath, [path.join(__dirname, 'server.js'), '--dir', dir, '--port', '0'],
      { stdio: ['ignore', 'pipe', 'inherit'] });
    const waiters = [];
    readline.createInterface({ input: server.stdout }).on('line', (l) => {
      const e = JSON.parse(l);
      events.push(e);
      for (const w of waiters.slice()) if (w.test(e)) { waiters.splice(waiters.indexOf(w), 1); w.done(e); }
    });
    const waitFor = (test, ms) => new Promise((res) => {
      const e = events.find(test);
      if (e) return res(e);
      const w = { test, done: res };
      waiters.push(w);
      setTimeout(() => { const i = waiters.indexOf(w); if (i >= 0) { waiters.splice(i, 1); res(null); } }, ms);
    });
    const listening = await waitFor((e) => e.event === 'listening', 10000);
    if (!listening) return fail('server.js listens');
    console.log(`ok - server.js listens on 127.0.0.1:${listening.port}`);

    process.env.GRPC_XDS_BOOTSTRAP_CONFIG = JSON.stringify({
      xds_servers: [{ server_uri: `127.0.0.1:${listening.port}`, channel_creds: [{ type: 'insecure' }],
        server_features: ['xds_v3'] }],
      node: { id: 'validate~127.0.0.1~validate.default~default.svc.cluster.local', cluster: 'validate', locality: {} },
    });
    require('@grpc/grpc-js-xds').register();
    const client = new grpc.Client('xds:///echo', grpc.credentials.createInsecure());
    const answer = await new Promise((res) => client.makeUnaryRequest(ECHO.Echo.path, id, id,
      Buffer.from('hi'), { deadline: Date.now() + 15000 }, (e, r) => res(e ? 'error: ' + e.message : String(r))));
    if (answer !== 'echo:hi') fail(`a call through xds:///echo reaches the EDS endpoint (got ${answer})`);
    else console.log('ok - a call through xds:///echo reaches the EDS endpoint: ' + answer);

    for (const t of ['Listener', 'RouteConfiguration', 'Cluster', 'ClusterLoadAssignment']) {
      const sent = events.filter((e) => e.event === 'send' && e.type === t).pop();
      const ack = sent && await waitFor((e) => e.event === 'ack' && e.type === t && e.version === sent.version, 5000);
      if (!ack) fail(`grpc-js-xds ACKs ${t} ${sent ? sent.version : '(never sent)'}`);
      else console.log(`ok - grpc-js-xds ACKs ${t} version ${ack.version}: [${sent.resources.join(', ')}]`);
    }

    // An assignment grpc-js-xds must refuse (gRFC A27: a locality is required), pushed on change.
    fs.writeFileSync(path.join(dir, 'echo.json'), JSON.stringify(resources(echoPort, undefined)));
    const nack = await waitFor((e) => e.event === 'nack' && e.type === 'ClusterLoadAssignment', 10000);
    if (!nack) fail('grpc-js-xds NACKs an invalid assignment pushed on change');
    else console.log('ok - grpc-js-xds NACKs an invalid assignment pushed on change, keeping ' +
      `version ${nack.version}: ${nack.error}`);
    client.close();
  } catch (e) {
    fail('validate.js: ' + (e && e.stack));
  } finally {
    // the server's log, for a failure's diagnosis
    if (process.exitCode) for (const e of events) console.log('# ' + JSON.stringify(e).slice(0, 400));
    cleanup();
  }
}

main().then(() => setTimeout(() => process.exit(process.exitCode || 0), 100));
