import { ApiProperty } from '@nestjs/swagger';
import { Matches } from 'class-validator';

export class ProfileIdParamDto {
  @ApiProperty({ example: 'prof-3f9a1c2b4d5e' })
  @Matches(/^prof-[0-9a-f]{12}$/, { message: 'profile_id must look like prof-<12 hex digits>' })
  profile_id!: string;
}
