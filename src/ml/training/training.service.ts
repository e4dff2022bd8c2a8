import { Inject, Injectable } from '@nestjs/common';
import { FieldErrorsException } from '@app/common/filters/field-errors.exception';
import type { TenantContext } from '@app/common/tenant/tenant-context';
import { MLServiceClient } from '@app/ml/client/ml-service.client';
import type { AlgorithmSpec, ArtifactContent, DatasetRef, TrainingEvent, TrainingJob, TrainingSubmission } from '@app/ml/client/ml-service.types';
import { chartMediaType } from '@app/ml/charts/chart-media-type';
import { ML_OPTIONS, type ResolvedMlModuleOptions } from '@app/ml/ml-module-options';
import type { CreateTrainingJobDto, DatasetDto, TrainingDatasetDto, WarehouseSourceDto } from '@app/ml/training/dto/create-training-job.dto';
import type { TrainingChartListResponseDto } from '@app/ml/training/dto/training-chart.dto';
import type { AlgorithmListResponseDto } from '@app/ml/training/dto/algorithm-response.dto';
import type { ListJobsQueryDto } from '@app/ml/jobs/dto/list-jobs-query.dto';
import type { TrainingJobListResponseDto, TrainingJobResponseDto } from '@app/ml/training/dto/training-job-response.dto';

/**
 * Seed 001's workflow: validate against the schema context, submit, monitor, cancel. The training
 * rules (catalog, aliases, hyperparameters, dataset checks) have one owner, the ML Service: this
 * service asks its validate endpoint instead of keeping a copy.
 */
@Injectable()
export class TrainingService {
  /** The catalog changes only with an ML Service release; one fetch per minute is plenty. */
  private catalog?: { expiresAt: number; algorithms: Promise<AlgorithmSpec[]> };

  constructor(
    private readonly mlService: MLServiceClient,
    @Inject(ML_OPTIONS) private readonly options: ResolvedMlModuleOptions,
  ) {}

  /**
   * Validates the configuration on the ML Service (every field problem in one 422, named as this
   * API names fields), then submits it. `idempotencyKey` names the logical submission: a retried
   * call (by us or by the caller with the same key) never starts a second job.
   */
  async submit(config: CreateTrainingJobDto, caller: TenantContext, idempotencyKey: string): Promise<TrainingJobResponseDto> {
    const submission = toTrainingSubmission(config);
    try {
      await this.mlService.validateTrainingConfig(caller, submission);
    } catch (error) {
      throw error instanceof FieldErrorsException ? withOurFieldNames(error) : error;
    }
    return toTrainingJobResponse(await this.mlService.submitTrainingJob(caller, submission, idempotencyKey));
  }

  async get(jobId: string, caller: TenantContext): Promise<TrainingJobResponseDto> {
    return toTrainingJobResponse(await this.mlService.getTrainingJob(caller, jobId));
  }

  async list(query: ListJobsQueryDto, caller: TenantContext): Promise<TrainingJobListResponseDto> {
    const jobs = await this.mlService.listTrainingJobs(caller, { status: query.status, limit: query.limit });
    return { jobs: jobs.map(toTrainingJobResponse) };
  }

  async cancel(jobId: string, caller: TenantContext): Promise<TrainingJobResponseDto> {
    return toTrainingJobResponse(await this.mlService.cancelTrainingJob(caller, jobId));
  }

  async listCharts(jobId: string, caller: TenantContext): Promise<TrainingChartListResponseDto> {
    const { job_id, charts } = await this.mlService.listTrainingCharts(caller, jobId);
    return { job_id, charts: charts.map(({ name, title, media_types }) => ({ name, title, media_types })) };
  }

  /** The PNG or the Vega-Lite spec, as `accept` asks; 406 before any call when it allows neither. */
  async getChart(jobId: string, name: string, accept: string | undefined, caller: TenantContext): Promise<ArtifactContent> {
    return await this.mlService.getTrainingChart(caller, jobId, name, chartMediaType(accept));
  }

  /** The catalog the submissions are validated against, for callers choosing what to set. */
  async listAlgorithms(caller: TenantContext): Promise<AlgorithmListResponseDto> {
    const algorithms = await this.algorithms(caller);
    return {
      algorithms: algorithms.map((algorithm) => ({
        name: algorithm.name,
        task_types: algorithm.task_types,
        framework: algorithm.framework,
        hyperparameters: algorithm.hyperparameters.map((parameter) => ({
          name: parameter.name,
          type: parameter.type,
          minimum: parameter.minimum ?? null,
          maximum: parameter.maximum ?? null,
          exclusive_minimum: parameter.exclusive_minimum,
          choices: parameter.choices ?? null,
          default: parameter.default,
          description: parameter.description,
          min_items: parameter.min_items ?? null,
          max_items: parameter.max_items ?? null,
          nullable: parameter.nullable ?? false,
        })),
      })),
    };
  }

  /**
   * The job's events from its current state to its end, for the SSE route and the WebSocket
   * gateway. Rejects like `get` (404 for another tenant's job) before anything is streamed.
   */
  async events(jobId: string, caller: TenantContext, signal: AbortSignal): Promise<AsyncIterable<TrainingEvent>> {
    return this.mlService.openTrainingEvents(caller, jobId, signal);
  }

  private algorithms(caller: TenantContext): Promise<AlgorithmSpec[]> {
    const now = Date.now();
    if (this.catalog === undefined || this.catalog.expiresAt <= now) {
      const algorithms = this.mlService.listAlgorithms(caller);
      this.catalog = { expiresAt: now + this.options.catalogCacheTtlMs, algorithms };
      // A failed fetch must not be cached: the next request asks again.
      algorithms.catch(() => {
        if (this.catalog?.algorithms === algorithms) {
          this.catalog = undefined;
        }
      });
    }
    return this.catalog.algorithms;
  }
}

/** The ML Service's TrainingConfig of a body. Tenant limits are the ML Service's own configuration and never travel with it. */
export function toTrainingSubmission(config: CreateTrainingJobDto): TrainingSubmission {
  return {
    name: config.name,
    algorithm: config.algorithm,
    task_type: config.task_type,
    dataset: toDatasetRef(config.dataset),
    target_column: config.target_column,
    feature_columns: config.feature_columns,
    split: config.split,
    hyperparameters: config.hyperparameters,
    time_column: config.time_column,
    horizon: config.horizon,
    frequency: config.frequency,
    resources: config.resources,
    scaling: config.scaling,
  };
}

/**
 * The ML Service names list items `feature_columns.1`; this API (its validation pipe) names them
 * `feature_columns[1]`. Messages are the ML Service's own.
 */
export function withOurFieldNames(error: FieldErrorsException): FieldErrorsException {
  if (error.fieldErrors.length === 0) {
    return error;
  }
  const fieldErrors = error.fieldErrors.map(({ field, message }) => ({ field: field.replace(/\.(\d+)(?=\.|$)/g, '[$1]'), message }));
  return new FieldErrorsException(error.getStatus(), fieldErrors);
}

/** The ML Service never takes a tenant from a body: the tenant travels only as X-Tenant-ID. */
function toDatasetRef(dataset: TrainingDatasetDto): TrainingSubmission['dataset'] {
  if (dataset.source === 'feature_set') {
    const { name, version, entities, event_timestamp_column } = dataset;
    return { source: 'feature_set', name, version, entities: entities && toWarehouseSource(entities), event_timestamp_column };
  }
  return toWarehouseSource(dataset as DatasetDto);
}

function toWarehouseSource(dataset: WarehouseSourceDto): DatasetRef {
  return dataset.source === 'sql' ? { source: 'sql', query: dataset.query } : { source: 'table', table: dataset.table };
}

/** Seed 001's result shape; an explicit copy so the AI Service's API changes only on purpose. */
export function toTrainingJobResponse(job: TrainingJob): TrainingJobResponseDto {
  return {
    job_id: job.job_id,
    tenant_id: job.tenant_id,
    name: job.name,
    algorithm: job.algorithm,
    task_type: job.task_type,
    status: job.status,
    progress: job.progress,
    created_at: job.created_at,
    started_at: job.started_at,
    finished_at: job.finished_at,
    error: job.error,
    metrics: job.metrics,
    feature_importance: job.feature_importance,
    model_artifact_id: job.model_artifact_id,
    forecast: job.forecast ?? null,
    training_duration_seconds: job.training_duration_seconds,
    data_summary: job.data_summary,
    mlflow_run_id: job.mlflow_run_id,
    tuned_by: job.tuned_by ?? null,
    feature_set: job.feature_set ?? null,
    registered_version: job.registered_version ?? null,
  };
}
