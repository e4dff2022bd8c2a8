import { ArgumentsHost, Catch, ExceptionFilter, HttpException, HttpStatus, Logger } from '@nestjs/common';
import type { Request, Response } from 'express';
import { requestIdOf } from '@app/common/request-id/request-id.middleware';
import { FieldErrorsException } from '@app/common/filters/field-errors.exception';
import { messageOf } from '@app/common/filters/global-exception.filter';
import type { V2ErrorResponseDto } from '@app/ml/serving/v2/inference-v2.dto';

/**
 * Errors of the Open Inference Protocol routes as its clients read them: `{error: "<sentence>"}`
 * (KServe v2, "Errors"; tritonclient raises `InferenceServerException` with that text), plus the
 * field list and request id every other route gives. Status codes are those of the rest of the API.
 */
@Catch()
export class InferenceV2ExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger(InferenceV2ExceptionFilter.name);

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const request = http.getRequest<Request>();
    const response = http.getResponse<Response>();
    const requestId = requestIdOf(request);
    const body: V2ErrorResponseDto = { error: 'Internal server error', request_id: requestId };
    let status: number = HttpStatus.INTERNAL_SERVER_ERROR;
    if (exception instanceof HttpException) {
      status = exception.getStatus();
      body.error = messageOf(exception);
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
