import { ApiProperty } from '@nestjs/swagger';
import { Matches } from 'class-validator';

export class TrainingJobIdParamDto {
  @ApiProperty({ example: 'train-3f9a1c2b4d5e', description: 'As returned by POST /api/v1/ml/train.' })
  @Matches(/^train-[0-9a-f]{12}$/, { message: 'job_id must look like train-<12 hex digits>' })
  job_id!: string;
}
