import { afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { HttpModule, HttpService } from '@nestjs/axios';
import { Test } from '@nestjs/testing';
import { FieldErrorsException } from '@app/common/filters/field-errors.exception';
import { RetryLaterException } from '@app/common/filters/retry-later.exception';
import { failureOf } from '@test/support/http-failure';
import { MLServiceClient, type MlCallContext } from '@app/ml/client/ml-service.client';
import { ML_MODULE_DEFAULTS } from '@app/ml/ml-module-options';
import { closedPortUrl, LoopbackServer, sendJson, startLoopbackServer } from '@test/support/loopback-server';

const caller: MlCallContext = { tenantId: 'acme-corp', requestId: 'req-123' };
const SERVICE_TOKEN = 'service-token-for-tests';
const CUSTOMER = { tenure: 3, monthly_charges: 89.5, total_charges: 268.5, contract_type: 'month-to-month' };
const ANSWER = { model_id: 'churn', version: '2', predictions: [{ class: 1, score: 0.92, prediction_id: 'a'.repeat(32) }] };

let httpService: HttpService;

beforeAll(async () => {
  const moduleRef = await Test.createTestingModule({ imports: [HttpModule] }).compile();
  httpService = moduleRef.get(HttpService);
});

/** Predict runs on its own undici pool (PredictChannel); these pin its contract to the axios calls'. */
describe('MLServiceClient.predict against a real loopback server', () => {
  let server: LoopbackServer | undefined;
  let client: MLServiceClient | undefined;

  function clientFor(url: string, timeoutMs = 300, predictMaxInFlight = 16, predictDirect = false): MLServiceClient {
    client = new MLServiceClient(httpService, {
      ...ML_MODULE_DEFAULTS,
      mlServiceUrl: url,
      serviceToken: SERVICE_TOKEN,
      timeoutMs,
      maxAttempts: 3,
      retryBaseDelayMs: 10,
      predictMaxInFlight,
      predictDirect,
    });
    return client;
  }

  afterEach(async () => {
    await client?.onModuleDestroy();
    await server?.close();
    client = undefined;
    server = undefined;
  });

  it('posts the body untouched with the tenant, request id and request key, below a path prefix', async () => {
    server = await startLoopbackServer((_request, response) => sendJson(response, 200, ANSWER));

    await expect(clientFor(`${server.url}/ml/`).predict(caller, 'churn', CUSTOMER, 'customer-42')).resolves.toEqual(ANSWER);

    const [request] = server.requests;
    expect(request.method).toBe('POST');
    expect(request.url).toBe('/ml/api/v1/serving/churn/predict');
    expect(JSON.parse(request.body)).toEqual(CUSTOMER);
    expect(request.headers['content-type']).toBe('application/json');
    expect(request.headers['x-tenant-id']).toBe('acme-corp');
    expect(request.headers['x-request-id']).toBe('req-123');
    expect(request.headers['x-request-key']).toBe('customer-42');
  });

  it('keeps non-finite numbers (what JSON.parse makes of -1e400) as literals, so the ML Service refuses them naming the field', async () => {
    const errors = [{ field: 'instances.0.tenure', message: 'must be a finite number (NaN, Infinity and numbers beyond ±1.8e308 are refused)' }];
    server = await startLoopbackServer((_request, response) => sendJson(response, 422, { detail: `the input does not fit the model's signature: ${errors[0].field}: ${errors[0].message}`, errors }));
    const body = JSON.parse('{"instances": [{"tenure": -1e400, "monthly_charges": 89.5, "contract_type": "\\u0000non-finite:NaN x"}]}') as unknown;

    const error = await failureOf(clientFor(server.url).predict(caller, 'churn', body));

    expect(error.getStatus()).toBe(422);
    expect((error as FieldErrorsException).fieldErrors).toEqual(errors);
    expect(server.requests[0].body).toBe('{"instances":[{"tenure":-Infinity,"monthly_charges":89.5,"contract_type":"\\u0000non-finite:NaN x"}]}');
  });

  it('answers 503 with the ML Service reason and does not retry a deployment at capacity', async () => {
    const detail = 'deployment churn is at capacity; retry shortly or add replicas';
    server = await startLoopbackServer((_request, response) => sendJson(response, 503, { detail }));

    const error = await failureOf(clientFor(server.url).predict(caller, 'churn', CUSTOMER));

    expect(error.getStatus()).toBe(503);
    expect(error.message).toBe(detail);
    expect(server.requests).toHaveLength(1);
  });

  it("hands the ML Service's Server-Timing on with its own round trip (ml_call), and nothing when there is none", async () => {
    const hops = 'ingress;dur=0.200, compute;dur=0.150, respond;dur=0.100, ml;dur=1.000';
    server = await startLoopbackServer((request, response) =>
      sendJson(response, 200, ANSWER, request.headers['x-request-key'] === 'timed' ? { 'Server-Timing': hops } : {}),
    );
    const timings: string[] = [];

    const ml = clientFor(server.url);
    await ml.predict(caller, 'churn', CUSTOMER, 'timed', (timing) => timings.push(timing));
    await ml.predict(caller, 'churn', CUSTOMER, 'plain', (timing) => timings.push(timing));

    expect(timings).toHaveLength(1);
    expect(timings[0]).toMatch(new RegExp(`^${hops}, ml_call;dur=\\d+\\.\\d{3}$`));
  });

  it('passes on the Retry-After of a deployment at capacity, without retrying it', async () => {
    const detail = 'deployment churn is at capacity; retry shortly or add replicas';
    server = await startLoopbackServer((_request, response) => sendJson(response, 503, { detail }, { 'Retry-After': '1' }));

    const error = await failureOf(clientFor(server.url).predict(caller, 'churn', CUSTOMER));

    expect(error).toBeInstanceOf(RetryLaterException);
    expect(error.getStatus()).toBe(503);
    expect((error as RetryLaterException).retryAfterSeconds).toBe('1');
    expect(error.message).toBe(detail);
    expect(server.requests).toHaveLength(1);
  });

  it('passes a 422 through with each field error, once', async () => {
    const body = { detail: 'the input does not fit', errors: [{ field: 'tenure', message: 'missing' }] };
    server = await startLoopbackServer((_request, response) => sendJson(response, 422, body));

    const error = await failureOf(clientFor(server.url).predict(caller, 'churn', {}));

    expect(error).toBeInstanceOf(FieldErrorsException);
    expect(error.getStatus()).toBe(422);
    expect((error as FieldErrorsException).fieldErrors).toEqual(body.errors);
    expect(server.requests).toHaveLength(1);
  });

  it('retries a dropped connection, then answers 503 naming the socket error (not the internal address)', async () => {
    server = await startLoopbackServer((request) => request.socket.destroy());

    const error = await failureOf(clientFor(server.url).predict(caller, 'churn', CUSTOMER));

    expect(error.getStatus()).toBe(503);
    expect(error.message).toMatch(/^ML Service unreachable: (UND_ERR_SOCKET|ECONNRESET)$/);
    expect(server.requests).toHaveLength(3);
  });

  it('answers 503 with ECONNREFUSED when nothing listens', async () => {
    const url = await closedPortUrl();

    const error = await failureOf(clientFor(url).predict(caller, 'churn', CUSTOMER));

    expect(error.getStatus()).toBe(503);
    expect(error.message).toBe(`ML Service unreachable: ECONNREFUSED`);
  });

  it('gives up on a slow ML Service with 504 after one deadline, cancelling the attempt', async () => {
    server = await startLoopbackServer(() => {
      /* never answers */
    });

    const error = await failureOf(clientFor(server.url, 300).predict(caller, 'churn', CUSTOMER));

    expect(error.getStatus()).toBe(504);
    expect(error.message).toBe('ML Service did not answer within 0.3 s');
    expect(server.requests).toHaveLength(1);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(server.requests[0].abandoned).toBe(true);
  });

  it('maps a 500 to 502 with the ML Service detail', async () => {
    server = await startLoopbackServer((_request, response) => sendJson(response, 500, { detail: 'replica crashed' }));

    const error = await failureOf(clientFor(server.url).predict(caller, 'churn', CUSTOMER));

    expect(error.getStatus()).toBe(502);
    expect(error.message).toBe('ML Service failed: replica crashed');
  });

  it("refuses a tenant's prediction beyond its bound in flight at once with 503 and Retry-After, without calling; other tenants and later calls go through", async () => {
    const held: Array<() => void> = [];
    server = await startLoopbackServer((_request, response) => {
      held.push(() => sendJson(response, 200, ANSWER));
    });
    const bounded = clientFor(server.url, 5_000, 2);
    const first = [bounded.predict(caller, 'churn', CUSTOMER), bounded.inferV2(caller, 'churn', undefined, { inputs: [] })];
    await waitFor(() => held.length === 2);

    const refused = await failureOf(bounded.predict(caller, 'churn', CUSTOMER));
    const other = bounded.predict({ tenantId: 'globex', requestId: 'req-9' }, 'churn', CUSTOMER);
    await waitFor(() => held.length === 3);

    expect(refused.getStatus()).toBe(503);
    expect(refused).toBeInstanceOf(RetryLaterException);
    expect((refused as RetryLaterException).retryAfterSeconds).toBe('1');
    expect(refused.message).toContain('tenant acme-corp already has 2 predictions in flight');
    expect(server.requests).toHaveLength(3);
    for (const answer of held.splice(0)) answer();
    await Promise.all([...first, other]);

    // the slots are free again once the answers are in
    const again = bounded.predict(caller, 'churn', CUSTOMER);
    await waitFor(() => held.length === 1);
    held[0]();
    await expect(again).resolves.toEqual(ANSWER);
  });
  describe('straight to the replicas (predictDirect)', () => {
    let replica: LoopbackServer | undefined;

    afterEach(async () => {
      await replica?.close();
      replica = undefined;
    });

    /** An ML Service offering `urls` as the targets of deployment churn (409 when undefined) and answering predict itself. */
    async function mlServiceOffering(urls: () => string[] | undefined): Promise<LoopbackServer> {
      return startLoopbackServer((request, response) => {
        if (request.method === 'GET' && request.url === '/api/v1/serving/churn/targets') {
          const offered = urls();
          return offered === undefined
            ? sendJson(response, 409, { detail: 'deployment churn has no direct targets: traffic is split across versions; the ML Service routes it' })
            : sendJson(response, 200, { version: '2', urls: offered });
        }
        return sendJson(response, 200, { ...ANSWER, version: 'from-ml-service' });
      });
    }

    it('posts to a replica with the service token and tenant, and asks for the targets once for many calls', async () => {
      replica = await startLoopbackServer((_request, response) => sendJson(response, 200, ANSWER, { 'Server-Timing': 'compute;dur=0.150' }));
      const replicaUrl = `${replica.url}/acme-corp/churn/v2`;
      server = await mlServiceOffering(() => [replicaUrl]);
      const direct = clientFor(server.url, 300, 16, true);
      const timings: string[] = [];

      await expect(direct.predict(caller, 'churn', CUSTOMER, undefined, (timing) => timings.push(timing))).resolves.toEqual(ANSWER);
      await Promise.all([1, 2, 3].map(() => direct.predict(caller, 'churn', CUSTOMER)));

      expect(server.requests.map((request) => `${request.method} ${request.url}`)).toEqual(['GET /api/v1/serving/churn/targets']);
      expect(server.requests[0].headers['x-tenant-id']).toBe('acme-corp');
      expect(replica.requests).toHaveLength(4);
      const [sent] = replica.requests;
      expect(sent.url).toBe('/acme-corp/churn/v2/predict');
      expect(sent.headers.authorization).toBe(`Bearer ${SERVICE_TOKEN}`);
      expect(sent.headers['x-tenant-id']).toBe('acme-corp');
      expect(JSON.parse(sent.body)).toEqual(CUSTOMER);
      expect(timings[0]).toMatch(/^compute;dur=0\.150, ml_call;dur=\d+\.\d{3}$/);
    });

    it("keeps each tenant's targets apart", async () => {
      replica = await startLoopbackServer((_request, response) => sendJson(response, 200, ANSWER));
      server = await mlServiceOffering(() => [`${replica?.url}/acme-corp/churn/v2`]);
      const direct = clientFor(server.url, 300, 16, true);

      await direct.predict(caller, 'churn', CUSTOMER);
      await direct.predict({ tenantId: 'globex', requestId: 'req-9' }, 'churn', CUSTOMER);

      expect(server.requests.map((request) => request.headers['x-tenant-id'])).toEqual(['acme-corp', 'globex']);
    });

    it('goes through the ML Service when it offers no targets, and for entity keys without asking', async () => {
      server = await mlServiceOffering(() => undefined);
      const direct = clientFor(server.url, 300, 16, true);

      await expect(direct.predict(caller, 'churn', CUSTOMER)).resolves.toMatchObject({ version: 'from-ml-service' });
      await expect(direct.predict(caller, 'churn', CUSTOMER)).resolves.toMatchObject({ version: 'from-ml-service' });
      await direct.predict(caller, 'other', { entities: { customer_id: ['C-1'] } });

      expect(server.requests.map((request) => `${request.method} ${request.url}`)).toEqual([
        'GET /api/v1/serving/churn/targets',
        'POST /api/v1/serving/churn/predict',
        'POST /api/v1/serving/churn/predict',
        'POST /api/v1/serving/other/predict',
      ]);
    });

    it('falls back to the ML Service when the replica is gone, and stays there until it looks again', async () => {
      const gone = await closedPortUrl();
      server = await mlServiceOffering(() => [`${gone}/acme-corp/churn/v2`]);
      const direct = clientFor(server.url, 300, 16, true);

      await expect(direct.predict(caller, 'churn', CUSTOMER)).resolves.toMatchObject({ version: 'from-ml-service' });
      await expect(direct.predict(caller, 'churn', CUSTOMER)).resolves.toMatchObject({ version: 'from-ml-service' });

      // one lookup: the second call goes straight to the ML Service, not to the closed port again
      expect(server.requests.map((request) => request.method)).toEqual(['GET', 'POST', 'POST']);
    });

    it('looks the targets up anew after a traffic split, release, rollback or undeploy made through it', async () => {
      replica = await startLoopbackServer((_request, response) => sendJson(response, 200, ANSWER));
      server = await mlServiceOffering(() => [`${replica?.url}/acme-corp/churn/v2`]);
      const direct = clientFor(server.url, 300, 16, true);

      await direct.predict(caller, 'churn', CUSTOMER);
      await direct.setTraffic(caller, 'churn', { variants: [{ version: 1, weight: 50 }, { version: 2, weight: 50 }] });
      await direct.predict(caller, 'churn', CUSTOMER);
      await direct.rollbackDeployment(caller, 'churn');
      await direct.predict(caller, 'churn', CUSTOMER);

      expect(server.requests.filter((request) => request.method === 'GET')).toHaveLength(3);
    });

    it("passes a full replica's 503 and Retry-After on at once, and its 422 with each field", async () => {
      const errors = [{ field: 'tenure', message: 'missing' }];
      replica = await startLoopbackServer((_request, response, requestNumber) =>
        (JSON.parse(replica?.requests[requestNumber - 1].body ?? '{}') as { tenure?: number }).tenure === undefined
          ? sendJson(response, 422, { detail: 'the input does not fit the model\'s signature: tenure: missing', errors })
          : sendJson(response, 503, 'Request dropped due to backpressure', { 'Retry-After': '1' }),
      );
      server = await mlServiceOffering(() => [`${replica?.url}/acme-corp/churn/v2`]);
      const direct = clientFor(server.url, 300, 16, true);

      const full = await failureOf(direct.predict(caller, 'churn', CUSTOMER));
      const invalid = await failureOf(direct.predict(caller, 'churn', {}));

      expect(full).toBeInstanceOf(RetryLaterException);
      expect(full.getStatus()).toBe(503);
      expect(invalid.getStatus()).toBe(422);
      expect((invalid as FieldErrorsException).fieldErrors).toEqual(errors);
      expect(server.requests.filter((request) => request.method === 'POST')).toHaveLength(0);
    });
  });
});

async function waitFor(condition: () => boolean): Promise<void> {
  for (let tries = 0; !condition(); tries += 1) {
    if (tries > 200) throw new Error('condition not met within 2 s');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
