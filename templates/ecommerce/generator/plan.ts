// The in-memory skeleton of the sample: customers (signup time, home city, moves) and orders
// (time, customer, channel, location, status, line count), held in typed arrays so that even
// SF10 stays within a few tens of megabytes. Rows are rendered to files later, in index.ts.

import { DAY, OrderClock, signupTimes, T_END } from './calendar.js';
import { CITIES, TAX_RATE } from './refdata.js';
import { Rng, searchCumulative } from './prng.js';
import type { Store } from './catalog.js';
import { ONLINE_LOCATION_ID } from './catalog.js';

export const STATUSES = ['placed', 'shipped', 'delivered', 'cancelled', 'returned'] as const;
export const CANCELLED = 3;
export const RETURNED = 4;
export const CHANNELS = ['web', 'mobile', 'store'] as const;
export const STORE_CHANNEL = 2;
/** movedCity value for customers who never move. */
export const NO_MOVE = 255;

/** Customer skeleton; index c is customer_id c + 1, ids increase with signup time. */
export interface CustomerPlan {
  count: number;
  signup: Uint32Array;
  homeCity: Uint8Array;
  movedCity: Uint8Array;
  moveTs: Uint32Array;
  firstOrderTs: Uint32Array;
  lastOrderTs: Uint32Array;
  orderCount: Uint32Array;
  /** Customer indexes that move, sorted by move time. */
  movers: number[];
}

/** Order skeleton; index i is order_id i + 1, ids increase with order time. */
export interface OrderPlan {
  count: number;
  ts: Uint32Array;
  customer: Int32Array;
  location: Uint8Array;
  status: Uint8Array;
  channel: Uint8Array;
  /** 0 = no note, 1 = plain note, 2 = note with newline, commas and quotes. */
  note: Uint8Array;
  /** Lines of order i are lineStart[i] .. lineStart[i + 1] - 1 (0-based line indexes). */
  lineStart: Uint32Array;
}

const cityCum = new Float64Array(CITIES.length);
CITIES.reduce((acc, city, i) => (cityCum[i] = acc + city.weight), 0);

/** A city index drawn by population weight. */
export function sampleCity(rng: Rng): number {
  return searchCumulative(cityCum, rng.float() * cityCum[cityCum.length - 1]);
}

/** Plans `count` customers: signup times, home cities and long-tailed purchase propensity. */
export function planCustomers(
  count: number,
  seed: number,
): { plan: CustomerPlan; weightCum: Float64Array } {
  const rng = new Rng(seed, 'customers.plan');
  const signup = signupTimes(count, rng);
  const weightCum = new Float64Array(count);
  const homeCity = new Uint8Array(count);
  let acc = 0;
  for (let c = 0; c < count; c++) {
    acc += (-Math.log(1 - rng.float())) ** 1.5;
    weightCum[c] = acc;
    homeCity[c] = sampleCity(rng);
  }
  const plan: CustomerPlan = {
    count,
    signup,
    homeCity,
    movedCity: new Uint8Array(count).fill(NO_MOVE),
    moveTs: new Uint32Array(count),
    firstOrderTs: new Uint32Array(count),
    lastOrderTs: new Uint32Array(count),
    orderCount: new Uint32Array(count),
    movers: [],
  };
  return { plan, weightCum };
}

/**
 * Plans `count` orders in time order. Each order goes to an already signed-up customer: mostly
 * by long-tailed propensity (repeat buyers), sometimes to a recent signup (first purchases).
 */
export function planOrders(
  count: number,
  seed: number,
  customers: CustomerPlan,
  weightCum: Float64Array,
  stores: readonly Store[],
): OrderPlan {
  const rng = new Rng(seed, 'orders.plan');
  const clock = new OrderClock(count);
  const storesByState = new Map<string, number[]>();
  const physical: number[] = [];
  for (const s of stores) {
    if (s.channel !== 'store') continue;
    physical.push(s.id);
    storesByState.set(s.city.state, [...(storesByState.get(s.city.state) ?? []), s.id]);
  }
  const plan: OrderPlan = {
    count,
    ts: new Uint32Array(count),
    customer: new Int32Array(count),
    location: new Uint8Array(count),
    status: new Uint8Array(count),
    channel: new Uint8Array(count),
    note: new Uint8Array(count),
    lineStart: new Uint32Array(count + 1),
  };
  const { signup } = customers;
  let signedUp = 0; // customers with signup <= ts
  let oldSignups = 0; // customers with signup <= ts - 14 days
  for (let i = 0; i < count; i++) {
    const { ts, online } = clock.place(i, rng);
    while (signedUp < customers.count && signup[signedUp] <= ts) signedUp++;
    while (oldSignups < signedUp && signup[oldSignups] <= ts - 14 * DAY) oldSignups++;
    const c =
      oldSignups < signedUp && rng.chance(0.15)
        ? oldSignups + rng.int(signedUp - oldSignups)
        : searchCumulative(weightCum, rng.float() * weightCum[signedUp - 1], signedUp);
    const years = (ts - T_END) / (365.25 * DAY) + 2;
    const channel = online ? (rng.chance(0.36 + 0.06 * years) ? 1 : 0) : STORE_CHANNEL;
    let location = ONLINE_LOCATION_ID;
    if (channel === STORE_CHANNEL) {
      const local = storesByState.get(CITIES[customers.homeCity[c]].state);
      location = local !== undefined && rng.chance(0.8) ? rng.pick(local) : rng.pick(physical);
    }
    const age = T_END - ts;
    const r = rng.float();
    let status: number;
    if (r < 0.03) status = CANCELLED;
    else if (r < 0.075 && age > 10 * DAY) status = RETURNED;
    else status = age < 2 * DAY ? 0 : age < 6 * DAY ? 1 : 2;
    const n = rng.float();
    plan.ts[i] = ts;
    plan.customer[i] = c;
    plan.location[i] = location;
    plan.status[i] = status;
    plan.channel[i] = channel;
    plan.note[i] = n < 0.01 ? 2 : n < 0.03 ? 1 : 0;
    plan.lineStart[i + 1] = plan.lineStart[i] + 1 + Math.min(rng.geometric(0.4), 14);
    if (customers.orderCount[c] === 0) customers.firstOrderTs[c] = ts;
    customers.lastOrderTs[c] = ts;
    customers.orderCount[c]++;
  }
  return plan;
}

/**
 * Picks 5% of customers to move to another state at a time strictly between their first and
 * last order (only repeat customers whose orders span at least two days qualify).
 */
export function planMoves(customers: CustomerPlan, seed: number): void {
  const rng = new Rng(seed, 'customers.moves');
  const eligible: number[] = [];
  for (let c = 0; c < customers.count; c++) {
    if (
      customers.orderCount[c] >= 2 &&
      customers.lastOrderTs[c] - customers.firstOrderTs[c] >= 2 * DAY
    ) {
      eligible.push(c);
    }
  }
  // Partial Fisher-Yates: exactly 5% of all customers (or every eligible one, if fewer).
  const count = Math.min(eligible.length, Math.round(0.05 * customers.count));
  for (let k = 0; k < count; k++) {
    const j = k + rng.int(eligible.length - k);
    const c = eligible[j];
    eligible[j] = eligible[k];
    eligible[k] = c;
    const first = customers.firstOrderTs[c];
    const span = customers.lastOrderTs[c] - first;
    customers.moveTs[c] = first + 1 + rng.int(span - 1);
    const homeState = CITIES[customers.homeCity[c]].state;
    let city = sampleCity(rng);
    while (CITIES[city].state === homeState) city = sampleCity(rng);
    customers.movedCity[c] = city;
    customers.movers.push(c);
  }
  customers.movers.sort((a, b) => customers.moveTs[a] - customers.moveTs[b] || a - b);
}

/** Sales-tax rate (1/100000 units) per city index. */
export const CITY_TAX: Int32Array = Int32Array.from(CITIES, (city) => TAX_RATE[city.state] ?? 0);

/** City index of customer `c` at time `ts` (after a move, the new city). */
export function cityAt(customers: CustomerPlan, c: number, ts: number): number {
  const moved = customers.movedCity[c];
  return moved !== NO_MOVE && ts >= customers.moveTs[c] ? moved : customers.homeCity[c];
}
