import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsString, Max, Min } from 'class-validator';
import { SWEEP_STATUSES } from '@app/ml/tuning/dto/tuning-enums';

export class ListTuningSweepsQueryDto {
  /** Optional; when given it must be the caller's own tenant (403 otherwise). */
  @ApiPropertyOptional({ example: 'acme-corp' })
  @IsOptional()
  @IsString()
  tenant_id?: string;

  @ApiPropertyOptional({ enum: SWEEP_STATUSES, example: 'running' })
  @IsOptional()
  @IsIn(SWEEP_STATUSES)
  status?: (typeof SWEEP_STATUSES)[number];

  @ApiPropertyOptional({ example: 100, minimum: 1, maximum: 1000, default: 100 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(1000)
  limit?: number;
}
