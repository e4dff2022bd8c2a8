import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsString, Max, Min } from 'class-validator';
import { TRAINING_JOB_STATUSES } from '@app/ml/training/dto/training-enums';

/**
 * The query of every job listing (`GET /api/v1/ml/training/jobs`, `GET /api/v1/ml/tuning`): one
 * job store holds every kind, so the statuses and the page size are the same for all of them.
 */
export class ListJobsQueryDto {
  /** Optional; when given it must be the caller's own tenant (403 otherwise). */
  @ApiPropertyOptional({ example: 'acme-corp' })
  @IsOptional()
  @IsString()
  tenant_id?: string;

  @ApiPropertyOptional({ enum: TRAINING_JOB_STATUSES, example: 'running' })
  @IsOptional()
  @IsIn(TRAINING_JOB_STATUSES)
  status?: (typeof TRAINING_JOB_STATUSES)[number];

  /** At most this many, newest first. */
  @ApiPropertyOptional({ example: 100, minimum: 1, maximum: 1000, default: 100 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(1000)
  limit?: number;
}
