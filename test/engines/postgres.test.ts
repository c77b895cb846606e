import { openPostgres } from '../../src/engines/index.js';
import { postgresTestUrl, serviceAvailable } from '../services.js';
import { describeEngineConformance } from './conformance.js';

const available = await serviceAvailable('postgres', postgresTestUrl);

describeEngineConformance('postgres', () => openPostgres({ url: postgresTestUrl }), {
  skip: !available,
});
