import { HttpService } from '@nestjs/axios';
import { HttpException, HttpStatus, Inject, Injectable, Logger } from '@nestjs/common';
import { type AxiosRequestConfig, isAxiosError, type Method } from 'axios';
import { catchError, defer, firstValueFrom, map, Observable, tap, throwError } from 'rxjs';
import { FieldError, FieldErrorsException } from '@app/common/filters/field-errors.exception';
import { isConnectionError, MlServiceTimeoutError, reasonOf, statusOf } from '@app/ml/client/ml-service.errors';
import type {
  AlgorithmSpec,
  DatasetRef,
  DatasetSchema,
  TrainingJob,
  TrainingJobList,
  TrainingJobStatus,
  TrainingSubmission,
} from '@app/ml/client/ml-service.types';
import { perAttemptTimeout } from '@app/ml/client/operators/per-attempt-timeout.operator';
import { retryTransient } from '@app/ml/client/operators/retry-transient.operator';
import { ML_OPTIONS, type ResolvedMlModuleOptions } from '@app/ml/ml-module-options';

/** Who a call is made for; travels as X-Tenant-ID and X-Request-ID on every request. */
export interface MlCallContext {
  tenantId: string;
  requestId: string;
}

export interface MlServiceRequest {
  method: Method;
  path: string;
  context: MlCallContext;
  body?: unknown;
  params?: Record<string, string | number | undefined>;
  /** Makes a POST safe to repeat: the ML Service returns the same job for the same key. */
  idempotencyKey?: string;
  /** A POST that only reads (schema introspection), so repeating it is harmless. */
  readOnly?: boolean;
}

/** Statuses whose meaning belongs to the caller's request, so the caller sees them unchanged. */
const PASS_THROUGH_STATUSES = new Set([400, 404, 409, 422, 429]);
const REPEATABLE_METHODS = new Set(['GET', 'HEAD', 'DELETE']);

/**
 * The only way into the ML Service. Each call gets a per-attempt deadline, bounded retries for
 * transient failures of repeatable requests, and one mapping from ML Service failures to
 * AI Service errors (docs/contract.md).
 */
@Injectable()
export class MLServiceClient {
  private readonly logger = new Logger(MLServiceClient.name);

  constructor(
    private readonly http: HttpService,
    @Inject(ML_OPTIONS) private readonly options: ResolvedMlModuleOptions,
  ) {}

  getDatasetSchema(context: MlCallContext, dataset: DatasetRef): Promise<DatasetSchema> {
    return this.request({ method: 'POST', path: '/api/v1/datasets/schema', context, body: dataset, readOnly: true });
  }

  listAlgorithms(context: MlCallContext): Promise<AlgorithmSpec[]> {
    return this.request({ method: 'GET', path: '/api/v1/training/algorithms', context });
  }

  /** `idempotencyKey` identifies the logical submission; every retry reuses it. */
  submitTrainingJob(context: MlCallContext, submission: TrainingSubmission, idempotencyKey: string): Promise<TrainingJob> {
    return this.request({ method: 'POST', path: '/api/v1/training/submit', context, body: submission, idempotencyKey });
  }

  getTrainingJob(context: MlCallContext, jobId: string): Promise<TrainingJob> {
    return this.request({ method: 'GET', path: `/api/v1/training/jobs/${encodeURIComponent(jobId)}`, context });
  }

  listTrainingJobs(context: MlCallContext, filter: { status?: TrainingJobStatus; limit?: number }): Promise<TrainingJobList> {
    return this.request({ method: 'GET', path: '/api/v1/training/jobs', context, params: filter });
  }

  cancelTrainingJob(context: MlCallContext, jobId: string): Promise<TrainingJob> {
    return this.request({ method: 'DELETE', path: `/api/v1/training/jobs/${encodeURIComponent(jobId)}`, context });
  }

  /**
   * The building block of the typed methods above, for calls that have none yet. A POST is retried
   * only with an `idempotencyKey` (or `readOnly`), because the ML Service may have acted on it.
   */
  request<T>(request: MlServiceRequest): Promise<T> {
    return firstValueFrom(this.call$<T>(request));
  }

  private call$<T>(request: MlServiceRequest): Observable<T> {
    const url = `${this.options.mlServiceUrl}${request.path}`;
    const method = request.method.toUpperCase();
    const headers: Record<string, string> = {
      'X-Tenant-ID': request.context.tenantId,
      'X-Request-ID': request.context.requestId,
    };
    if (request.idempotencyKey !== undefined) {
      headers['Idempotency-Key'] = request.idempotencyKey;
    }
    const config: AxiosRequestConfig = { method, url, headers, data: request.body, params: request.params };
    let attempt = 0;
    return defer(() => {
      attempt += 1;
      const thisAttempt = attempt;
      return this.http.request<T>(config).pipe(
        perAttemptTimeout(this.options.timeoutMs),
        tap({
          error: (error: unknown) =>
            this.logger.warn(
              `${method} ${url} attempt ${thisAttempt}/${this.options.maxAttempts} failed: ${reasonOf(error)} request_id=${request.context.requestId}`,
            ),
        }),
      );
    }).pipe(
      retryTransient({
        maxAttempts: this.options.maxAttempts,
        baseDelayMs: this.options.retryBaseDelayMs,
        maxDelayMs: this.options.retryMaxDelayMs,
        safeToRepeat: REPEATABLE_METHODS.has(method) || request.idempotencyKey !== undefined || request.readOnly === true,
      }),
      map((response) => response.data),
      catchError((error: unknown) => throwError(() => this.toPublicError(error))),
    );
  }

  private toPublicError(error: unknown): unknown {
    if (error instanceof MlServiceTimeoutError) {
      return new HttpException(
        `ML Service did not answer within ${formatSeconds(error.timeoutMs)} s`,
        HttpStatus.GATEWAY_TIMEOUT,
      );
    }
    if (isConnectionError(error)) {
      return new HttpException(
        `ML Service unreachable at ${this.options.mlServiceUrl}: ${reasonOf(error)}`,
        HttpStatus.SERVICE_UNAVAILABLE,
      );
    }
    const status = statusOf(error);
    if (status !== undefined && isAxiosError(error)) {
      const { detail, fieldErrors } = readErrorBody(error.response?.data);
      if (PASS_THROUGH_STATUSES.has(status)) {
        return new FieldErrorsException(status, fieldErrors, detail ?? `ML Service answered ${status}`);
      }
      return new HttpException(`ML Service failed: ${detail ?? `HTTP ${status}`}`, HttpStatus.BAD_GATEWAY);
    }
    if (isAxiosError(error)) {
      return new HttpException(`ML Service call failed: ${reasonOf(error)}`, HttpStatus.BAD_GATEWAY);
    }
    // Not an HTTP failure but a bug: left as is, so the global filter logs its stack and answers 500.
    return error;
  }
}

function textOf(value: unknown): string {
  return typeof value === 'string' ? value : value === undefined ? '' : JSON.stringify(value);
}

function formatSeconds(milliseconds: number): string {
  return Number.isInteger(milliseconds / 1000) ? String(milliseconds / 1000) : (milliseconds / 1000).toFixed(1);
}

/**
 * The contract's error body is `{detail: string, errors?: [{field, message}]}`; FastAPI's own request
 * validation sends `detail: [{loc, msg}]`, which is read into the same field list.
 */
function readErrorBody(data: unknown): { detail?: string; fieldErrors: FieldError[] } {
  if (typeof data !== 'object' || data === null) {
    return { fieldErrors: [] };
  }
  const body = data as { detail?: unknown; errors?: unknown };
  const fieldErrors: FieldError[] = [];
  if (Array.isArray(body.errors)) {
    for (const entry of body.errors as { field?: unknown; message?: unknown }[]) {
      fieldErrors.push({ field: textOf(entry.field), message: textOf(entry.message) });
    }
  }
  if (typeof body.detail === 'string') {
    return { detail: body.detail, fieldErrors };
  }
  if (Array.isArray(body.detail)) {
    for (const entry of body.detail as { loc?: unknown; msg?: unknown }[]) {
      const location = Array.isArray(entry.loc) ? entry.loc.filter((part) => part !== 'body').join('.') : '';
      fieldErrors.push({ field: location, message: textOf(entry.msg) });
    }
    return { detail: fieldErrors.map((fieldError) => `${fieldError.field}: ${fieldError.message}`).join('; '), fieldErrors };
  }
  return { fieldErrors };
}
