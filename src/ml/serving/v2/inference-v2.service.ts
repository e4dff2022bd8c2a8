import { Injectable } from '@nestjs/common';
import type { TenantContext } from '@app/common/tenant/tenant-context';
import { MLServiceClient } from '@app/ml/client/ml-service.client';
import type {
  V2InferRequestDto,
  V2InferResponseDto,
  V2ModelMetadataDto,
  V2ModelReadinessDto,
  V2ServerLivenessDto,
  V2ServerMetadataDto,
  V2ServerReadinessDto,
} from '@app/ml/serving/v2/inference-v2.dto';

/**
 * Open Inference Protocol v2 for the caller's tenant: each call is the ML Service's `/v2` call of
 * the same name (the ML Service owns the checks against the signature); inference travels on the
 * predict path, with its retry rules (docs/contract.md, Retries).
 */
@Injectable()
export class InferenceV2Service {
  constructor(private readonly mlService: MLServiceClient) {}

  serverMetadata(caller: TenantContext): Promise<V2ServerMetadataDto> {
    return this.mlService.getV2ServerMetadata(caller);
  }

  serverLive(caller: TenantContext): Promise<V2ServerLivenessDto> {
    return this.mlService.getV2ServerLiveness(caller);
  }

  serverReady(caller: TenantContext): Promise<V2ServerReadinessDto> {
    return this.mlService.getV2ServerReadiness(caller);
  }

  modelMetadata(name: string, version: string | undefined, caller: TenantContext): Promise<V2ModelMetadataDto> {
    return this.mlService.getV2ModelMetadata(caller, name, version);
  }

  modelReady(name: string, version: string | undefined, caller: TenantContext): Promise<V2ModelReadinessDto> {
    return this.mlService.getV2ModelReadiness(caller, name, version);
  }

  /** The body as validated (unknown fields are refused at the edge), `parameters` left out: answers are JSON whatever a client asks. */
  infer(name: string, version: string | undefined, body: V2InferRequestDto, caller: TenantContext): Promise<V2InferResponseDto> {
    const request = {
      id: body.id,
      inputs: body.inputs.map((input) => ({ name: input.name, shape: input.shape, datatype: input.datatype, data: input.data })),
      outputs: body.outputs?.map((output) => ({ name: output.name })),
    };
    return this.mlService.inferV2(caller, name, version, request);
  }
}
