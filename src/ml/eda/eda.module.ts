import { Module } from '@nestjs/common';
import { EdaController } from '@app/ml/eda/eda.controller';
import { EdaService } from '@app/ml/eda/eda.service';

/** /api/v1/ml/eda. MLServiceClient, ML_OPTIONS and TenantGuard come from the global MlModule. */
@Module({
  controllers: [EdaController],
  providers: [EdaService],
})
export class EdaModule {}
