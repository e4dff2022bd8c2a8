import { Module } from '@nestjs/common';
import { EdaComparisonsController } from '@app/ml/eda/eda-comparisons.controller';
import { EdaController } from '@app/ml/eda/eda.controller';
import { EdaService } from '@app/ml/eda/eda.service';

/** /api/v1/ml/eda. MLServiceClient, ML_OPTIONS and TenantGuard come from the global MlModule. */
@Module({
  controllers: [EdaController, EdaComparisonsController],
  providers: [EdaService],
  exports: [EdaService],
})
export class EdaModule {}
