import { Body, Controller, Get, HttpCode, HttpStatus, Param, Post, UseFilters } from '@nestjs/common';
import { ApiBadRequestResponse, ApiNotFoundResponse, ApiOkResponse, ApiOperation, ApiResponse, ApiTags, ApiUnprocessableEntityResponse } from '@nestjs/swagger';
import { CallerTenant, type TenantContext } from '@app/common/tenant/tenant-context';
import { TenantScopedMlApi } from '@app/ml/ml-api.decorator';
import {
  V2ErrorResponseDto,
  V2InferRequestDto,
  V2InferResponseDto,
  V2ModelMetadataDto,
  V2ModelParamDto,
  V2ModelReadinessDto,
  V2ModelVersionParamDto,
  V2ServerLivenessDto,
  V2ServerMetadataDto,
  V2ServerReadinessDto,
} from '@app/ml/serving/v2/inference-v2.dto';
import { InferenceV2ExceptionFilter } from '@app/ml/serving/v2/inference-v2.filter';
import { InferenceV2Service } from '@app/ml/serving/v2/inference-v2.service';

const V2_ERROR_BODY = 'With the protocol\'s error body, `{error}`.';
const NOT_READY = 'Not ready (the protocol answers readiness that is false with a 4xx); `error` says why.';
const INFER_DESCRIPTION =
  'One input per feature (`shape` `[rows]` or `[rows, 1]`, `datatype` BYTES for text, any numeric type for numbers, BOOL for booleans), columns out: `class` and `score` (classification) or `value`, and `prediction_id` for feedback; `outputs` selects among them. A JSON body without a Content-Type is read as JSON, as stock clients (tritonclient) send it.';

/**
 * The Open Inference Protocol (KServe v2) over the tenant's deployments, with the caller's API key:
 * a stock client points at `<host>/api/v1/ml/serving` and finds `/v2/...` beneath. Each route
 * forwards to the ML Service's `/v2` route of the same name; a v2 model name is a deployment id,
 * so another tenant's model is 404 exactly like an unknown one.
 */
@ApiTags('inference-v2')
// The protocol's error body on every status (TenantScopedMlApi documents the others' shape;
// Swagger joins the two descriptions).
@ApiResponse({ status: 400, type: V2ErrorResponseDto, description: 'A malformed name, version or body; `errors` names the fields.' })
@ApiResponse({ status: 401, type: V2ErrorResponseDto, description: V2_ERROR_BODY })
@ApiResponse({ status: 502, type: V2ErrorResponseDto, description: V2_ERROR_BODY })
@ApiResponse({ status: 503, type: V2ErrorResponseDto, description: `${V2_ERROR_BODY} Also when the deployment cannot answer now.` })
@ApiResponse({ status: 504, type: V2ErrorResponseDto, description: V2_ERROR_BODY })
@TenantScopedMlApi()
@UseFilters(InferenceV2ExceptionFilter)
@Controller('api/v1/ml/serving/v2')
export class InferenceV2Controller {
  constructor(private readonly inference: InferenceV2Service) {}

  @Get()
  @ApiOperation({ summary: 'v2 server metadata' })
  @ApiOkResponse({ type: V2ServerMetadataDto })
  serverMetadata(@CallerTenant() caller: TenantContext): Promise<V2ServerMetadataDto> {
    return this.inference.serverMetadata(caller);
  }

  @Get('health/live')
  @ApiOperation({ summary: 'v2 server liveness', description: 'The ML Service answers.' })
  @ApiOkResponse({ type: V2ServerLivenessDto })
  serverLive(@CallerTenant() caller: TenantContext): Promise<V2ServerLivenessDto> {
    return this.inference.serverLive(caller);
  }

  @Get('health/ready')
  @ApiOperation({ summary: 'v2 server readiness', description: 'The ML Service has started (Ray connected, stores open).' })
  @ApiOkResponse({ type: V2ServerReadinessDto })
  @ApiBadRequestResponse({ type: V2ErrorResponseDto, description: NOT_READY })
  serverReady(@CallerTenant() caller: TenantContext): Promise<V2ServerReadinessDto> {
    return this.inference.serverReady(caller);
  }

  @Get('models/:name')
  @ApiOperation({ summary: 'v2 model metadata', description: 'Inputs with their v2 datatypes (from the signature), outputs, served versions.' })
  @ApiOkResponse({ type: V2ModelMetadataDto })
  @ApiNotFoundResponse({ type: V2ErrorResponseDto, description: "No such deployment for this tenant (another tenant's look the same)." })
  modelMetadata(@Param() params: V2ModelParamDto, @CallerTenant() caller: TenantContext): Promise<V2ModelMetadataDto> {
    return this.inference.modelMetadata(params.name, undefined, caller);
  }

  @Get('models/:name/versions/:version')
  @ApiOperation({ summary: 'v2 model version metadata' })
  @ApiOkResponse({ type: V2ModelMetadataDto })
  @ApiNotFoundResponse({ type: V2ErrorResponseDto, description: 'No such deployment, or it never served the version.' })
  modelVersionMetadata(@Param() params: V2ModelVersionParamDto, @CallerTenant() caller: TenantContext): Promise<V2ModelMetadataDto> {
    return this.inference.modelMetadata(params.name, params.version, caller);
  }

  @Get('models/:name/ready')
  @ApiOperation({ summary: 'v2 model readiness', description: 'Every variant with traffic runs.' })
  @ApiOkResponse({ type: V2ModelReadinessDto })
  @ApiBadRequestResponse({ type: V2ErrorResponseDto, description: NOT_READY })
  @ApiNotFoundResponse({ type: V2ErrorResponseDto, description: 'No such deployment for this tenant.' })
  modelReady(@Param() params: V2ModelParamDto, @CallerTenant() caller: TenantContext): Promise<V2ModelReadinessDto> {
    return this.inference.modelReady(params.name, undefined, caller);
  }

  @Get('models/:name/versions/:version/ready')
  @ApiOperation({ summary: 'v2 model version readiness', description: 'The version receives traffic and runs.' })
  @ApiOkResponse({ type: V2ModelReadinessDto })
  @ApiBadRequestResponse({ type: V2ErrorResponseDto, description: NOT_READY })
  @ApiNotFoundResponse({ type: V2ErrorResponseDto, description: 'No such deployment, or it never served the version.' })
  modelVersionReady(@Param() params: V2ModelVersionParamDto, @CallerTenant() caller: TenantContext): Promise<V2ModelReadinessDto> {
    return this.inference.modelReady(params.name, params.version, caller);
  }

  @Post('models/:name/infer')
  @HttpCode(HttpStatus.OK)
  @ApiOperation({ summary: 'v2 inference', description: INFER_DESCRIPTION })
  @ApiOkResponse({ type: V2InferResponseDto })
  @ApiBadRequestResponse({ type: V2ErrorResponseDto, description: 'A malformed body; `errors` names the fields.' })
  @ApiNotFoundResponse({ type: V2ErrorResponseDto, description: 'No such deployment for this tenant.' })
  @ApiUnprocessableEntityResponse({ type: V2ErrorResponseDto, description: 'Inputs that do not fit the signature (shape, datatype, missing or unknown feature) or an unknown output; `errors` names each.' })
  infer(@Param() params: V2ModelParamDto, @Body() body: V2InferRequestDto, @CallerTenant() caller: TenantContext): Promise<V2InferResponseDto> {
    return this.inference.infer(params.name, undefined, body, caller);
  }

  @Post('models/:name/versions/:version/infer')
  @HttpCode(HttpStatus.OK)
  @ApiOperation({ summary: 'v2 inference by one version', description: `${INFER_DESCRIPTION} Answered by the named version; 404 when the deployment does not serve it.` })
  @ApiOkResponse({ type: V2InferResponseDto })
  @ApiBadRequestResponse({ type: V2ErrorResponseDto, description: 'A malformed body; `errors` names the fields.' })
  @ApiNotFoundResponse({ type: V2ErrorResponseDto, description: 'No such deployment, or it does not serve the version.' })
  @ApiUnprocessableEntityResponse({ type: V2ErrorResponseDto, description: 'Inputs that do not fit the signature, or an unknown output.' })
  inferVersion(@Param() params: V2ModelVersionParamDto, @Body() body: V2InferRequestDto, @CallerTenant() caller: TenantContext): Promise<V2InferResponseDto> {
    return this.inference.infer(params.name, params.version, body, caller);
  }
}
