import { ApiProperty } from '@nestjs/swagger';
import { Matches } from 'class-validator';

export class SweepIdParamDto {
  @ApiProperty({ example: 'sweep-3f9a1c2b4d5e', description: 'As returned by POST /api/v1/ml/tuning.' })
  @Matches(/^sweep-[0-9a-f]{12}$/, { message: 'sweep_id must look like sweep-<12 hex digits>' })
  sweep_id!: string;
}
