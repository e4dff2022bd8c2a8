import { ArgumentsHost, Catch, ExceptionFilter, HttpException, HttpStatus, Logger } from '@nestjs/common';
import type { Request, Response } from 'express';
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
 * The status and body of the error answer to `exception`: an HttpException keeps its status and
 * message (and its field list when it has one); anything else is logged with its stack, never
 * sent, and becomes a generic 500. Shared by every exception filter, so all routes answer alike.
 * `retryAfter` is the Retry-After header (seconds) of a RetryLaterException.
 */
export function errorAnswer(exception: unknown, request: Request, logger: Logger): { status: number; body: ErrorResponseDto; retryAfter?: string } {
  const body: ErrorResponseDto = { message: 'Internal server error', request_id: requestIdOf(request) };
  if (!(exception instanceof HttpException)) {
    const stack = exception instanceof Error ? exception.stack : String(exception);
    logger.error(`${request.method} ${request.originalUrl} failed request_id=${body.request_id}`, stack);
    return { status: HttpStatus.INTERNAL_SERVER_ERROR, body };
  }
  body.message = messageOf(exception);
  if (exception instanceof FieldErrorsException && exception.fieldErrors.length > 0) {
    body.errors = exception.fieldErrors;
  }
  const retryAfter = exception instanceof RetryLaterException ? exception.retryAfterSeconds : undefined;
  return { status: exception.getStatus(), body, retryAfter };
}

/** Every error leaves as `{ message, errors?, request_id }` (errorAnswer). */
@Catch()
export class GlobalExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger(GlobalExceptionFilter.name);

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const response = http.getResponse<Response>();
    const { status, body, retryAfter } = errorAnswer(exception, http.getRequest<Request>(), this.logger);
    if (!response.headersSent) {
      if (retryAfter !== undefined) {
        response.setHeader('Retry-After', retryAfter);
      }
      response.status(status).json(body);
    }
  }
}
