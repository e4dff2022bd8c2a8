import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Request, RequestHandler } from 'express';
import { text } from 'express';

/**
 * Largest JSON body: a predict or feedback call may carry 10,000 records (the ML Service's own
 * limit), a few hundred bytes each; Express's default of 100 kB would refuse a few hundred.
 */
export const MAX_JSON_BODY_BYTES = 16 * 1024 * 1024;

// A JSON string (skipped whole, escapes included) or one of the three literals Python's json
// module writes for non-finite floats.
const STRING_OR_NON_FINITE = /"(?:[^"\\]|\\.)*"|(-?Infinity|NaN)/g;

/**
 * Parses JSON bodies like Express's JSON parser (and bodies without a Content-Type), and also accepts the literals `NaN`, `Infinity`
 * and `-Infinity` as numbers, as Python's `json` (and so `requests.post(json=...)`) writes them and
 * as the ML Service (FastAPI) reads them. Without it a body with `NaN` is a 400 "malformed JSON"
 * here but a 422 naming the field on the ML Service; with it, the predict body reaches the ML
 * Service's input checks (see predict-channel.ts), which answer the same 422 on both services.
 *
 * Written here because no well-kept parser reads exactly JSON plus these three literals (JSON5
 * also reads comments, single quotes and unquoted keys, which this API must keep refusing).
 * Strict `JSON.parse` runs first; only a body it refuses is scanned for the literals, each replaced
 * by a per-request marker string that the reviver turns back into the number. A body still not
 * JSON fails with body-parser's own error shape (status 400, type `entity.parse.failed`).
 */
export function jsonBodyParser(limit: number = MAX_JSON_BODY_BYTES): RequestHandler {
  const readText = text({ type: isJsonOrUntyped, limit, defaultCharset: 'utf-8' });
  return (request, response, next) => {
    readText(request, response, (error?: unknown) => {
      if (error !== undefined && error !== null) {
        next(error);
        return;
      }
      if (typeof request.body !== 'string') {
        next();
        return;
      }
      try {
        request.body = parseJson(request.body);
        next();
      } catch (parseError) {
        next(Object.assign(parseError as Error, { status: 400, statusCode: 400, expose: true, type: 'entity.parse.failed' }));
      }
    });
  };
}

/**
 * A body declared JSON, or a body with no Content-Type at all: stock Open Inference Protocol
 * clients (tritonclient) post their JSON without one, and FastAPI reads such a body as JSON too.
 * (Only requests that have a body reach this check.)
 */
function isJsonOrUntyped(request: IncomingMessage): boolean {
  const contentType = request.headers['content-type'];
  return contentType === undefined || contentType === '' || (request as Request).is(['application/json', 'application/*+json']) !== false;
}

/** JSON text as a value; `NaN`, `Infinity` and `-Infinity` outside strings read as numbers. */
export function parseJson(body: string): unknown {
  if (body.trim() === '') {
    return {};
  }
  try {
    return JSON.parse(body);
  } catch (strictError) {
    const mark = `\u0000${randomUUID()}:`;
    let found = false;
    const marked = body.replace(STRING_OR_NON_FINITE, (match: string, literal: string | undefined) => {
      if (literal === undefined) {
        return match;
      }
      found = true;
      return JSON.stringify(mark + literal);
    });
    if (!found) {
      throw strictError;
    }
    try {
      return JSON.parse(marked, (_key, value: unknown) => (typeof value === 'string' && value.startsWith(mark) ? Number(value.slice(mark.length)) : value));
    } catch {
      throw strictError;
    }
  }
}
