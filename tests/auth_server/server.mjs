// OAuth 2 authorization server for the SMART App Launch tests: oidc-provider behind node:http,
// standing in for the EHR's. It knows one public client (PKCE required), accepts the SMART
// `launch` and `aud` parameters, signs the clinician in without a form (the EHR already has),
// answers the token request with the launch's `patient`, and lets the FHIR server introspect.
// Usage: node server.mjs --port N --client-id ID --redirect-uri URL [...]
//          --launch LAUNCH=PATIENT [...] --resource-secret S
// Prints "listening <port>" once ready.
import { createServer } from 'node:http';
import { parseArgs } from 'node:util';
import Provider from 'oidc-provider';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '0' },
    'client-id': { type: 'string' },
    'redirect-uri': { type: 'string', multiple: true },
    launch: { type: 'string', multiple: true, default: [] },
    'resource-secret': { type: 'string' },
  },
});
const launches = new Map(values.launch.map((pair) => pair.split('=')));
const grantPatients = new Map(); // grant id -> the patient of the launch it was made for
const SCOPE = 'patient/*.read';

const server = createServer();
server.listen(Number(values.port), '127.0.0.1', () => {
  const issuer = `http://127.0.0.1:${server.address().port}`;
  const provider = new Provider(issuer, {
    clients: [
      { client_id: values['client-id'], token_endpoint_auth_method: 'none',
        redirect_uris: values['redirect-uri'], grant_types: ['authorization_code'],
        response_types: ['code'] },
      // the FHIR server, checking the tokens it is shown
      { client_id: 'fhir-server', client_secret: values['resource-secret'], redirect_uris: [],
        grant_types: [], response_types: [] },
    ],
    scopes: ['launch'],
    extraParams: ['launch', 'aud'],
    pkce: { required: () => true },
    features: {
      devInteractions: { enabled: false },
      introspection: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: (ctx) => ctx.oidc.params.aud,
        useGrantedResource: () => true,
        getResourceServerInfo: (ctx, resource) => ({ scope: SCOPE, audience: resource,
                                                     accessTokenFormat: 'opaque' }),
      },
    },
    extraTokenClaims: (ctx, token) => ({ patient: grantPatients.get(token.grantId) }),
    interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
  });
  // The token answer carries the launch context, as SMART asks.
  provider.use(async (ctx, next) => {
    await next();
    const grant = ctx.oidc?.entities?.Grant;
    if (ctx.path === '/token' && ctx.body?.access_token && grant) {
      ctx.body.patient = grantPatients.get(grant.jti);
    }
  });
  const callback = provider.callback();
  server.on('request', async (req, res) => {
    if (!req.url.startsWith('/interaction/')) {
      callback(req, res);
      return;
    }
    try {
      const { params } = await provider.interactionDetails(req, res);
      const patient = launches.get(params.launch);
      if (!patient) {
        await provider.interactionFinished(req, res, {
          error: 'access_denied', error_description: 'unknown launch' });
        return;
      }
      const grant = new provider.Grant({ accountId: 'clinician', clientId: params.client_id });
      grant.addOIDCScope('launch');
      grant.addResourceScope(params.aud, SCOPE);
      const grantId = await grant.save();
      grantPatients.set(grantId, patient);
      await provider.interactionFinished(req, res, {
        login: { accountId: 'clinician' }, consent: { grantId } });
    } catch (err) {
      res.writeHead(500, { 'Content-Type': 'text/plain' });
      res.end(String(err));
    }
  });
  console.log(`listening ${server.address().port}`);
});
