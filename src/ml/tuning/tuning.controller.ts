import { Body, Controller, Delete, Get, Headers, HttpCode, HttpStatus, Param, Patch, Post, Query, StreamableFile } from '@nestjs/common';
import { ApiAcceptedResponse, ApiBody, ApiExtraModels, ApiHeader, ApiOkResponse, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { ErrorResponseDto } from '@app/common/filters/error-response.dto';
import { IdempotencyKey } from '@app/common/idempotency-key.decorator';
import { CallerTenant, type TenantContext } from '@app/common/tenant/tenant-context';
import { TenantScopedMlApi } from '@app/ml/ml-api.decorator';
import { TrainingJobResponseDto } from '@app/ml/training/dto/training-job-response.dto';
import { CreateTuningSweepDto, SearchSpaceDomainDto } from '@app/ml/tuning/dto/create-tuning-sweep.dto';
import { CreateTuningSweepFromBaseDto } from '@app/ml/tuning/dto/create-tuning-sweep-from-base.dto';
import { ListJobsQueryDto } from '@app/ml/jobs/dto/list-jobs-query.dto';
import { TuningChartListResponseDto, TuningChartParamDto } from '@app/ml/tuning/dto/tuning-chart.dto';
import { SweepIdParamDto } from '@app/ml/tuning/dto/sweep-id.param.dto';
import { TrainBestDto } from '@app/ml/tuning/dto/train-best.dto';
import { UpdateTuningSweepDto } from '@app/ml/tuning/dto/update-tuning-sweep.dto';
import { CHURN_TUNING_REQUEST } from '@app/ml/tuning/dto/tuning-examples';
import { DefaultSearchSpaceListResponseDto, TuningSweepListResponseDto, TuningSweepResponseDto } from '@app/ml/tuning/dto/tuning-sweep-response.dto';
import { TuningService } from '@app/ml/tuning/tuning.service';
import { ApiChartRoute, chartFile } from '@app/ml/charts/chart-route';

@ApiTags('tuning')
@ApiResponse({ status: 403, type: ErrorResponseDto, description: 'The request names another tenant.' })
@ApiExtraModels(SearchSpaceDomainDto)
@TenantScopedMlApi()
@Controller('api/v1/ml/tuning')
export class TuningController {
  constructor(private readonly tuning: TuningService) {}

  @Post()
  @HttpCode(HttpStatus.ACCEPTED)
  @ApiOperation({
    summary: 'Launch a hyperparameter sweep',
    description:
      'A training configuration plus the search; runs on Ray Tune as a job (it counts in the job quota). Progress per trial over GET /api/v1/ml/jobs/:sweep_id/events and the WebSocket /api/v1/ml/jobs/progress?job_id=….',
  })
  @ApiBody({ type: CreateTuningSweepDto, examples: { churn: { summary: "Tune the learning rate and depth of the seed's churn model (TPE + ASHA)", value: CHURN_TUNING_REQUEST } } })
  @ApiHeader({ name: 'Idempotency-Key', required: false, description: 'Repeat a submission safely: the same key returns the same sweep.' })
  @ApiAcceptedResponse({ type: TuningSweepResponseDto })
  @ApiResponse({ status: 400, type: ErrorResponseDto, description: 'The body does not match the schema.' })
  @ApiResponse({ status: 422, type: ErrorResponseDto, description: 'A search space entry, metric, scheduler or training field the catalog does not allow (named).' })
  @ApiResponse({ status: 429, type: ErrorResponseDto, description: 'The tenant already runs its maximum of concurrent jobs.' })
  submitTuningSweep(@Body() body: CreateTuningSweepDto, @CallerTenant() caller: TenantContext, @IdempotencyKey() idempotencyKey: string): Promise<TuningSweepResponseDto> {
    return this.tuning.submit(body, caller, idempotencyKey);
  }

  @Post('from-base')
  @HttpCode(HttpStatus.ACCEPTED)
  @ApiOperation({
    summary: 'Launch a sweep from an earlier training job or a registered version',
    description:
      "The base job's training configuration (dataset, target, features, split, resources, algorithm; its hyperparameters fixed except the searched ones) plus the search. `base_job_id` or `base_model: {model_name, version}` (a version made by a training job).",
  })
  @ApiHeader({ name: 'Idempotency-Key', required: false, description: 'Repeat a submission safely: the same key returns the same sweep.' })
  @ApiAcceptedResponse({ type: TuningSweepResponseDto })
  @ApiResponse({ status: 400, type: ErrorResponseDto, description: 'The body does not match the schema.' })
  @ApiResponse({ status: 422, type: ErrorResponseDto, description: 'No such training job or version for the caller, both or neither given, or a search field the catalog does not allow (named).' })
  @ApiResponse({ status: 429, type: ErrorResponseDto, description: 'The tenant already runs its maximum of concurrent jobs.' })
  submitTuningSweepFromBase(@Body() body: CreateTuningSweepFromBaseDto, @CallerTenant() caller: TenantContext, @IdempotencyKey() idempotencyKey: string): Promise<TuningSweepResponseDto> {
    return this.tuning.submitFromBase(body, caller, idempotencyKey);
  }

  // Declared before ':sweep_id' so Express matches the literal path first.
  @Get('spaces')
  @ApiOperation({ summary: 'List the tunable algorithms and their default search spaces' })
  @ApiOkResponse({ type: DefaultSearchSpaceListResponseDto })
  listDefaultSearchSpaces(@CallerTenant() caller: TenantContext): Promise<DefaultSearchSpaceListResponseDto> {
    return this.tuning.listSpaces(caller);
  }

  @Get()
  @ApiOperation({ summary: "List the caller's sweeps", description: 'Newest first, optionally filtered by status.' })
  @ApiOkResponse({ type: TuningSweepListResponseDto })
  listTuningSweeps(@Query() query: ListJobsQueryDto, @CallerTenant() caller: TenantContext): Promise<TuningSweepListResponseDto> {
    return this.tuning.list(query, caller);
  }

  @Get(':sweep_id')
  @ApiOperation({ summary: 'Get a sweep', description: 'Trials table (params, metrics, status, rounds, duration), best trial and time left; each trial\'s metric by round once ended.' })
  @ApiOkResponse({ type: TuningSweepResponseDto })
  @ApiResponse({ status: 404, type: ErrorResponseDto, description: 'No such sweep for this tenant.' })
  getTuningSweep(@Param() params: SweepIdParamDto, @CallerTenant() caller: TenantContext): Promise<TuningSweepResponseDto> {
    return this.tuning.get(params.sweep_id, caller);
  }

  @Patch(':sweep_id')
  @ApiOperation({
    summary: 'Change a running sweep',
    description:
      "Both take effect at Ray Tune's next step. `max_concurrent_trials`: a raise starts more trials, a lowering lets running ones finish first. `num_samples`: a raise lets the same searcher propose more trials, a lowering starts no trial once that many started (the sweep ends when they end); not below the trials already started.",
  })
  @ApiOkResponse({ type: TuningSweepResponseDto })
  @ApiResponse({ status: 404, type: ErrorResponseDto, description: 'No such sweep for this tenant.' })
  @ApiResponse({ status: 409, type: ErrorResponseDto, description: "The sweep's trials are not running (queued, loading its data, or ended)." })
  @ApiResponse({ status: 422, type: ErrorResponseDto, description: 'num_samples below the trials already started, or no field to change.' })
  updateTuningSweep(@Param() params: SweepIdParamDto, @Body() body: UpdateTuningSweepDto, @CallerTenant() caller: TenantContext): Promise<TuningSweepResponseDto> {
    return this.tuning.update(params.sweep_id, body, caller);
  }

  @Delete(':sweep_id')
  @ApiOperation({ summary: 'Cancel a sweep', description: 'Every running trial is stopped before the answer; the sweep ends cancelled.' })
  @ApiOkResponse({ type: TuningSweepResponseDto })
  @ApiResponse({ status: 404, type: ErrorResponseDto, description: 'No such sweep for this tenant.' })
  @ApiResponse({ status: 409, type: ErrorResponseDto, description: 'The sweep has already ended.' })
  cancelTuningSweep(@Param() params: SweepIdParamDto, @CallerTenant() caller: TenantContext): Promise<TuningSweepResponseDto> {
    return this.tuning.cancel(params.sweep_id, caller);
  }

  @Get(':sweep_id/charts')
  @ApiOperation({
    summary: "List a sweep's charts",
    description: 'Drawn from the trials table of a completed sweep; each comes as a PNG and as the Vega-Lite spec it was drawn from.',
  })
  @ApiOkResponse({ type: TuningChartListResponseDto })
  @ApiResponse({ status: 404, type: ErrorResponseDto, description: 'No such sweep for this tenant.' })
  @ApiResponse({ status: 409, type: ErrorResponseDto, description: 'The sweep has not completed.' })
  listTuningCharts(@Param() params: SweepIdParamDto, @CallerTenant() caller: TenantContext): Promise<TuningChartListResponseDto> {
    return this.tuning.listCharts(params.sweep_id, caller);
  }

  @Get(':sweep_id/charts/:name')
  @ApiOperation({
    summary: 'Get one chart of a sweep',
    description: '`Accept: image/png` for the picture; `application/json` (the default) or `application/vnd.vegalite.v5+json` for its Vega-Lite spec, data included.',
  })
  @ApiChartRoute('sweep')
  @ApiResponse({ status: 409, type: ErrorResponseDto, description: 'The sweep has not completed.' })
  async getTuningChart(
    @Param() params: TuningChartParamDto,
    @Headers('accept') accept: string | undefined,
    @CallerTenant() caller: TenantContext,
  ): Promise<StreamableFile> {
    const chart = await this.tuning.getChart(params.sweep_id, params.name, accept, caller);
    return chartFile(chart);
  }

  @Post(':sweep_id/train-best')
  @HttpCode(HttpStatus.ACCEPTED)
  @ApiOperation({
    summary: "Train the sweep's best configuration",
    description:
      'A normal training job (follow it at GET /api/v1/ml/train/:job_id): the full training split, evaluated on the untouched test split, tagged with the sweep and trial; with `register`, the model becomes a registered version ready to deploy.',
  })
  @ApiHeader({ name: 'Idempotency-Key', required: false, description: 'Repeat the call safely: the same key returns the same job.' })
  @ApiAcceptedResponse({ type: TrainingJobResponseDto })
  @ApiResponse({ status: 404, type: ErrorResponseDto, description: 'No such sweep for this tenant.' })
  @ApiResponse({ status: 409, type: ErrorResponseDto, description: 'The sweep has not completed, or no trial was scored.' })
  @ApiResponse({ status: 422, type: ErrorResponseDto, description: 'An unknown trial_id.' })
  trainBestTrial(
    @Param() params: SweepIdParamDto,
    @Body() body: TrainBestDto,
    @CallerTenant() caller: TenantContext,
    @IdempotencyKey() idempotencyKey: string,
  ): Promise<TrainingJobResponseDto> {
    return this.tuning.trainBest(params.sweep_id, body, caller, idempotencyKey);
  }
}
