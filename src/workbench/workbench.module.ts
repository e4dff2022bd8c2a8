import { Module } from '@nestjs/common';
import { WorkbenchController } from '@app/workbench/workbench.controller';

/**
 * GET /workbench, the browser page over chat and job progress. Imported by the standalone AppModule
 * beside MlModule, not by MlModule: the page signs in with this service's API keys, while a host
 * application embedding MlModule authenticates its own way and has its own pages.
 */
@Module({ controllers: [WorkbenchController] })
export class WorkbenchModule {}
