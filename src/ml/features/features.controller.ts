import { Body, Controller, Get, Headers, HttpCode, HttpStatus, Param, Post, Query, Res, type StreamableFile } from '@nestjs/common';
import { ApiAcceptedResponse, ApiBody, ApiCreatedResponse, ApiHeader, ApiOkResponse, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { ErrorResponseDto } from '@app/common/filters/error-response.dto';
import { IdempotencyKey } from '@app/common/idempotency-key.decorator';
import type { HttpReplyHeaders } from '@app/common/http/node-http';
import { CallerTenant, type TenantContext } from '@app/common/tenant/tenant-context';
import { CreateFeatureSetDto } from '@app/ml/features/dto/create-feature-set.dto';
import { ApiChartRoute, chartFile } from '@app/ml/charts/chart-route';
import { CreateTrainingSetDto } from '@app/ml/features/dto/create-training-set.dto';
import { FeatureImportanceChartParamDto, FeatureImportanceQueryDto, FeatureImportanceResponseDto } from '@app/ml/features/dto/feature-importance.dto';
import { CUSTOMER_FEATURE_SET, CUSTOMER_TRAINING_SET } from '@app/ml/features/dto/feature-set-examples';
import { FeatureSetNameParamDto, FeatureSetVersionParamDto } from '@app/ml/features/dto/feature-set-params.dto';
import {
  FeatureSetLineageResponseDto,
  FeatureSetListResponseDto,
  FeatureSetVersionListResponseDto,
  FeatureSetVersionResponseDto,
  TrainingSetResponseDto,
} from '@app/ml/features/dto/feature-set-response.dto';
import { MaterializeFeatureSetDto, OnlineFeaturesDto, OnlineFeaturesResponseDto } from '@app/ml/features/dto/online-features.dto';
import { FeaturesService } from '@app/ml/features/features.service';
import { JobResponseDto } from '@app/ml/jobs/dto/job-response.dto';
import { TenantScopedMlApi } from '@app/ml/ml-api.decorator';

@ApiTags('features')
@ApiResponse({ status: 400, type: ErrorResponseDto, description: 'A field is malformed; the message names it.' })
@TenantScopedMlApi()
@Controller('api/v1/ml/features')
export class FeaturesController {
  constructor(private readonly features: FeaturesService) {}

  @Post('sets')
  @HttpCode(HttpStatus.CREATED)
  @ApiOperation({
    summary: 'Define a feature set, or change one',
    description:
      "Features of an entity read from a table or query of the caller's warehouse, registered as a Feast feature view in the caller's Feast project. A changed definition becomes the next version (201) and earlier versions stay as they were; the same definition again answers the latest version (200).",
  })
  @ApiBody({ type: CreateFeatureSetDto, examples: { customer: { summary: 'Contract and charges of each demo customer', value: CUSTOMER_FEATURE_SET } } })
  @ApiCreatedResponse({ type: FeatureSetVersionResponseDto, description: 'A new version.' })
  @ApiOkResponse({ type: FeatureSetVersionResponseDto, description: 'Unchanged: the latest version.' })
  @ApiResponse({ status: 409, type: ErrorResponseDto, description: 'Another request made this version at the same time.' })
  @ApiResponse({ status: 422, type: ErrorResponseDto, description: 'The source cannot be read, or a feature, join key or timestamp column does not fit it (named).' })
  @ApiResponse({ status: 503, type: ErrorResponseDto, description: "The ML Service's feature store is not installed or stopped answering." })
  async defineFeatureSet(@Body() body: CreateFeatureSetDto, @CallerTenant() caller: TenantContext, @Res({ passthrough: true }) response: HttpReplyHeaders): Promise<FeatureSetVersionResponseDto> {
    const { version, created } = await this.features.define(body, caller);
    if (!created) {
      response.status(HttpStatus.OK);
    }
    return version;
  }

  @Get('sets')
  @ApiOperation({ summary: "List the caller's feature sets", description: 'By name, each with its latest version.' })
  @ApiOkResponse({ type: FeatureSetListResponseDto })
  listFeatureSets(@CallerTenant() caller: TenantContext): Promise<FeatureSetListResponseDto> {
    return this.features.list(caller);
  }

  @Get('sets/:name')
  @ApiOperation({ summary: 'Get the latest version of a feature set' })
  @ApiOkResponse({ type: FeatureSetVersionResponseDto })
  @ApiResponse({ status: 404, type: ErrorResponseDto, description: 'No such feature set for this tenant.' })
  getFeatureSet(@Param() params: FeatureSetNameParamDto, @CallerTenant() caller: TenantContext): Promise<FeatureSetVersionResponseDto> {
    return this.features.get(params.name, undefined, caller);
  }

  @Get('sets/:name/versions')
  @ApiOperation({ summary: 'List every version of a feature set', description: 'Oldest first, each with the definition it was made from.' })
  @ApiOkResponse({ type: FeatureSetVersionListResponseDto })
  @ApiResponse({ status: 404, type: ErrorResponseDto, description: 'No such feature set for this tenant.' })
  listFeatureSetVersions(@Param() params: FeatureSetNameParamDto, @CallerTenant() caller: TenantContext): Promise<FeatureSetVersionListResponseDto> {
    return this.features.listVersions(params.name, caller);
  }

  @Get('sets/:name/versions/:version')
  @ApiOperation({ summary: 'Get one version of a feature set' })
  @ApiOkResponse({ type: FeatureSetVersionResponseDto })
  @ApiResponse({ status: 404, type: ErrorResponseDto, description: 'No such feature set or version for this tenant.' })
  getFeatureSetVersion(@Param() params: FeatureSetVersionParamDto, @CallerTenant() caller: TenantContext): Promise<FeatureSetVersionResponseDto> {
    return this.features.get(params.name, params.version, caller);
  }

  @Get('sets/:name/versions/:version/lineage')
  @ApiOperation({
    summary: 'Which models used a feature set version',
    description:
      'The training jobs that trained on this version (`dataset.source: "feature_set"` in POST /api/v1/ml/train), their MLflow runs and the registered model versions made from them. The other way round, a training job says `feature_set`, and its run and registered versions carry the tags `feature_set` and `feature_set_version`.',
  })
  @ApiOkResponse({ type: FeatureSetLineageResponseDto })
  @ApiResponse({ status: 404, type: ErrorResponseDto, description: 'No such feature set or version for this tenant.' })
  getFeatureSetLineage(@Param() params: FeatureSetVersionParamDto, @CallerTenant() caller: TenantContext): Promise<FeatureSetLineageResponseDto> {
    return this.features.lineage(params.name, params.version, caller);
  }

  @Post('sets/:name/versions/:version/training-sets')
  @HttpCode(HttpStatus.CREATED)
  @ApiOperation({
    summary: 'Build a point-in-time training set',
    description:
      "Feast's get_historical_features: every entity row gets each feature's value as it was known at the row's event timestamp (the latest source row at or before it, never a later one), written to `training_sets.<output_table>` of the caller's warehouse, ready to train on as a table.",
  })
  @ApiBody({ type: CreateTrainingSetDto, examples: { churn: { summary: "The demo customers' churn labels as of 1 July 2024", value: CUSTOMER_TRAINING_SET } } })
  @ApiCreatedResponse({ type: TrainingSetResponseDto })
  @ApiResponse({ status: 404, type: ErrorResponseDto, description: 'No such feature set or version for this tenant.' })
  @ApiResponse({ status: 422, type: ErrorResponseDto, description: 'The entity rows cannot be read, lack a join key or the timestamp column, or repeat a feature name (named).' })
  @ApiResponse({ status: 503, type: ErrorResponseDto, description: "The ML Service's feature store is not installed or stopped answering." })
  createTrainingSet(@Param() params: FeatureSetVersionParamDto, @Body() body: CreateTrainingSetDto, @CallerTenant() caller: TenantContext): Promise<TrainingSetResponseDto> {
    return this.features.createTrainingSet(params.name, params.version, body, caller);
  }

  @Post('sets/:name/versions/:version/materialize')
  @HttpCode(HttpStatus.ACCEPTED)
  @ApiOperation({
    summary: 'Materialise a feature set version into the online store',
    description:
      "A `feature_materialization` job (`materialize-…`): the version's features are computed from its source with its fitted statistics, window aggregates as of now, and Feast loads the latest value per entity into the caller's online store (SQLite here; Redis or PostgreSQL in the scale-out topology). It counts in the tenant's job quota, reports its stages (export, windows, materialize) as progress, and is followed and cancelled through /api/v1/ml/jobs/{job_id}.",
  })
  @ApiHeader({ name: 'Idempotency-Key', required: false, description: 'Repeat the call safely: the same key returns the same job.' })
  @ApiAcceptedResponse({ type: JobResponseDto })
  @ApiResponse({ status: 404, type: ErrorResponseDto, description: 'No such feature set or version for this tenant.' })
  @ApiResponse({ status: 429, type: ErrorResponseDto, description: 'The tenant is at its active-job limit.' })
  materializeFeatureSetVersion(
    @Param() params: FeatureSetVersionParamDto,
    @Body() body: MaterializeFeatureSetDto,
    @CallerTenant() caller: TenantContext,
    @IdempotencyKey() idempotencyKey: string,
  ): Promise<JobResponseDto> {
    return this.features.materialize(params.name, params.version, body, caller, idempotencyKey);
  }

  @Post('online')
  @HttpCode(HttpStatus.OK)
  @ApiOperation({
    summary: 'Look features up online',
    description:
      "Feast's get-online-features in the caller's project: each feature's latest materialised value per entity, with its status (NOT_FOUND for an entity the store has no value for) and event timestamp. Features are `<feature set>_v<version>:<feature>`.",
  })
  @ApiBody({ type: OnlineFeaturesDto })
  @ApiOkResponse({ type: OnlineFeaturesResponseDto })
  @ApiResponse({ status: 409, type: ErrorResponseDto, description: 'A version asked for has not been materialised yet.' })
  @ApiResponse({ status: 422, type: ErrorResponseDto, description: 'A feature reference names no feature of the caller, or the entities lack or add a join key (named).' })
  @ApiResponse({ status: 503, type: ErrorResponseDto, description: "The ML Service's feature store is not installed or stopped answering." })
  getOnlineFeatures(@Body() body: OnlineFeaturesDto, @CallerTenant() caller: TenantContext): Promise<OnlineFeaturesResponseDto> {
    return this.features.online(body, caller);
  }

  @Get('importance')
  @ApiOperation({
    summary: 'What matters for a target',
    description:
      "The feature importance of the target's model: the version in Production for that column, else its latest registered version, else its latest completed training job (or the model named by `model_name` / `model_version`), saying which model, why, its test metrics and what kind of importance it is (XGBoost total gain, LightGBM gain, mean decrease in impurity, absolute standardised coefficients, permutation importance). With `feature_set`, also its features' association with the target from the data profiler (|Pearson r|, Cramér's V, η), on the point-in-time training frame a job built from that version. Charts: GET /api/v1/ml/features/importance/charts/{name} with the same query.",
  })
  @ApiOkResponse({ type: FeatureImportanceResponseDto })
  @ApiResponse({ status: 404, type: ErrorResponseDto, description: 'Nothing matches; the message names the field (target, model_name, model_version, feature_set, feature_set_version).' })
  @ApiResponse({ status: 422, type: ErrorResponseDto, description: 'Neither target nor model_name, or they disagree; a version without its name (named).' })
  getFeatureImportance(@Query() query: FeatureImportanceQueryDto, @CallerTenant() caller: TenantContext): Promise<FeatureImportanceResponseDto> {
    return this.features.importance(query, caller);
  }

  @Get('importance/charts/:name')
  @ApiOperation({
    summary: 'Get one chart of what matters for a target',
    description: "`feature_importance` (the model's) or `target_associations` (the feature set's), for the same query as GET /api/v1/ml/features/importance. `Accept: image/png` for the picture; `application/json` (the default) or `application/vnd.vegalite.v5+json` for its Vega-Lite spec, data included.",
  })
  @ApiChartRoute('model or feature set')
  async getFeatureImportanceChart(
    @Param() params: FeatureImportanceChartParamDto,
    @Query() query: FeatureImportanceQueryDto,
    @Headers('accept') accept: string | undefined,
    @CallerTenant() caller: TenantContext,
  ): Promise<StreamableFile> {
    return chartFile(await this.features.importanceChart(params.name, query, accept, caller));
  }
}
