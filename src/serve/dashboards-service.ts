/** The dashboards' part of the API, registered by the app when the project has dashboards. */
import type { FastifyInstance } from 'fastify';
import type { Role } from './auth.js';

export interface DashboardService {
  /** Adds the /api/dashboards routes, each needing `role`. */
  register(app: FastifyInstance, role: { role: Role }): void;
}
