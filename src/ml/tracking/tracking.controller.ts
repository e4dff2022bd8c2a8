import { Body, Controller, Get, HttpCode, HttpStatus, Param, Post, Query, StreamableFile } from '@nestjs/common';
import { ApiCreatedResponse, ApiOkResponse, ApiOperation, ApiProduces, ApiResponse, ApiTags } from '@nestjs/swagger';
import { ErrorResponseDto } from '@app/common/filters/error-response.dto';
import { TenantScopedMlApi } from '@app/ml/ml-api.decorator';
import { CallerTenant, type TenantContext } from '@app/common/tenant/tenant-context';
import { ExperimentIdParamDto, MetricHistoryParamDto, ModelArtifactIdParamDto, RunIdParamDto } from '@app/ml/tracking/dto/tracking-ids';
import {
  ArtifactContentQueryDto,
  CompareRunsDto,
  CreateExperimentDto,
  ListArtifactsQueryDto,
  SearchRunsDto,
} from '@app/ml/tracking/dto/tracking-requests.dto';
import {
  ArtifactListResponseDto,
  ExperimentListResponseDto,
  ExperimentResponseDto,
  LoggedModelResponseDto,
  MetricHistoryResponseDto,
  RunComparisonResponseDto,
  RunPageResponseDto,
  RunResponseDto,
} from '@app/ml/tracking/dto/tracking-responses.dto';
import { TrackingService } from '@app/ml/tracking/tracking.service';
import type { ArtifactContent } from '@app/ml/client/ml-service.types';

@ApiTags('tracking')
@ApiResponse({ status: 400, type: ErrorResponseDto, description: 'An id, path or body field is malformed; the message names it.' })
@ApiResponse({ status: 404, type: ErrorResponseDto, description: "No such experiment, run, metric or artifact for this tenant (another tenant's look the same)." })
@TenantScopedMlApi()
@Controller('api/v1/ml/tracking')
export class TrackingController {
  constructor(private readonly tracking: TrackingService) {}

  @Post('experiments')
  @ApiOperation({ summary: 'Create an experiment' })
  @ApiCreatedResponse({ type: ExperimentResponseDto })
  @ApiResponse({ status: 409, type: ErrorResponseDto, description: 'The tenant already has an experiment of that name.' })
  createExperiment(@Body() experiment: CreateExperimentDto, @CallerTenant() caller: TenantContext): Promise<ExperimentResponseDto> {
    return this.tracking.createExperiment(experiment, caller);
  }

  @Get('experiments')
  @ApiOperation({ summary: "List the caller's experiments", description: 'Including `training`, where training jobs log their runs.' })
  @ApiOkResponse({ type: ExperimentListResponseDto })
  listExperiments(@CallerTenant() caller: TenantContext): Promise<ExperimentListResponseDto> {
    return this.tracking.listExperiments(caller);
  }

  @Get('experiments/:experiment_id')
  @ApiOperation({ summary: 'Get an experiment' })
  @ApiOkResponse({ type: ExperimentResponseDto })
  getExperiment(@Param() params: ExperimentIdParamDto, @CallerTenant() caller: TenantContext): Promise<ExperimentResponseDto> {
    return this.tracking.getExperiment(params.experiment_id, caller);
  }

  @Post('runs/search')
  @HttpCode(HttpStatus.OK)
  @ApiOperation({ summary: 'Search runs', description: "Filter in MLflow's grammar (`metrics.auc_roc > 0.8 and params.max_depth = '6'`), order and paginate." })
  @ApiOkResponse({ type: RunPageResponseDto })
  @ApiResponse({ status: 422, type: ErrorResponseDto, description: 'The filter cannot be parsed.' })
  searchRuns(@Body() search: SearchRunsDto, @CallerTenant() caller: TenantContext): Promise<RunPageResponseDto> {
    return this.tracking.searchRuns(search, caller);
  }

  @Post('runs/compare')
  @HttpCode(HttpStatus.OK)
  @ApiOperation({ summary: 'Compare runs side by side', description: 'Params and metrics as tables by run, the best run per metric, and metric histories for a chart.' })
  @ApiOkResponse({ type: RunComparisonResponseDto })
  compareRuns(@Body() comparison: CompareRunsDto, @CallerTenant() caller: TenantContext): Promise<RunComparisonResponseDto> {
    return this.tracking.compareRuns(comparison.run_ids, caller);
  }

  @Get('runs/:run_id')
  @ApiOperation({ summary: 'Get a run', description: 'Params, latest metrics, tags, the training job, the model, the dataset and the code version.' })
  @ApiOkResponse({ type: RunResponseDto })
  getRun(@Param() params: RunIdParamDto, @CallerTenant() caller: TenantContext): Promise<RunResponseDto> {
    return this.tracking.getRun(params.run_id, caller);
  }

  @Get('runs/:run_id/metrics/:metric_key/history')
  @ApiOperation({ summary: "Get a metric's history by step" })
  @ApiOkResponse({ type: MetricHistoryResponseDto })
  getMetricHistory(@Param() params: MetricHistoryParamDto, @CallerTenant() caller: TenantContext): Promise<MetricHistoryResponseDto> {
    return this.tracking.getMetricHistory(params.run_id, params.metric_key, caller);
  }

  @Get('runs/:run_id/artifacts')
  @ApiOperation({ summary: "List a run's artifacts", description: 'One folder level: the root, or `path`.' })
  @ApiOkResponse({ type: ArtifactListResponseDto })
  listArtifacts(@Param() params: RunIdParamDto, @Query() query: ListArtifactsQueryDto, @CallerTenant() caller: TenantContext): Promise<ArtifactListResponseDto> {
    return this.tracking.listArtifacts(params.run_id, query.path, caller);
  }

  @Get('runs/:run_id/artifacts/content')
  @ApiOperation({ summary: 'Download an artifact', description: 'The file as stored (charts, the classification report, the configuration), with its content type.' })
  @ApiProduces('application/octet-stream', 'application/json', 'image/png', 'text/plain')
  @ApiOkResponse({ description: "The artifact's bytes.", schema: { type: 'string', format: 'binary' } })
  async downloadArtifact(@Param() params: RunIdParamDto, @Query() query: ArtifactContentQueryDto, @CallerTenant() caller: TenantContext): Promise<StreamableFile> {
    return asFile(await this.tracking.downloadArtifact(params.run_id, query.path, caller), query.path);
  }

  @Get('models/:model_artifact_id')
  @ApiOperation({ summary: "Resolve a training result's model", description: 'The LoggedModel behind `model_artifact_id`: its run, job and registered versions.' })
  @ApiOkResponse({ type: LoggedModelResponseDto })
  getLoggedModel(@Param() params: ModelArtifactIdParamDto, @CallerTenant() caller: TenantContext): Promise<LoggedModelResponseDto> {
    return this.tracking.getLoggedModel(params.model_artifact_id, caller);
  }

  @Get('models/:model_artifact_id/artifacts')
  @ApiOperation({
    summary: "List a trained model's files",
    description: "One folder level of the LoggedModel's own artifacts (`MLmodel`, the model file, its environment): the root, or `path`.",
  })
  @ApiOkResponse({ type: ArtifactListResponseDto })
  listModelArtifacts(@Param() params: ModelArtifactIdParamDto, @Query() query: ListArtifactsQueryDto, @CallerTenant() caller: TenantContext): Promise<ArtifactListResponseDto> {
    return this.tracking.listModelArtifacts(params.model_artifact_id, query.path, caller);
  }

  @Get('models/:model_artifact_id/artifacts/content')
  @ApiOperation({ summary: "Download a trained model's file", description: 'The file as stored (the model itself, `MLmodel`, requirements), with its content type.' })
  @ApiProduces('application/octet-stream', 'application/json', 'text/plain')
  @ApiOkResponse({ description: "The file's bytes.", schema: { type: 'string', format: 'binary' } })
  async downloadModelArtifact(@Param() params: ModelArtifactIdParamDto, @Query() query: ArtifactContentQueryDto, @CallerTenant() caller: TenantContext): Promise<StreamableFile> {
    return asFile(await this.tracking.downloadModelArtifact(params.model_artifact_id, query.path, caller), query.path);
  }
}

/** The bytes as a download named after the path's last segment (characters outside [A-Za-z0-9_.-] become `_`). */
function asFile(artifact: ArtifactContent, path: string): StreamableFile {
  const fileName = path.split('/').pop() ?? 'artifact';
  return new StreamableFile(artifact.content, {
    type: artifact.contentType,
    length: artifact.content.length,
    disposition: `attachment; filename="${fileName.replace(/[^A-Za-z0-9_.-]/g, '_')}"`,
  });
}
