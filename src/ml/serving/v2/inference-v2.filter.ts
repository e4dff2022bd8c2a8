import { ArgumentsHost, Catch, ExceptionFilter, Logger } from '@nestjs/common';
import type { Request, Response } from 'express';
import { errorAnswer } from '@app/common/filters/global-exception.filter';
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
    const response = http.getResponse<Response>();
    const { status, body, retryAfter } = errorAnswer(exception, http.getRequest<Request>(), this.logger);
    const { message, ...rest } = body;
    const v2: V2ErrorResponseDto = { error: message, ...rest };
    if (!response.headersSent) {
      if (retryAfter !== undefined) {
        response.setHeader('Retry-After', retryAfter);
      }
      response.status(status).json(v2);
    }
  }
}
