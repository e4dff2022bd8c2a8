import { Injectable } from '@nestjs/common';
import { FieldErrorsException } from '@app/common/filters/field-errors.exception';
import type { TenantContext } from '@app/common/tenant/tenant-context';
import { MLServiceClient } from '@app/ml/client/ml-service.client';
import type { ArtifactContent, DatasetRef, FeatureImportanceQuery, FeatureSpec, FeatureTransform } from '@app/ml/client/ml-service.types';
import { chartMediaType } from '@app/ml/charts/chart-media-type';
import type { CreateFeatureSetDto, FeatureDto, FeatureTransformDto } from '@app/ml/features/dto/create-feature-set.dto';
import type { WarehouseSourceDto } from '@app/ml/training/dto/create-training-job.dto';
import type { CreateTrainingSetDto } from '@app/ml/features/dto/create-training-set.dto';
import { type FeatureImportanceQueryDto, type FeatureImportanceResponseDto, toFeatureImportanceResponse } from '@app/ml/features/dto/feature-importance.dto';
import {
  type FeatureSetLineageResponseDto,
  type FeatureSetListResponseDto,
  type FeatureSetVersionListResponseDto,
  type FeatureSetVersionResponseDto,
  toFeatureSetLineage,
  toFeatureSetSummary,
  toFeatureSetVersionResponse,
  toTrainingSetResponse,
  type TrainingSetResponseDto,
} from '@app/ml/features/dto/feature-set-response.dto';
import { type MaterializeFeatureSetDto, type OnlineFeaturesDto, type OnlineFeaturesResponseDto, toOnlineFeaturesResponse } from '@app/ml/features/dto/online-features.dto';
import { type JobResponseDto, toJobResponse } from '@app/ml/jobs/dto/job-response.dto';
import { withOurFieldNames } from '@app/ml/training/training.service';

/**
 * Feature sets: the ML Service owns the definitions (checked against the source's schema), their immutable
 * versions in the tenant's Feast project and Feast's point-in-time joins; this side validates the body's shape
 * and forwards for the caller's tenant only.
 */
@Injectable()
export class FeaturesService {
  constructor(private readonly mlService: MLServiceClient) {}

  /** `created` says whether this call made a new version (the controller answers 201) or found it unchanged (200). */
  async define(body: CreateFeatureSetDto, caller: TenantContext): Promise<{ version: FeatureSetVersionResponseDto; created: boolean }> {
    const definition = {
      name: body.name,
      description: body.description,
      entity: { name: body.entity.name, join_keys: body.entity.join_keys },
      source: toDatasetRef(body.source),
      timestamp_column: body.timestamp_column,
      features: body.features.map(toFeatureSpec),
    };
    const { version, created } = await withFieldNames(this.mlService.createFeatureSet(caller, definition));
    return { version: toFeatureSetVersionResponse(version), created };
  }

  async list(caller: TenantContext): Promise<FeatureSetListResponseDto> {
    return { feature_sets: (await this.mlService.listFeatureSets(caller)).map(toFeatureSetSummary) };
  }

  /** The latest version when `version` is not given; 404 for a name the caller's tenant does not have. */
  async get(name: string, version: number | undefined, caller: TenantContext): Promise<FeatureSetVersionResponseDto> {
    return toFeatureSetVersionResponse(await this.mlService.getFeatureSetVersion(caller, name, version));
  }

  async listVersions(name: string, caller: TenantContext): Promise<FeatureSetVersionListResponseDto> {
    return { versions: (await this.mlService.listFeatureSetVersions(caller, name)).map(toFeatureSetVersionResponse) };
  }

  async lineage(name: string, version: number, caller: TenantContext): Promise<FeatureSetLineageResponseDto> {
    return toFeatureSetLineage(await this.mlService.getFeatureSetLineage(caller, name, version));
  }

  async createTrainingSet(name: string, version: number, body: CreateTrainingSetDto, caller: TenantContext): Promise<TrainingSetResponseDto> {
    const request = { entities: toDatasetRef(body.entities), event_timestamp_column: body.event_timestamp_column, output_table: body.output_table };
    return toTrainingSetResponse(await withFieldNames(this.mlService.createTrainingSet(caller, name, version, request)));
  }

  /** Queues a `feature_materialization` job (followed and cancelled through /api/v1/ml/jobs/{job_id}); `idempotencyKey` as for a training job. */
  async materialize(name: string, version: number, body: MaterializeFeatureSetDto, caller: TenantContext, idempotencyKey: string): Promise<JobResponseDto> {
    return toJobResponse(await this.mlService.materializeFeatureSetVersion(caller, name, version, { mode: body.mode ?? 'full' }, idempotencyKey));
  }

  /** Feast's get-online-features in the caller's project only; 409 for a version never materialised. */
  async online(body: OnlineFeaturesDto, caller: TenantContext): Promise<OnlineFeaturesResponseDto> {
    return toOnlineFeaturesResponse(await withFieldNames(this.mlService.getOnlineFeatures(caller, { features: body.features, entities: body.entities })));
  }

  /**
   * What matters for a target: the ML Service picks the model (the target's Production version, else its latest
   * registered one, else its latest completed training job; or `model_name`) and says which and why; with
   * `feature_set` it adds the profiler's association of the version's features with the target. 404 naming the
   * field that matched nothing.
   */
  async importance(query: FeatureImportanceQueryDto, caller: TenantContext): Promise<FeatureImportanceResponseDto> {
    return toFeatureImportanceResponse(await this.mlService.getFeatureImportance(caller, importanceQuery(query)));
  }

  /** One chart of the same answer: the PNG or its Vega-Lite spec, as Accept asks (406 when it allows neither). */
  async importanceChart(name: string, query: FeatureImportanceQueryDto, accept: string | undefined, caller: TenantContext): Promise<ArtifactContent> {
    return await this.mlService.getFeatureImportanceChart(caller, name, importanceQuery(query), chartMediaType(accept));
  }
}

function importanceQuery(query: FeatureImportanceQueryDto): FeatureImportanceQuery {
  const { target, model_name, model_version, feature_set, feature_set_version } = query;
  return { target, model_name, model_version, feature_set, feature_set_version };
}

function toFeatureSpec({ column, name, transform }: FeatureDto): FeatureSpec {
  return { column, name, transform: transform === undefined ? undefined : toTransform(transform) };
}

/**
 * The transform's fields as given: the ML Service's tagged union owns which fields each type takes and answers a
 * field that does not belong with a 422 naming it, so this side keeps no second copy of that rule.
 */
function toTransform(transform: FeatureTransformDto): FeatureTransform {
  return { ...transform } as FeatureTransform;
}

function toDatasetRef(source: WarehouseSourceDto): DatasetRef {
  return source.source === 'sql' ? { source: 'sql', query: source.query } : { source: 'table', table: source.table };
}

/** The ML Service's 422 names list items `features.1.column`; this API names them `features[1].column`. */
async function withFieldNames<T>(call: Promise<T>): Promise<T> {
  try {
    return await call;
  } catch (error) {
    throw error instanceof FieldErrorsException ? withOurFieldNames(error) : error;
  }
}
