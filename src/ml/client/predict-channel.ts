import { Agent, type Dispatcher, errors, Pool } from 'undici';
import { MlServiceTimeoutError } from '@app/ml/client/ml-service.errors';

/** What the ML Service answered: the status, the parsed JSON body (undefined when empty or not JSON), its Retry-After and Server-Timing, if any. */
export interface JsonAnswer {
  status: number;
  body: unknown;
  retryAfter?: string;
  serverTiming?: string;
}

/** Retry-After in delta-seconds, the only form the ML Service sends; anything else is not passed on. */
const RETRY_AFTER_SECONDS = /^\d{1,9}$/;

/** Socket failures of undici worth another attempt: the ML Service restarting or a dropped keep-alive. */
const SOCKET_FAILURE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET', 'UND_ERR_CLOSED']);

export function isSocketFailure(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && SOCKET_FAILURE_CODES.has(code);
}

export function socketFailureReason(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : error instanceof Error ? error.message : String(error);
}

/**
 * The predict hot path's keep-alive connections to the ML Service and to Ray Serve replicas, on undici.
 *
 * Every other call goes through axios and rxjs (retries, deadlines, one error mapping), which cost
 * 2.0 ms of the AI Service's CPU per single-row predict on the 2-core machine against 1.0 ms for
 * undici's pool (bench/serving): more than the whole model evaluation, and the difference between
 * holding 200 predictions a second and not.
 */
export class PredictChannel {
  private readonly pool: Pool;
  private readonly basePath: string;
  /** keep-alive pools to Ray Serve replicas answering HTTP themselves, one per origin */
  private readonly replicas: Agent;

  constructor(mlServiceUrl: string, connections = 64) {
    const url = new URL(mlServiceUrl);
    this.pool = new Pool(url.origin, { connections });
    this.replicas = new Agent({ connections });
    // ML_SERVICE_URL may carry a path prefix (behind a gateway); requests go below it
    this.basePath = url.pathname.replace(/\/$/, '');
  }

  /**
   * POSTs `body` as JSON to the ML Service. No answer head within `timeoutMs` of sending (or a body
   * pausing that long) is an MlServiceTimeoutError; socket failures keep undici's code.
   */
  postJson(path: string, headers: Record<string, string>, body: unknown, timeoutMs: number): Promise<JsonAnswer> {
    return this.post(this.pool, undefined, this.basePath + path, headers, body, timeoutMs);
  }

  /** POSTs `body` as JSON to an absolute URL (a replica's), with the same answer and errors as postJson. */
  postJsonTo(url: string, headers: Record<string, string>, body: unknown, timeoutMs: number): Promise<JsonAnswer> {
    const target = new URL(url);
    return this.post(this.replicas, target.origin, target.pathname, headers, body, timeoutMs);
  }

  private async post(
    dispatcher: Dispatcher,
    origin: string | undefined,
    path: string,
    headers: Record<string, string>,
    body: unknown,
    timeoutMs: number,
  ): Promise<JsonAnswer> {
    try {
      // undici's own per-request timers, not AbortSignal.timeout: that timer cannot be cleared, so
      // each prediction kept a signal alive for the whole deadline (30 s by default), 6,000 of
      // them at 200 req/s, for the garbage collector to carry. The headers timer is the
      // connection parser's, re-armed per request.
      const answer = await dispatcher.request({
        origin,
        method: 'POST',
        path,
        headers: { ...headers, 'content-type': 'application/json' },
        body: predictBodyJson(body),
        headersTimeout: timeoutMs,
        bodyTimeout: timeoutMs,
      });
      const text = await answer.body.text();
      const retryAfter = answer.headers['retry-after'];
      const serverTiming = answer.headers['server-timing'];
      return {
        status: answer.statusCode,
        body: parseJson(text),
        retryAfter: typeof retryAfter === 'string' && RETRY_AFTER_SECONDS.test(retryAfter) ? retryAfter : undefined,
        serverTiming: typeof serverTiming === 'string' ? serverTiming : undefined,
      };
    } catch (error) {
      if (error instanceof errors.HeadersTimeoutError || error instanceof errors.BodyTimeoutError) {
        throw new MlServiceTimeoutError(timeoutMs);
      }
      throw error;
    }
  }

  async close(): Promise<void> {
    await Promise.all([this.pool.close(), this.replicas.close()]);
  }
}

/** Stands in for a non-finite number during serialisation; the NUL makes it a string no client sends (JSON escapes it). */
const NON_FINITE_MARK = '\u0000non-finite:';
const NON_FINITE_TOKEN = /"\\u0000non-finite:(-?Infinity|NaN)"/g;

/**
 * The predict body as JSON text, non-finite numbers kept as the literals `Infinity`, `-Infinity`
 * and `NaN`. JSON.parse reads an out-of-range literal such as `-1e400` as -Infinity and
 * JSON.stringify would then write `null`, which the model scores as a missing value; written as
 * literals, they reach the ML Service, which owns the input checks and answers 422 naming the
 * field (`must be a finite number`), as it does for a client that calls it directly.
 */
export function predictBodyJson(body: unknown): string {
  let marked = false;
  const text = JSON.stringify(body, (_key, value: unknown) => {
    if (typeof value === 'number' && !Number.isFinite(value)) {
      marked = true;
      return NON_FINITE_MARK + String(value);
    }
    return value;
  });
  return marked ? text.replace(NON_FINITE_TOKEN, '$1') : text;
}

function parseJson(text: string): unknown {
  try {
    return text === '' ? undefined : JSON.parse(text);
  } catch {
    return undefined;
  }
}
