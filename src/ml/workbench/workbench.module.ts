import { Module } from '@nestjs/common';
import { WorkbenchController } from '@app/ml/workbench/workbench.controller';

/** GET /workbench, the browser page over chat and job progress; part of MlModule, so a host application serves it too. */
@Module({ controllers: [WorkbenchController] })
export class WorkbenchModule {}
