import { Body, Controller, Delete, Get, Headers, HttpCode, HttpStatus, type MessageEvent, Param, Post, Query, Sse, SseSignal, StreamableFile } from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiBody,
  ApiExtraModels,
  ApiHeader,
  ApiOkResponse,
  ApiOperation,
  ApiProduces,
  ApiResponse,
  ApiTags,
} from '@nestjs/swagger';
import { from, map, type Observable } from 'rxjs';
import { IdempotencyKey } from '@app/common/idempotency-key.decorator';
import { ErrorResponseDto } from '@app/common/filters/error-response.dto';
import { TenantScopedMlApi } from '@app/ml/ml-api.decorator';
import { CallerTenant, type TenantContext } from '@app/common/tenant/tenant-context';
import { CreateTrainingJobDto } from '@app/ml/training/dto/create-training-job.dto';
import {
  FORECASTING_TRAINING_REQUEST,
  NEURAL_NETWORK_TRAINING_REQUEST,
  SEED_001_TRAINING_REQUEST,
} from '@app/ml/training/dto/training-examples';
import { ListJobsQueryDto } from '@app/ml/jobs/dto/list-jobs-query.dto';
import { TrainingChartListResponseDto, TrainingChartParamDto } from '@app/ml/training/dto/training-chart.dto';
import { TrainingJobIdParamDto } from '@app/ml/training/dto/training-job-id.param.dto';
import { TrainingJobListResponseDto, TrainingJobResponseDto } from '@app/ml/training/dto/training-job-response.dto';
import { AlgorithmListResponseDto } from '@app/ml/training/dto/algorithm-response.dto';
import { TrainingService } from '@app/ml/training/training.service';
import { TrainingEventDto, TrainingStreamErrorDto } from '@app/ml/training/dto/training-event.dto';
import { toStreamMessages } from '@app/ml/training/training-events';
import { ApiChartRoute, chartFile } from '@app/ml/charts/chart-route';

@ApiTags('training')
@ApiResponse({ status: 403, type: ErrorResponseDto, description: 'The request names another tenant.' })
@TenantScopedMlApi()
@Controller('api/v1/ml/train')
export class TrainingController {
  constructor(private readonly training: TrainingService) {}

  @Post()
  @HttpCode(HttpStatus.ACCEPTED)
  @ApiOperation({ summary: 'Submit a training job', description: "Validated against the dataset's schema and the algorithm catalog, then queued on the ML Service." })
  @ApiBody({
    type: CreateTrainingJobDto,
    examples: {
      seed_001: { summary: "Seed 001's churn model on the demo tenant", value: SEED_001_TRAINING_REQUEST },
      neural_network: { summary: 'A PyTorch MLP on the same churn data', value: NEURAL_NETWORK_TRAINING_REQUEST },
      forecasting: { summary: 'Forecast two weeks of demo daily revenue with Prophet', value: FORECASTING_TRAINING_REQUEST },
    },
  })
  @ApiHeader({ name: 'Idempotency-Key', required: false, description: 'Repeat a submission safely: the same key returns the same job.' })
  @ApiAcceptedResponse({ type: TrainingJobResponseDto })
  @ApiResponse({ status: 400, type: ErrorResponseDto, description: 'The body does not match the schema.' })
  @ApiResponse({ status: 422, type: ErrorResponseDto, description: 'Unknown column, algorithm or hyperparameter, or a target unfit for the task.' })
  @ApiResponse({ status: 429, type: ErrorResponseDto, description: 'The tenant already runs its maximum of concurrent jobs.' })
  submitTrainingJob(
    @Body() config: CreateTrainingJobDto,
    @CallerTenant() caller: TenantContext,
    @IdempotencyKey() idempotencyKey: string,
  ): Promise<TrainingJobResponseDto> {
    return this.training.submit(config, caller, idempotencyKey);
  }

  // Declared before ':job_id' so Express matches the literal path first.
  @Get('algorithms')
  @ApiOperation({
    summary: 'List the algorithms and their hyperparameters',
    description: "The ML Service's catalog: each algorithm's task types, framework, and every hyperparameter with its type, range, default and meaning.",
  })
  @ApiOkResponse({ type: AlgorithmListResponseDto })
  listTrainingAlgorithms(@CallerTenant() caller: TenantContext): Promise<AlgorithmListResponseDto> {
    return this.training.listAlgorithms(caller);
  }

  @Get(':job_id')
  @ApiOperation({ summary: 'Get a training job', description: 'Status and progress; metrics, feature importance and the model once completed.' })
  @ApiOkResponse({ type: TrainingJobResponseDto })
  @ApiResponse({ status: 404, type: ErrorResponseDto, description: 'No such job for this tenant.' })
  getTrainingJob(@Param() params: TrainingJobIdParamDto, @CallerTenant() caller: TenantContext): Promise<TrainingJobResponseDto> {
    return this.training.get(params.job_id, caller);
  }

  @Sse(':job_id/events')
  @ApiOperation({
    summary: 'Stream the progress of a training job (Server-Sent Events)',
    description:
      'Events `status`, `progress` and a last `end` (data: TrainingEventDto), or `error` (data: TrainingStreamErrorDto) when the ML Service goes away; the stream closes after either. The same events are offered over WebSocket at /api/v1/ml/train/progress?job_id=… (docs/contract.md).',
  })
  @ApiProduces('text/event-stream')
  @ApiExtraModels(TrainingEventDto, TrainingStreamErrorDto)
  @ApiOkResponse({ type: TrainingEventDto, description: 'text/event-stream; each event\'s data is a TrainingEventDto (or a TrainingStreamErrorDto for `error`).' })
  @ApiResponse({ status: 404, type: ErrorResponseDto, description: 'No such job for this tenant.' })
  async streamTrainingEvents(
    @Param() params: TrainingJobIdParamDto,
    @CallerTenant() caller: TenantContext,
    @SseSignal() signal: AbortSignal,
  ): Promise<Observable<MessageEvent>> {
    // Opened before the Observable is returned, so a 404 or an unreachable ML Service is a plain HTTP error.
    const events = await this.training.events(params.job_id, caller, signal);
    return from(toStreamMessages(events)).pipe(map((message): MessageEvent => ({ type: message.event, data: message.data })));
  }

  @Get()
  @ApiOperation({ summary: "List the caller's training jobs", description: 'Newest first, optionally filtered by status.' })
  @ApiOkResponse({ type: TrainingJobListResponseDto })
  listTrainingJobs(@Query() query: ListJobsQueryDto, @CallerTenant() caller: TenantContext): Promise<TrainingJobListResponseDto> {
    return this.training.list(query, caller);
  }

  @Delete(':job_id')
  @ApiOperation({ summary: 'Cancel a training job', description: 'Stops the work on the ML Service; the job ends cancelled.' })
  @ApiOkResponse({ type: TrainingJobResponseDto })
  @ApiResponse({ status: 404, type: ErrorResponseDto, description: 'No such job for this tenant.' })
  @ApiResponse({ status: 409, type: ErrorResponseDto, description: 'The job has already ended.' })
  cancelTrainingJob(@Param() params: TrainingJobIdParamDto, @CallerTenant() caller: TenantContext): Promise<TrainingJobResponseDto> {
    return this.training.cancel(params.job_id, caller);
  }

  @Get(':job_id/charts')
  @ApiOperation({
    summary: "List a training job's charts",
    description: 'The result charts logged with the run once the job completed; each comes as a PNG and as the Vega-Lite spec it was drawn from.',
  })
  @ApiOkResponse({ type: TrainingChartListResponseDto })
  @ApiResponse({ status: 404, type: ErrorResponseDto, description: 'No such job for this tenant.' })
  @ApiResponse({ status: 409, type: ErrorResponseDto, description: 'The job has not completed.' })
  listTrainingCharts(@Param() params: TrainingJobIdParamDto, @CallerTenant() caller: TenantContext): Promise<TrainingChartListResponseDto> {
    return this.training.listCharts(params.job_id, caller);
  }

  @Get(':job_id/charts/:name')
  @ApiOperation({
    summary: 'Get one chart of a training job',
    description: '`Accept: image/png` for the picture; `application/json` (the default) or `application/vnd.vegalite.v5+json` for its Vega-Lite spec, data included.',
  })
  @ApiChartRoute('job')
  @ApiResponse({ status: 409, type: ErrorResponseDto, description: 'The job has not completed.' })
  async getTrainingChart(
    @Param() params: TrainingChartParamDto,
    @Headers('accept') accept: string | undefined,
    @CallerTenant() caller: TenantContext,
  ): Promise<StreamableFile> {
    const chart = await this.training.getChart(params.job_id, params.name, accept, caller);
    return chartFile(chart);
  }
}
