import { HttpStatus, Injectable } from '@nestjs/common';
import { FieldErrorsException } from '@app/common/filters/field-errors.exception';
import type { TenantContext } from '@app/common/tenant/tenant-context';
import { MLServiceClient } from '@app/ml/client/ml-service.client';
import type { ComparisonListResponseDto, ComparisonResponseDto, CreateComparisonDto } from '@app/ml/eda/dto/compare.dto';
import type { CreateProfileDto } from '@app/ml/eda/dto/create-profile.dto';
import type { DatasetDto } from '@app/ml/training/dto/create-training-job.dto';
import type { ProfileChartListResponseDto, ProfileListResponseDto, ProfileResponseDto } from '@app/ml/eda/dto/profile-response.dto';
import { chartMediaType } from '@app/ml/charts/chart-media-type';
import type { ArtifactContent } from '@app/ml/client/ml-service.types';
import { type JobResponseDto, toJobResponse } from '@app/ml/jobs/dto/job-response.dto';

/**
 * Exploratory data analysis: profiles of the caller's tables and queries. The ML Service computes them in the
 * tenant's DuckDB warehouse, judges the alerts and stores them; this side validates and forwards.
 */
@Injectable()
export class EdaService {
  constructor(private readonly mlService: MLServiceClient) {}

  /**
   * The profile, or the `profiling` job it became (asked for with `respondAsync`, or too large to compute
   * within a request): its result names the stored profile.
   */
  async create(body: CreateProfileDto, respondAsync: boolean, caller: TenantContext): Promise<{ profile: ProfileResponseDto } | { job: JobResponseDto }> {
    // `dataset.tenant_id` was checked against the caller by the guard; the ML Service takes the tenant from the header.
    const answer = await this.mlService.createEdaProfile(caller, { ...body, dataset: withoutTenant(body.dataset) }, respondAsync);
    return 'job' in answer ? { job: toJobResponse(answer.job) } : answer;
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

  /** 403 naming `reference.tenant_id`/`current.tenant_id` when either names another tenant. */
  compare(body: CreateComparisonDto, caller: TenantContext): Promise<ComparisonResponseDto> {
    const sides = { reference: body.reference, current: body.current };
    const foreign = Object.entries(sides).filter(([, dataset]) => dataset.tenant_id !== undefined && dataset.tenant_id !== caller.tenantId);
    if (foreign.length > 0) {
      throw new FieldErrorsException(
        HttpStatus.FORBIDDEN,
        foreign.map(([side]) => ({ field: `${side}.tenant_id`, message: "must be the caller's own tenant" })),
      );
    }
    return this.mlService.createEdaComparison(caller, { reference: withoutTenant(body.reference), current: withoutTenant(body.current), columns: body.columns });
  }

  listComparisons(limit: number | undefined, caller: TenantContext): Promise<ComparisonListResponseDto> {
    return this.mlService.listEdaComparisons(caller, limit);
  }

  getComparison(comparisonId: string, caller: TenantContext): Promise<ComparisonResponseDto> {
    return this.mlService.getEdaComparison(caller, comparisonId);
  }

  getComparisonChart(comparisonId: string, name: string, accept: string | undefined, caller: TenantContext): Promise<ArtifactContent> {
    return this.mlService.getEdaComparisonChart(caller, comparisonId, name, chartMediaType(accept));
  }
}

/** The ML Service takes the tenant from the header and refuses unknown fields. */
function withoutTenant({ source, query, table }: DatasetDto): DatasetDto {
  return { source, query, table };
}
