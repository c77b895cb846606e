/**
 * Routes are closed by default: each one says the least role it needs (`config: { role }`) or
 * that anyone may call it (`config: { public: true }`), and registering one that says neither
 * fails when the app is built, so a forgotten role cannot ship as a public route. Every route
 * registered is listed in `app.routeTable`, which the tests derive their request matrix from.
 */
import type { FastifyInstance, RouteOptions } from 'fastify';
import type { Role } from './auth.js';

/** A route as registered: what tests derive their route lists from. */
export interface RouteEntry {
  method: string;
  url: string;
  /** The least role it needs; undefined for a public route. */
  role?: Role;
}

declare module 'fastify' {
  interface FastifyInstance {
    /** Every route registered on the app, in order. */
    routeTable: RouteEntry[];
  }
}

/**
 * Marks a plugin's scope as serving public files only (the web UI): routes a third-party plugin
 * registers there (@fastify/static's) cannot carry our config, so the scope vouches for them.
 */
const PUBLIC_FILES = Symbol('tributary.publicFiles');

export function servesPublicFilesOnly(scope: FastifyInstance): void {
  (scope as unknown as Record<symbol, boolean>)[PUBLIC_FILES] = true;
}

/** Installs the route table and the rule that every route names a role or is public. */
export function installRouteTable(app: FastifyInstance): void {
  const routeTable: RouteEntry[] = [];
  app.decorate('routeTable', routeTable);
  app.addHook('onRoute', function (this: FastifyInstance, route: RouteOptions) {
    const role = route.config?.role;
    const declaredPublic = route.config?.public === true;
    const publicFiles = (this as unknown as Record<symbol, boolean>)[PUBLIC_FILES] === true;
    if (role && declaredPublic)
      throw new Error(
        `route ${String(route.method)} ${route.url} says both role ${role} and public: choose one`,
      );
    if (!role && !declaredPublic && !publicFiles)
      throw new Error(
        `route ${String(route.method)} ${route.url} names no role: add config: { role: 'viewer' | 'operator' | 'admin' }, or config: { public: true } if anyone may call it`,
      );
    if (publicFiles && route.url.startsWith('/api/'))
      throw new Error(`route ${String(route.method)} ${route.url}: the UI's scope serves no /api`);
    for (const method of [route.method].flat())
      routeTable.push({ method, url: route.url, ...(role ? { role } : {}) });
  });
}
