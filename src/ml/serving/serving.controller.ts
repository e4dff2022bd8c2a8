import { Body, Controller, Delete, Get, Headers, HttpCode, HttpStatus, Param, ParseArrayPipe, Post, Put, Query, Res } from '@nestjs/common';
import { ApiAcceptedResponse, ApiBody, ApiExtraModels, ApiHeader, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { ErrorResponseDto } from '@app/common/filters/error-response.dto';
import type { HttpReplyHeaders } from '@app/common/http/node-http';
import { CallerTenant, type TenantContext } from '@app/common/tenant/tenant-context';
import { IdempotencyKey } from '@app/common/idempotency-key.decorator';
import { TenantScopedMlApi } from '@app/ml/ml-api.decorator';
import { BatchIdParamDto, BatchPredictionResponseDto, CreateBatchPredictionDto } from '@app/ml/serving/dto/batch-prediction.dto';
import {
  CreateDeploymentDto,
  DriftQueryDto,
  FeedbackEntryDto,
  ModelIdParamDto,
  ReleaseVersionDto,
  TrafficSplitDto,
  WindowQueryDto,
} from '@app/ml/serving/dto/serving-requests.dto';
import {
  DeploymentListResponseDto,
  DeploymentResponseDto,
  DriftReportResponseDto,
  FeedbackResultDto,
  PredictResponseDto,
  ServingMetricsResponseDto,
} from '@app/ml/serving/dto/serving-responses.dto';
import { ServingService } from '@app/ml/serving/serving.service';

/** The demo churn model's features (acme-corp's ml_features.customer_churn). */
const CUSTOMER = {
  tenure: 3,
  monthly_charges: 89.5,
  total_charges: 268.5,
  contract_type: 'month-to-month',
  internet_service: 'fiber_optic',
  payment_method: 'electronic_check',
  senior_citizen: 0,
  num_support_tickets: 2,
};

/** The body's fields are the model's features, so it is checked by the ML Service against the signature. */
const PREDICT_BODY = {
  schema: { type: 'object', additionalProperties: true },
  examples: {
    single: { summary: 'One customer', value: CUSTOMER },
    instances: { summary: 'Several customers', value: { instances: [CUSTOMER, { ...CUSTOMER, tenure: 48, contract_type: 'two-year' }] } },
    forecast: { summary: 'A forecaster: the next 7 periods', value: { periods: 7 } },
    entities: { summary: 'By entity key (a model trained on a feature set)', value: { entities: { customer_id: ['CUST-00001', 'CUST-00002'] } } },
  },
};

@ApiTags('serving')
@ApiResponse({ status: 400, type: ErrorResponseDto, description: 'A path, query or body field is malformed; the message names it.' })
@ApiResponse({ status: 404, type: ErrorResponseDto, description: "No such deployment for this tenant (another tenant's look the same)." })
@ApiExtraModels(FeedbackEntryDto)
@TenantScopedMlApi()
@Controller('api/v1/ml/serving')
export class ServingController {
  constructor(private readonly serving: ServingService) {}

  @Post('deployments')
  @HttpCode(HttpStatus.ACCEPTED)
  @ApiOperation({
    summary: 'Deploy a registered model version',
    description: 'On Ray Serve, by version, stage or alias; replicas or autoscaling. Answers at once with status `deploying`; poll until `healthy`. Not retried (no idempotency key): a repeat is 409.',
  })
  @ApiAcceptedResponse({ type: DeploymentResponseDto })
  @ApiResponse({ status: 409, type: ErrorResponseDto, description: 'The model_id is taken, or the version has no signature.' })
  createDeployment(@Body() deployment: CreateDeploymentDto, @CallerTenant() caller: TenantContext): Promise<DeploymentResponseDto> {
    return this.serving.deploy(deployment, caller);
  }

  @Get('deployments')
  @ApiOperation({ summary: "List the tenant's deployments" })
  @ApiOkResponse({ type: DeploymentListResponseDto })
  listDeployments(@CallerTenant() caller: TenantContext): Promise<DeploymentListResponseDto> {
    return this.serving.list(caller);
  }

  @Get('deployments/:model_id')
  @ApiOperation({ summary: 'Get a deployment', description: 'Status (deploying, healthy, unhealthy with a reason), variants and input signature.' })
  @ApiOkResponse({ type: DeploymentResponseDto })
  getDeployment(@Param() params: ModelIdParamDto, @CallerTenant() caller: TenantContext): Promise<DeploymentResponseDto> {
    return this.serving.get(params.model_id, caller);
  }

  @Delete('deployments/:model_id')
  @HttpCode(HttpStatus.NO_CONTENT)
  @ApiOperation({ summary: 'Undeploy', description: 'Stops every replica of the deployment and forgets it.' })
  @ApiNoContentResponse({ description: 'Undeployed.' })
  deleteDeployment(@Param() params: ModelIdParamDto, @CallerTenant() caller: TenantContext): Promise<void> {
    return this.serving.undeploy(params.model_id, caller);
  }

  @Post('batch')
  @HttpCode(HttpStatus.ACCEPTED)
  @ApiOperation({
    summary: 'Batch prediction over a table or query',
    description:
      'Scores every row of the source with a deployment (`model_id`) or a registered version (`model_name` + `version`) into `predictions.<output_table>`: the source’s columns unchanged plus `predicted_class` and `score` (or `predicted_value`). A job: poll `GET batch/{batch_id}`; it counts in the tenant’s concurrent jobs (429).',
  })
  @ApiHeader({ name: 'Idempotency-Key', required: false, description: 'Repeat a submission safely: the same key returns the same batch; the same key with another body is 422.' })
  @ApiAcceptedResponse({ type: BatchPredictionResponseDto })
  @ApiResponse({ status: 403, type: ErrorResponseDto, description: '`dataset.tenant_id` is another tenant.' })
  @ApiResponse({ status: 409, type: ErrorResponseDto, description: 'The model is a forecaster (it scores periods, not rows), or the version has no signature.' })
  @ApiResponse({ status: 422, type: ErrorResponseDto, description: 'The source cannot be read (`dataset.query`/`dataset.table`), or the Idempotency-Key was used with another body.' })
  @ApiResponse({ status: 429, type: ErrorResponseDto, description: 'The tenant already runs its maximum of concurrent jobs.' })
  submitBatch(
    @Body() body: CreateBatchPredictionDto,
    @IdempotencyKey() idempotencyKey: string,
    @CallerTenant() caller: TenantContext,
  ): Promise<BatchPredictionResponseDto> {
    return this.serving.submitBatch(body, idempotencyKey, caller);
  }

  @Get('batch/:batch_id')
  @ApiOperation({ summary: 'Get a batch prediction', description: 'Status, rows done of rows total, throughput, and the error of a failed batch.' })
  @ApiOkResponse({ type: BatchPredictionResponseDto })
  getBatch(@Param() params: BatchIdParamDto, @CallerTenant() caller: TenantContext): Promise<BatchPredictionResponseDto> {
    return this.serving.getBatch(params.batch_id, caller);
  }

  @Delete('batch/:batch_id')
  @ApiOperation({ summary: 'Cancel a batch prediction', description: 'It stops before its next chunk and writes no table.' })
  @ApiOkResponse({ type: BatchPredictionResponseDto })
  @ApiResponse({ status: 409, type: ErrorResponseDto, description: 'The batch already ended.' })
  cancelBatch(@Param() params: BatchIdParamDto, @CallerTenant() caller: TenantContext): Promise<BatchPredictionResponseDto> {
    return this.serving.cancelBatch(params.batch_id, caller);
  }

  @Post(':model_id/predict')
  @HttpCode(HttpStatus.OK)
  @ApiOperation({
    summary: 'Predict',
    description: 'One feature record or `{"instances": [...]}`. Classification answers `{class, score, probabilities}`, regression `{value}`, each with a `prediction_id` for feedback. A missing, extra or mistyped feature, or a non-finite number (NaN, Infinity, 1e400), is 422 naming it (`instances.0.tenure: missing`). A forecaster takes `{"periods": n}` and answers n points `{timestamp, value, lower, upper}`. A model trained on a feature set also takes `{"entities": {"customer_id": ["CUST-00001"]}}`: its features are looked up online in the feature set version it was trained on (the variant\'s `feature_set`), never a later one; an entity without online values is 422 naming it (`entities.customer_id[1]`), a version never materialised 409.',
  })
  @ApiBody(PREDICT_BODY)
  @ApiHeader({ name: 'X-Request-Key', required: false, description: 'The same key always reaches the same A/B variant.' })
  @ApiOkResponse({ type: PredictResponseDto })
  @ApiResponse({ status: 409, type: ErrorResponseDto, description: 'Predicting by entity key: the feature set version has not been materialised.' })
  @ApiResponse({ status: 422, type: ErrorResponseDto, description: 'The input does not fit the model signature; `errors` names each field.' })
  predict(
    @Param() params: ModelIdParamDto,
    @Body() features: Record<string, unknown>,
    @Headers('x-request-key') requestKey: string | undefined,
    @CallerTenant() caller: TenantContext,
    @Res({ passthrough: true }) response: HttpReplyHeaders,
  ): Promise<PredictResponseDto> {
    // the ML Service's per-hop Server-Timing (MLS_SERVING_TIMING) plus this service's call to it
    return this.serving.predict(params.model_id, features, requestKey, caller, (timing) => response.header('Server-Timing', timing));
  }

  @Post(':model_id/feedback')
  @HttpCode(HttpStatus.OK)
  @ApiOperation({ summary: 'Record ground truth', description: '`[{prediction_id, actual}]` for logged predictions; feeds live accuracy (or RMSE/MAE).' })
  @ApiBody({ type: [FeedbackEntryDto] })
  @ApiOkResponse({ type: FeedbackResultDto })
  recordFeedback(
    @Param() params: ModelIdParamDto,
    @Body(new ParseArrayPipe({ items: FeedbackEntryDto, whitelist: true, forbidNonWhitelisted: true })) entries: FeedbackEntryDto[],
    @CallerTenant() caller: TenantContext,
  ): Promise<FeedbackResultDto> {
    return this.serving.feedback(params.model_id, entries, caller);
  }

  @Get(':model_id/metrics')
  @ApiOperation({ summary: 'Live metrics per variant', description: 'Accuracy (or RMSE/MAE) over feedback, p50/p95/p99 latency, throughput and error rate in the window.' })
  @ApiOkResponse({ type: ServingMetricsResponseDto })
  getServingMetrics(@Param() params: ModelIdParamDto, @Query() query: WindowQueryDto, @CallerTenant() caller: TenantContext): Promise<ServingMetricsResponseDto> {
    return this.serving.metrics(params.model_id, query.window, caller);
  }

  @Get(':model_id/drift')
  @ApiOperation({ summary: 'Feature drift', description: 'PSI and KS per feature of the inputs logged in the window against the training split; alerts above the thresholds.' })
  @ApiOkResponse({ type: DriftReportResponseDto })
  getDrift(@Param() params: ModelIdParamDto, @Query() query: DriftQueryDto, @CallerTenant() caller: TenantContext): Promise<DriftReportResponseDto> {
    return this.serving.drift(params.model_id, query, caller);
  }

  @Put(':model_id/traffic')
  @ApiOperation({ summary: 'A/B traffic split', description: 'Weights per version adding up to 100; versions not yet running are deployed first. Responses name the variant that answered.' })
  @ApiOkResponse({ type: DeploymentResponseDto })
  setTraffic(@Param() params: ModelIdParamDto, @Body() split: TrafficSplitDto, @CallerTenant() caller: TenantContext): Promise<DeploymentResponseDto> {
    return this.serving.setTraffic(params.model_id, split, caller);
  }

  @Post(':model_id/release')
  @HttpCode(HttpStatus.OK)
  @ApiOperation({ summary: 'Blue-green release', description: 'Deploys the version next to the current one, then switches all traffic to it; the old one stays warm for rollback.' })
  @ApiOkResponse({ type: DeploymentResponseDto })
  releaseVersion(@Param() params: ModelIdParamDto, @Body() release: ReleaseVersionDto, @CallerTenant() caller: TenantContext): Promise<DeploymentResponseDto> {
    return this.serving.release(params.model_id, release, caller);
  }

  @Post(':model_id/rollback')
  @HttpCode(HttpStatus.OK)
  @ApiOperation({ summary: 'Roll back', description: 'Returns to the previous traffic split in one call.' })
  @ApiOkResponse({ type: DeploymentResponseDto })
  @ApiResponse({ status: 409, type: ErrorResponseDto, description: 'Nothing to roll back to.' })
  rollbackDeployment(@Param() params: ModelIdParamDto, @CallerTenant() caller: TenantContext): Promise<DeploymentResponseDto> {
    return this.serving.rollback(params.model_id, caller);
  }
}
