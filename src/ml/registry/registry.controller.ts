import { Body, Controller, Delete, Get, HttpCode, HttpStatus, Param, Patch, Post, Put, Query } from '@nestjs/common';
import { ApiCreatedResponse, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { ErrorResponseDto } from '@app/common/filters/error-response.dto';
import { TenantScopedMlApi } from '@app/ml/ml-api.decorator';
import { CallerTenant, type TenantContext } from '@app/common/tenant/tenant-context';
import { ModelAliasParamDto, ModelNameParamDto, ModelVersionParamDto } from '@app/ml/registry/dto/registry-params.dto';
import {
  DeleteModelQueryDto,
  RegisterModelVersionDto,
  SearchModelsQueryDto,
  SetAliasDto,
  TransitionStageDto,
  UpdateRegistryEntryDto,
} from '@app/ml/registry/dto/registry-requests.dto';
import {
  AuditTrailResponseDto,
  ModelDeletionResponseDto,
  ModelVersionResponseDto,
  RegisteredModelListResponseDto,
  RegisteredModelResponseDto,
} from '@app/ml/registry/dto/registry-responses.dto';
import { RegistryService } from '@app/ml/registry/registry.service';

@ApiTags('registry')
@ApiResponse({ status: 400, type: ErrorResponseDto, description: 'A name, version, alias or body field is malformed; the message names it.' })
@ApiResponse({ status: 404, type: ErrorResponseDto, description: "No such model or version for this tenant (another tenant's look the same)." })
@TenantScopedMlApi()
@Controller('api/v1/ml/registry/models')
export class RegistryController {
  constructor(private readonly registry: RegistryService) {}

  @Post(':name/versions')
  @ApiOperation({ summary: 'Register a model version', description: "From a training job or a run; creates the registered model on first use. Lineage and signature come from the run." })
  @ApiCreatedResponse({ type: ModelVersionResponseDto })
  @ApiResponse({ status: 409, type: ErrorResponseDto, description: 'The job has no model (not completed).' })
  registerModelVersion(@Param() params: ModelNameParamDto, @Body() registration: RegisterModelVersionDto, @CallerTenant() caller: TenantContext): Promise<ModelVersionResponseDto> {
    return this.registry.registerVersion(params.name, registration, caller);
  }

  @Get()
  @ApiOperation({ summary: 'Search the model catalog', description: 'By name substring, tag `key=value`, stage, and metric (`auc_roc>0.8`).' })
  @ApiOkResponse({ type: RegisteredModelListResponseDto })
  searchRegisteredModels(@Query() query: SearchModelsQueryDto, @CallerTenant() caller: TenantContext): Promise<RegisteredModelListResponseDto> {
    return this.registry.searchModels(query, caller);
  }

  @Get(':name')
  @ApiOperation({ summary: 'Get a registered model', description: 'Its versions, aliases and Production version.' })
  @ApiOkResponse({ type: RegisteredModelResponseDto })
  getRegisteredModel(@Param() params: ModelNameParamDto, @CallerTenant() caller: TenantContext): Promise<RegisteredModelResponseDto> {
    return this.registry.getModel(params.name, caller);
  }

  @Patch(':name')
  @ApiOperation({ summary: "Update a registered model's description or tags" })
  @ApiOkResponse({ type: RegisteredModelResponseDto })
  updateRegisteredModel(@Param() params: ModelNameParamDto, @Body() update: UpdateRegistryEntryDto, @CallerTenant() caller: TenantContext): Promise<RegisteredModelResponseDto> {
    return this.registry.updateModel(params.name, update, caller);
  }

  @Delete(':name')
  @ApiOperation({ summary: 'Delete a registered model', description: 'Says what it removes (versions, aliases); `dry_run=true` only says it.' })
  @ApiOkResponse({ type: ModelDeletionResponseDto })
  @ApiResponse({ status: 409, type: ErrorResponseDto, description: 'A version is in Production.' })
  deleteRegisteredModel(@Param() params: ModelNameParamDto, @Query() query: DeleteModelQueryDto, @CallerTenant() caller: TenantContext): Promise<ModelDeletionResponseDto> {
    return this.registry.deleteModel(params.name, query, caller);
  }

  @Get(':name/versions/:version')
  @ApiOperation({ summary: 'Get a model version', description: 'Stage, aliases, metrics, input signature and lineage.' })
  @ApiOkResponse({ type: ModelVersionResponseDto })
  getModelVersion(@Param() params: ModelVersionParamDto, @CallerTenant() caller: TenantContext): Promise<ModelVersionResponseDto> {
    return this.registry.getVersion(params.name, params.version, caller);
  }

  @Patch(':name/versions/:version')
  @ApiOperation({ summary: "Update a model version's description or tags" })
  @ApiOkResponse({ type: ModelVersionResponseDto })
  updateModelVersion(@Param() params: ModelVersionParamDto, @Body() update: UpdateRegistryEntryDto, @CallerTenant() caller: TenantContext): Promise<ModelVersionResponseDto> {
    return this.registry.updateVersion(params.name, params.version, update, caller);
  }

  @Delete(':name/versions/:version')
  @HttpCode(HttpStatus.NO_CONTENT)
  @ApiOperation({ summary: 'Delete a model version' })
  @ApiNoContentResponse({ description: 'Deleted.' })
  @ApiResponse({ status: 409, type: ErrorResponseDto, description: 'The version is in Production.' })
  deleteModelVersion(@Param() params: ModelVersionParamDto, @CallerTenant() caller: TenantContext): Promise<void> {
    return this.registry.deleteVersion(params.name, params.version, caller);
  }

  @Post(':name/versions/:version/stage')
  @HttpCode(HttpStatus.OK)
  @ApiOperation({ summary: 'Move a model version to another stage', description: 'None, Staging, Production, Archived; promoting to Production archives the previous Production version. Audited with the caller and the reason.' })
  @ApiOkResponse({ type: ModelVersionResponseDto })
  transitionModelVersionStage(@Param() params: ModelVersionParamDto, @Body() transition: TransitionStageDto, @CallerTenant() caller: TenantContext): Promise<ModelVersionResponseDto> {
    return this.registry.transitionStage(params.name, params.version, transition, caller);
  }

  @Put(':name/aliases/:alias')
  @ApiOperation({ summary: 'Point a free alias at a version', description: 'Such as `champion` or `challenger`; `production` and `staging` belong to stages (400).' })
  @ApiOkResponse({ type: RegisteredModelResponseDto })
  setModelAlias(@Param() params: ModelAliasParamDto, @Body() assignment: SetAliasDto, @CallerTenant() caller: TenantContext): Promise<RegisteredModelResponseDto> {
    return this.registry.setAlias(params.name, params.alias, assignment, caller);
  }

  @Delete(':name/aliases/:alias')
  @ApiOperation({ summary: 'Remove a free alias' })
  @ApiOkResponse({ type: RegisteredModelResponseDto })
  deleteModelAlias(@Param() params: ModelAliasParamDto, @CallerTenant() caller: TenantContext): Promise<RegisteredModelResponseDto> {
    return this.registry.deleteAlias(params.name, params.alias, caller);
  }

  @Get(':name/audit')
  @ApiOperation({ summary: "Get a registered model's audit trail", description: 'Every registration, stage change, alias change and deletion: who, when, from, to, why. Oldest first.' })
  @ApiOkResponse({ type: AuditTrailResponseDto })
  getModelAudit(@Param() params: ModelNameParamDto, @CallerTenant() caller: TenantContext): Promise<AuditTrailResponseDto> {
    return this.registry.getAudit(params.name, caller);
  }
}
