import { Injectable } from '@nestjs/common';
import type { TenantContext } from '@app/common/tenant/tenant-context';
import { MLServiceClient } from '@app/ml/client/ml-service.client';
import type {
  DeleteModelQueryDto,
  RegisterModelVersionDto,
  SearchModelsQueryDto,
  SetAliasDto,
  TransitionStageDto,
  UpdateRegistryEntryDto,
} from '@app/ml/registry/dto/registry-requests.dto';
import type {
  AuditTrailResponseDto,
  ModelDeletionResponseDto,
  ModelVersionResponseDto,
  RegisteredModelListResponseDto,
  RegisteredModelResponseDto,
} from '@app/ml/registry/dto/registry-responses.dto';

/**
 * The model registry (issue 4): versions, stages built on MLflow aliases, free aliases and the
 * audit trail. The caller's actor travels with every call (X-Actor), so the ML Service can record
 * who made each change; stage rules (one Production version, no deleting it) live there.
 */
@Injectable()
export class RegistryService {
  constructor(private readonly mlService: MLServiceClient) {}

  registerVersion(name: string, registration: RegisterModelVersionDto, caller: TenantContext): Promise<ModelVersionResponseDto> {
    return this.mlService.registerModelVersion(caller, name, {
      job_id: registration.job_id,
      run_id: registration.run_id,
      description: registration.description,
      tags: registration.tags,
    });
  }

  searchModels(query: SearchModelsQueryDto, caller: TenantContext): Promise<RegisteredModelListResponseDto> {
    return this.mlService.searchModels(caller, { name: query.name, tag: query.tag, stage: query.stage, metric: query.metric });
  }

  getModel(name: string, caller: TenantContext): Promise<RegisteredModelResponseDto> {
    return this.mlService.getModel(caller, name);
  }

  updateModel(name: string, update: UpdateRegistryEntryDto, caller: TenantContext): Promise<RegisteredModelResponseDto> {
    return this.mlService.updateModel(caller, name, { description: update.description, tags: update.tags });
  }

  deleteModel(name: string, query: DeleteModelQueryDto, caller: TenantContext): Promise<ModelDeletionResponseDto> {
    return this.mlService.deleteModel(caller, name, query.dry_run === true);
  }

  getVersion(name: string, version: string, caller: TenantContext): Promise<ModelVersionResponseDto> {
    return this.mlService.getModelVersion(caller, name, Number(version));
  }

  updateVersion(name: string, version: string, update: UpdateRegistryEntryDto, caller: TenantContext): Promise<ModelVersionResponseDto> {
    return this.mlService.updateModelVersion(caller, name, Number(version), { description: update.description, tags: update.tags });
  }

  async deleteVersion(name: string, version: string, caller: TenantContext): Promise<void> {
    await this.mlService.deleteModelVersion(caller, name, Number(version));
  }

  transitionStage(name: string, version: string, transition: TransitionStageDto, caller: TenantContext): Promise<ModelVersionResponseDto> {
    return this.mlService.transitionModelVersionStage(caller, name, Number(version), { stage: transition.stage, reason: transition.reason });
  }

  setAlias(name: string, alias: string, assignment: SetAliasDto, caller: TenantContext): Promise<RegisteredModelResponseDto> {
    return this.mlService.setModelAlias(caller, name, alias, { version: assignment.version });
  }

  deleteAlias(name: string, alias: string, caller: TenantContext): Promise<RegisteredModelResponseDto> {
    return this.mlService.deleteModelAlias(caller, name, alias);
  }

  getAudit(name: string, caller: TenantContext): Promise<AuditTrailResponseDto> {
    return this.mlService.getModelAudit(caller, name);
  }
}
