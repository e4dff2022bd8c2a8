import { ApiProperty } from '@nestjs/swagger';
import { Matches } from 'class-validator';

export class DatasetTableParamDto {
  @ApiProperty({ example: 'uploads.iris', description: '`schema.name`, or a bare `name` for an uploaded table (`uploads.<name>`).' })
  @Matches(/^(?:[A-Za-z_][A-Za-z0-9_]{0,62}\.)?[A-Za-z_][A-Za-z0-9_]{0,62}$/, { message: 'table must be `name` or `schema.name` (letters, digits and _)' })
  table!: string;
}
