import { Module } from '@nestjs/common';
import { DatasetUploadInterceptor } from '@app/ml/datasets/dataset-upload.interceptor';
import { DatasetsController } from '@app/ml/datasets/datasets.controller';
import { DatasetsService } from '@app/ml/datasets/datasets.service';

/** Issue 3: /api/v1/ml/datasets. MLServiceClient, ML_OPTIONS and TenantGuard come from the global MlModule. */
@Module({
  controllers: [DatasetsController],
  providers: [DatasetsService, DatasetUploadInterceptor],
  exports: [DatasetsService],
})
export class DatasetsModule {}
