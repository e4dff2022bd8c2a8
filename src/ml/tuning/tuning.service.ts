import { Injectable } from '@nestjs/common';
import { FieldErrorsException } from '@app/common/filters/field-errors.exception';
import type { TenantContext } from '@app/common/tenant/tenant-context';
import { MLServiceClient } from '@app/ml/client/ml-service.client';
import type { ArtifactContent, TuningFromBaseSubmission, TuningSubmission } from '@app/ml/client/ml-service.types';
import { chartMediaType } from '@app/ml/charts/chart-media-type';
import type { TrainingJobResponseDto } from '@app/ml/training/dto/training-job-response.dto';
import { toTrainingJobResponse, toTrainingSubmission, withOurFieldNames } from '@app/ml/training/training.service';
import type { CreateTuningSweepDto } from '@app/ml/tuning/dto/create-tuning-sweep.dto';
import type { CreateTuningSweepFromBaseDto } from '@app/ml/tuning/dto/create-tuning-sweep-from-base.dto';
import type { ListJobsQueryDto } from '@app/ml/jobs/dto/list-jobs-query.dto';
import type { TuningChartListResponseDto } from '@app/ml/tuning/dto/tuning-chart.dto';
import type { TrainBestDto } from '@app/ml/tuning/dto/train-best.dto';
import type { UpdateTuningSweepDto } from '@app/ml/tuning/dto/update-tuning-sweep.dto';
import {
  type DefaultSearchSpaceListResponseDto,
  toTuningSweepResponse,
  type TuningSweepListResponseDto,
  type TuningSweepResponseDto,
} from '@app/ml/tuning/dto/tuning-sweep-response.dto';

/**
 * Hyperparameter sweeps: the ML Service owns the search rules and runs the sweep as a job of its runner (quota,
 * cancel, progress through the jobs gateway); this side validates the body's shape, adds the tenant's limits
 * and forwards.
 */
@Injectable()
export class TuningService {
  constructor(
    private readonly mlService: MLServiceClient,
  ) {}

  /** 422 from the ML Service names the field as this API does; `idempotencyKey` as for a training job. */
  async submit(body: CreateTuningSweepDto, caller: TenantContext, idempotencyKey: string): Promise<TuningSweepResponseDto> {
    const submission: TuningSubmission = {
      ...toTrainingSubmission(body),
      ...sweepSettings(body),
    };
    try {
      return toTuningSweepResponse(await this.mlService.submitTuningSweep(caller, submission, idempotencyKey));
    } catch (error) {
      throw error instanceof FieldErrorsException ? withOurFieldNames(error) : error;
    }
  }

  /** The base (job or registered version) is resolved by the ML Service, within the caller's tenant. */
  async submitFromBase(body: CreateTuningSweepFromBaseDto, caller: TenantContext, idempotencyKey: string): Promise<TuningSweepResponseDto> {
    const submission: TuningFromBaseSubmission = {
      base_job_id: body.base_job_id,
      base_model: body.base_model ? { model_name: body.base_model.model_name, version: body.base_model.version } : undefined,
      name: body.name,
      hyperparameters: body.hyperparameters,
      ...sweepSettings(body),
    };
    try {
      return toTuningSweepResponse(await this.mlService.submitTuningSweepFromBase(caller, submission, idempotencyKey));
    } catch (error) {
      throw error instanceof FieldErrorsException ? withOurFieldNames(error) : error;
    }
  }

  async get(sweepId: string, caller: TenantContext): Promise<TuningSweepResponseDto> {
    return toTuningSweepResponse(await this.mlService.getTuningSweep(caller, sweepId));
  }

  async list(query: ListJobsQueryDto, caller: TenantContext): Promise<TuningSweepListResponseDto> {
    const sweeps = await this.mlService.listTuningSweeps(caller, { status: query.status, limit: query.limit });
    return { sweeps: sweeps.map(toTuningSweepResponse) };
  }

  /** The ML Service applies max_concurrent_trials and num_samples live (its 409/422 passed on). */
  async update(sweepId: string, body: UpdateTuningSweepDto, caller: TenantContext): Promise<TuningSweepResponseDto> {
    const update = { max_concurrent_trials: body.max_concurrent_trials, num_samples: body.num_samples };
    return toTuningSweepResponse(await this.mlService.updateTuningSweep(caller, sweepId, update));
  }

  async cancel(sweepId: string, caller: TenantContext): Promise<TuningSweepResponseDto> {
    return toTuningSweepResponse(await this.mlService.cancelTuningSweep(caller, sweepId));
  }

  async listSpaces(caller: TenantContext): Promise<DefaultSearchSpaceListResponseDto> {
    const spaces = await this.mlService.listDefaultSearchSpaces(caller);
    return { spaces: spaces.map(({ algorithm, search_space }) => ({ algorithm, search_space })) };
  }

  async listCharts(sweepId: string, caller: TenantContext): Promise<TuningChartListResponseDto> {
    const { sweep_id, charts } = await this.mlService.listTuningCharts(caller, sweepId);
    return { sweep_id, charts: charts.map(({ name, title, media_types }) => ({ name, title, media_types })) };
  }

  /** The PNG or the Vega-Lite spec, as `accept` asks; 406 before any call when it allows neither. */
  async getChart(sweepId: string, name: string, accept: string | undefined, caller: TenantContext): Promise<ArtifactContent> {
    return await this.mlService.getTuningChart(caller, sweepId, name, chartMediaType(accept));
  }

  /** A normal training job of the best trial (GET /api/v1/ml/train/:job_id follows it); registered when asked. */
  async trainBest(sweepId: string, body: TrainBestDto, caller: TenantContext, idempotencyKey: string): Promise<TrainingJobResponseDto> {
    const request = { trial_id: body.trial_id, name: body.name, register: body.register ? { model_name: body.register.model_name } : undefined };
    return toTrainingJobResponse(await this.mlService.trainBestTrial(caller, sweepId, request, idempotencyKey));
  }
}

/** What a sweep adds to its training configuration, the same whether it is given whole or starts from a base. */
function sweepSettings(body: CreateTuningSweepDto | CreateTuningSweepFromBaseDto) {
  return {
    search_space: body.search_space,
    search: body.search,
    scheduler: body.scheduler,
    metric: body.metric,
    mode: body.mode,
    validation_size: body.validation_size,
    num_samples: body.num_samples,
    max_concurrent_trials: body.max_concurrent_trials,
    time_budget_s: body.time_budget_s,
    random_state: body.random_state,
  };
}
