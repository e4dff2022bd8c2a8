import { ArgumentsHost, Catch, ExceptionFilter, HttpException, HttpStatus, Logger } from '@nestjs/common';
import type { Request, Response } from 'express';
import { requestIdOf } from '@app/common/request-id/request-id.middleware';
import { ErrorResponseDto } from '@app/common/filters/error-response.dto';
import { FieldErrorsException } from '@app/common/filters/field-errors.exception';

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
 * Every error leaves as `{ message, errors?, request_id }`. Stacks are logged, never sent:
 * unknown errors become a generic 500.
 */
@Catch()
export class GlobalExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger(GlobalExceptionFilter.name);

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const request = http.getRequest<Request>();
    const response = http.getResponse<Response>();
    const requestId = requestIdOf(request);

    const body: ErrorResponseDto = { message: 'Internal server error', request_id: requestId };
    let status: number = HttpStatus.INTERNAL_SERVER_ERROR;
    if (exception instanceof HttpException) {
      status = exception.getStatus();
      body.message = messageOf(exception);
      if (exception instanceof FieldErrorsException && exception.fieldErrors.length > 0) {
        body.errors = exception.fieldErrors;
      }
    } else {
      const stack = exception instanceof Error ? exception.stack : String(exception);
      this.logger.error(`${request.method} ${request.originalUrl} failed request_id=${requestId}`, stack);
    }
    if (!response.headersSent) {
      response.status(status).json(body);
    }
  }
}
