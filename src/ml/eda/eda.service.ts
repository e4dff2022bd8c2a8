import { Injectable } from '@nestjs/common';
import type { TenantContext } from '@app/common/tenant/tenant-context';
import { MLServiceClient } from '@app/ml/client/ml-service.client';
import type { CreateProfileDto } from '@app/ml/eda/dto/create-profile.dto';
import type { ProfileChartListResponseDto, ProfileListResponseDto, ProfileResponseDto } from '@app/ml/eda/dto/profile-response.dto';
import { chartMediaType } from '@app/ml/training/chart-media-type';
import type { ArtifactContent } from '@app/ml/client/ml-service.types';

/**
 * Exploratory data analysis: profiles of the caller's tables and queries. The ML Service computes them in the
 * tenant's DuckDB warehouse, judges the alerts and stores them; this side validates and forwards.
 */
@Injectable()
export class EdaService {
  constructor(private readonly mlService: MLServiceClient) {}

  create(body: CreateProfileDto, caller: TenantContext): Promise<ProfileResponseDto> {
    // `dataset.tenant_id` was checked against the caller by the guard; the ML Service takes the tenant from the header.
    const { source, query, table } = body.dataset;
    return this.mlService.createEdaProfile(caller, { ...body, dataset: { source, query, table } });
  }

  list(limit: number | undefined, caller: TenantContext): Promise<ProfileListResponseDto> {
    return this.mlService.listEdaProfiles(caller, limit);
  }

  get(profileId: string, caller: TenantContext): Promise<ProfileResponseDto> {
    return this.mlService.getEdaProfile(caller, profileId);
  }

  listCharts(profileId: string, caller: TenantContext): Promise<ProfileChartListResponseDto> {
    return this.mlService.listEdaProfileCharts(caller, profileId);
  }

  /** 406 here, before the ML Service is asked, when Accept allows neither PNG nor JSON. */
  getChart(profileId: string, name: string, accept: string | undefined, caller: TenantContext): Promise<ArtifactContent> {
    return this.mlService.getEdaProfileChart(caller, profileId, name, chartMediaType(accept));
  }

  getReport(profileId: string, caller: TenantContext): Promise<ArtifactContent> {
    return this.mlService.getEdaProfileReport(caller, profileId);
  }
}
