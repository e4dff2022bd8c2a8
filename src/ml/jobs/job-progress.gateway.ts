import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { Inject, Logger } from '@nestjs/common';
import { type OnGatewayConnection, WebSocketGateway } from '@nestjs/websockets';
import { WebSocket } from 'ws';
import { REQUEST_ID_HEADER } from '@app/common/request-id/request-id.middleware';
import type { TenantContext } from '@app/common/tenant/tenant-context';
import { ACTOR_PATTERN, TENANT_ID_PATTERN, TENANT_RESOLVER, type TenantResolver } from '@app/common/tenant/tenant-resolver';
import { JOB_ID, type StreamMessage, streamErrorOf } from '@app/ml/jobs/job-events';
import { JobsService } from '@app/ml/jobs/jobs.service';

export const JOB_PROGRESS_PATH = '/api/v1/ml/jobs/progress';

/** Close codes: 1000 after the `end` event; 4000 + the HTTP status of the `error` event otherwise (4401, 4404, 4502, …). */
export const NORMAL_CLOSURE = 1000;

const ACCEPTABLE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

class StreamRefusal extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/**
 * The progress WebSocket of every kind of job: `ws://host/<path>?job_id=…` relays the job's events
 * (pushed by the ML Service as they happen) as `{"event": "...", "data": {...}}` messages and closes
 * after `end`. Authenticated like every ML route by the module's TenantResolver (X-API-Key or
 * Authorization: Bearer); browsers cannot set headers on a WebSocket, so an `api_key` query
 * parameter is read as X-API-Key when neither header is present. Refusals and failures are one
 * `error` message, then a close with code 4000 + status; nothing of another tenant's job is sent.
 *
 * A subclass gives the path (its `@WebSocketGateway`), the job ids it takes and where the events come
 * from: `JobProgressGateway` takes any job; the training URL of seed 001 is the same gateway with
 * training's event shape.
 */
export abstract class ProgressGateway implements OnGatewayConnection<WebSocket> {
  private readonly logger = new Logger(this.constructor.name);

  protected constructor(private readonly resolver: TenantResolver) {}

  /** The job ids this path takes, and the sentence that says so. */
  protected abstract readonly jobIdRule: { pattern: RegExp; description: string };

  /** The job's messages; rejects (404, 503, …) before anything is streamed. */
  protected abstract open(jobId: string, caller: TenantContext, signal: AbortSignal): Promise<AsyncIterable<StreamMessage<unknown>>>;

  async handleConnection(client: WebSocket, request: IncomingMessage): Promise<void> {
    // The client leaving ends the ML Service stream too (the fetch is aborted).
    const left = new AbortController();
    client.once('close', () => left.abort());
    try {
      const url = new URL(request.url ?? '/', 'ws://localhost');
      const caller = await this.authenticate(request, url);
      const jobId = url.searchParams.get('job_id') ?? '';
      if (!this.jobIdRule.pattern.test(jobId)) {
        throw new StreamRefusal(400, `job_id must be given as a query parameter and look like ${this.jobIdRule.description}`);
      }
      for await (const message of await this.open(jobId, caller, left.signal)) {
        if (client.readyState !== WebSocket.OPEN) {
          return;
        }
        await send(client, message);
        if (message.event === 'error') {
          client.close(4000 + message.data.status, closeReason(message.data.message));
          return;
        }
      }
      client.close(NORMAL_CLOSURE, 'job ended');
    } catch (error) {
      const { status, message } = error instanceof StreamRefusal ? { status: error.status, message: error.message } : streamErrorOf(error);
      if (client.readyState === WebSocket.OPEN) {
        await send(client, { event: 'error', data: { status, message } }).catch(() => undefined);
        client.close(4000 + status, closeReason(message));
      }
      if (status >= 500) {
        this.logger.warn(`progress stream ${request.url ?? ''} ended: ${message}`);
      }
    } finally {
      left.abort();
    }
  }

  private async authenticate(request: IncomingMessage, url: URL): Promise<TenantContext> {
    const apiKey = url.searchParams.get('api_key');
    if (apiKey !== null && request.headers['x-api-key'] === undefined && request.headers.authorization === undefined) {
      request.headers['x-api-key'] = apiKey;
    }
    // The upgrade request carries the headers and URL a resolver reads; it is not an Express request otherwise.
    const resolved = await this.resolver.resolve(request);
    if (resolved === null) {
      throw new StreamRefusal(401, 'Missing or unknown API key: send X-API-Key: <key>, Authorization: Bearer <key> or ?api_key=<key>');
    }
    const { tenantId, actor } = typeof resolved === 'string' ? { tenantId: resolved, actor: undefined } : resolved;
    if (!TENANT_ID_PATTERN.test(tenantId) || (actor !== undefined && !ACTOR_PATTERN.test(actor))) {
      throw new StreamRefusal(401, 'The resolved caller is not a valid tenant id or actor');
    }
    const given = request.headers[REQUEST_ID_HEADER];
    const requestId = typeof given === 'string' && ACCEPTABLE_REQUEST_ID.test(given) ? given : randomUUID();
    return actor === undefined ? { tenantId, requestId } : { tenantId, requestId, actor };
  }
}

/** `ws://host/api/v1/ml/jobs/progress?job_id=…`: any kind of job (training, batch prediction, …), generic events. */
@WebSocketGateway({ path: JOB_PROGRESS_PATH })
export class JobProgressGateway extends ProgressGateway {
  protected readonly jobIdRule = { pattern: JOB_ID, description: '<kind>-<12 hex digits> (train-…, batch-…)' };

  constructor(
    @Inject(TENANT_RESOLVER) resolver: TenantResolver,
    private readonly jobs: JobsService,
  ) {
    super(resolver);
  }

  protected open(jobId: string, caller: TenantContext, signal: AbortSignal): Promise<AsyncIterable<StreamMessage<unknown>>> {
    return this.jobs.events(jobId, caller, signal);
  }
}

function send(client: WebSocket, message: StreamMessage<unknown>): Promise<void> {
  return new Promise((resolve, reject) => client.send(JSON.stringify(message), (error) => (error ? reject(error) : resolve())));
}

/** WebSocket close reasons are limited to 123 bytes. */
function closeReason(message: string): string {
  return Buffer.byteLength(message) <= 123 ? message : 'see the error message';
}
