import { ArgumentsHost, Catch, ExceptionFilter, Logger } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { errorAnswer, sendErrorAnswer } from '@app/common/filters/global-exception.filter';
import type { HttpRequest } from '@app/common/http/node-http';
import type { V2ErrorResponseDto } from '@app/ml/serving/v2/inference-v2.dto';

/**
 * Errors of the Open Inference Protocol routes as its clients read them: `{error: "<sentence>"}`
 * (KServe v2, "Errors"; tritonclient raises `InferenceServerException` with that text), plus the
 * field list and request id every other route gives. Status codes are those of the rest of the API.
 */
@Catch()
export class InferenceV2ExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger(InferenceV2ExceptionFilter.name);

  constructor(private readonly adapterHost: HttpAdapterHost) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const { status, body, retryAfter } = errorAnswer(exception, host.switchToHttp().getRequest<HttpRequest>(), this.logger);
    const { message, ...rest } = body;
    const v2: V2ErrorResponseDto = { error: message, ...rest };
    sendErrorAnswer(this.adapterHost, host, { status, body: v2, retryAfter });
  }
}
