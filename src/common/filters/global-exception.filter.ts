import { ArgumentsHost, Catch, ExceptionFilter, HttpException, HttpStatus, Logger } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { HttpRequest } from '@app/common/http/node-http';
import { requestIdOf } from '@app/common/request-id/request-id.middleware';
import { ErrorResponseDto } from '@app/common/filters/error-response.dto';
import { FieldErrorsException } from '@app/common/filters/field-errors.exception';
import { RetryLaterException } from '@app/common/filters/retry-later.exception';

/** Nest's own errors carry `message` as a string or, from the ValidationPipe, a list of strings. */
export function messageOf(exception: HttpException): string {
  const body = exception.getResponse();
  if (typeof body === 'string') {
    return body;
  }
  const message = (body as { message?: unknown }).message;
  if (Array.isArray(message)) {
    return message.map(String).join('; ');
  }
  return typeof message === 'string' ? message : exception.message;
}

/**
 * A request the HTTP layer refused before any route ran, with its own 4xx status: Fastify's
 * `FST_ERR_*` errors (a body past the size limit is 413, a broken Content-Length 400) and
 * http-errors' `expose`d ones (Express's body-parser). Their messages are written for the caller.
 */
function httpLayerRefusal(exception: unknown): { statusCode: number; message: string } | undefined {
  if (!(exception instanceof Error)) {
    return undefined;
  }
  const { statusCode, code, expose } = exception as Error & { statusCode?: unknown; code?: unknown; expose?: unknown };
  const fromHttpLayer = (typeof code === 'string' && code.startsWith('FST_')) || expose === true;
  return fromHttpLayer && typeof statusCode === 'number' && statusCode >= 400 && statusCode < 500 ? { statusCode, message: exception.message } : undefined;
}

/**
 * The status and body of the error answer to `exception`: an HttpException keeps its status and
 * message (and its field list when it has one); anything else is logged with its stack, never
 * sent, and becomes a generic 500. Shared by every exception filter, so all routes answer alike.
 * `retryAfter` is the Retry-After header (seconds) of a RetryLaterException.
 */
export function errorAnswer(exception: unknown, request: HttpRequest & { originalUrl?: string }, logger: Logger): { status: number; body: ErrorResponseDto; retryAfter?: string } {
  const body: ErrorResponseDto = { message: 'Internal server error', request_id: requestIdOf(request) };
  const refused = httpLayerRefusal(exception);
  if (refused !== undefined) {
    return { status: refused.statusCode, body: { ...body, message: refused.message } };
  }
  if (!(exception instanceof HttpException)) {
    const stack = exception instanceof Error ? exception.stack : String(exception);
    logger.error(`${request.method} ${request.originalUrl ?? request.url} failed request_id=${body.request_id}`, stack);
    return { status: HttpStatus.INTERNAL_SERVER_ERROR, body };
  }
  body.message = messageOf(exception);
  if (exception instanceof FieldErrorsException && exception.fieldErrors.length > 0) {
    body.errors = exception.fieldErrors;
  }
  const retryAfter = exception instanceof RetryLaterException ? exception.retryAfterSeconds : undefined;
  return { status: exception.getStatus(), body, retryAfter };
}

/**
 * Sends an error answer through the HTTP adapter (Express or Fastify), unless the response has
 * already begun (a stream that failed midway ends on its own terms).
 */
export function sendErrorAnswer(adapterHost: HttpAdapterHost, host: ArgumentsHost, answer: { status: number; body: unknown; retryAfter?: string }): void {
  const { httpAdapter } = adapterHost;
  const response: unknown = host.switchToHttp().getResponse();
  if (httpAdapter.isHeadersSent(response)) {
    return;
  }
  if (answer.retryAfter !== undefined) {
    httpAdapter.setHeader(response, 'Retry-After', answer.retryAfter);
  }
  httpAdapter.reply(response, answer.body, answer.status);
}

/** Every error leaves as `{ message, errors?, request_id }` (errorAnswer). */
@Catch()
export class GlobalExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger(GlobalExceptionFilter.name);

  constructor(private readonly adapterHost: HttpAdapterHost) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    sendErrorAnswer(this.adapterHost, host, errorAnswer(exception, host.switchToHttp().getRequest<HttpRequest>(), this.logger));
  }
}
