// Web/app clickstream for the sample: a tracked purchase session before some online orders
// (landing page, product views, add-to-cart, checkout, purchase) and anonymous or logged-in
// browsing sessions in between, as NDJSON lines into a sink: clickstream.ndjson, or a replay
// into the collector's Kinesis API (`tributary generate --stream`).

import { formatIsoMs, T_START } from './calendar.js';
import type { Catalog } from './catalog.js';
import { DEFECT_KINDS, Tally, defectCount, placeDefects } from './defects.js';
import type { CustomerPlan, OrderPlan } from './plan.js';
import { STORE_CHANNEL } from './plan.js';
import { DESKTOP_AGENTS, MOBILE_AGENTS, REFERRERS, SEARCH_TERMS } from './refdata.js';
import { Rng, hex32, scramble32 } from './prng.js';

/** Per-order session plan: event counts are fixed up front so defects can be placed. */
export interface ClickPlan {
  /** 1 when the order has a tracked purchase session. */
  purchase: Uint8Array;
  /** 0 = no browsing session before the order, else bits: views (1..3) | 4 add | 8 remove. */
  browse: Uint8Array;
  events: number;
  marks: Uint8Array;
  counts: number[];
}

const INVALID_EVENT_TYPES = ['pageview', 'add-to-cart', 'purchase_complete', 'click'];
const BAD_EVENT_TS = [
  '2025-13-01T00:00:00.000Z',
  'not-a-timestamp',
  '2024-06-15T24:61:00.000Z',
  'yesterday',
];

function purchaseEvents(lines: number): number {
  return 1 + 2 * Math.min(lines, 2) + 2;
}

function browseEvents(code: number): number {
  return 1 + (code & 3) + ((code >> 2) & 1) + ((code >> 3) & 1);
}

/** Decides which orders get sessions (≈ 2.5 events per order overall) and places defects. */
export function planClickstream(orders: OrderPlan, seed: number): ClickPlan {
  const rng = new Rng(seed, 'clickstream.plan');
  const purchase = new Uint8Array(orders.count);
  const browse = new Uint8Array(orders.count);
  let events = 0;
  for (let i = 0; i < orders.count; i++) {
    if (orders.channel[i] !== STORE_CHANNEL && rng.chance(0.4)) {
      purchase[i] = 1;
      events += purchaseEvents(orders.lineStart[i + 1] - orders.lineStart[i]);
    }
    if (rng.chance(0.22)) {
      const add = rng.chance(0.3);
      const code = (1 + rng.int(3)) | (add ? 4 : 0) | (add && rng.chance(0.3) ? 8 : 0);
      browse[i] = code;
      events += browseEvents(code);
    }
  }
  const counts = Object.keys(DEFECT_KINDS.clickstream).map(() => defectCount(events));
  const marks = placeDefects(events, counts, new Rng(seed, 'clickstream.defects'));
  return { purchase, browse, events, marks, counts };
}

function slug(text: string): string {
  return text
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '');
}

const MOBILE_JSON = MOBILE_AGENTS.map((a) => JSON.stringify(a));
const DESKTOP_JSON = DESKTOP_AGENTS.map((a) => JSON.stringify(a));
const REFERRER_JSON = REFERRERS.map((r) => JSON.stringify(r));

/**
 * Where the events go, one NDJSON line (ending in a newline) per add(): a ChunkedWriter for the
 * file, or a stream replay. add() returns true when the caller should `await flush()`.
 */
export interface LineSink {
  add(line: string): boolean;
  flush(): Promise<void>;
  close(): Promise<void>;
}

/** Emits the clickstream events into `out` (closing it) and tallies their expected outcome. */
export async function writeClickstream(
  out: LineSink,
  seed: number,
  plan: ClickPlan,
  orders: OrderPlan,
  customers: CustomerPlan,
  catalog: Catalog,
  lineProduct: Int32Array,
  progress: (done: number) => void,
): Promise<Tally> {
  const rng = new Rng(seed, 'clickstream.write');
  const tally = new Tally();
  const anonSalt = new Rng(seed, 'clickstream.anon').next();
  const categoryPages = catalog.products.map((p) => `/c/${slug(p.category)}`);
  let eventIndex = 0;
  let sessionIndex = 0;
  // JSON fragments shared by all events of the current session.
  let head = '';
  let tail = '';

  const startSession = (customer: number | null, anon: string, agentJson: string): void => {
    const session = `sess_${hex32(scramble32(sessionIndex++ ^ 0x5f3759df))}${rng.hex(8)}`;
    head = `"session_id":"${session}","customer_id":${customer},"anonymous_id":"${anon}",`;
    tail = `"referrer":${rng.pick(REFERRER_JSON)},"user_agent":${agentJson},`;
  };
  /** Buffers one event (page paths are plain ASCII); true when the writer wants a flush. */
  const emit = (type: string, product: number | null, page: string, sec: number): boolean => {
    const mark = plan.marks[eventIndex];
    let ts = formatIsoMs(sec, rng.int(1000));
    if (mark === 1) type = rng.pick(INVALID_EVENT_TYPES);
    else if (mark === 2) ts = rng.pick(BAD_EVENT_TS);
    tally.add(mark === 1 ? 'allowed_values' : mark === 2 ? 'type' : null);
    const id = `evt_${hex32(scramble32(eventIndex))}${rng.hex(12)}`;
    eventIndex++;
    progress(eventIndex);
    return out.add(
      `{"event_id":"${id}",${head}"event_type":"${type}","product_id":${product},` +
        `"page":"${page}",${tail}"event_ts":"${ts}"}\n`,
    );
  };
  const anonOf = (c: number): string => `anon_${hex32(scramble32(c ^ anonSalt))}`;
  const landingPage = (product: number): string => {
    const r = rng.float();
    if (r < 0.4) return '/';
    if (r < 0.8) return categoryPages[product - 1];
    return `/search?q=${rng.pick(SEARCH_TERMS)}`;
  };

  let signedUp = 0;
  for (let i = 0; i < orders.count; i++) {
    const orderTs = orders.ts[i];
    const code = plan.browse[i];
    if (code !== 0) {
      // A browsing session shortly before the order: anonymous, or a signed-up customer.
      while (signedUp < customers.count && customers.signup[signedUp] <= orderTs) signedUp++;
      const customer = signedUp > 0 && rng.chance(0.35) ? rng.int(signedUp) : -1;
      const agent = rng.chance(0.5) ? rng.pick(MOBILE_JSON) : rng.pick(DESKTOP_JSON);
      if (customer >= 0) startSession(customer + 1, anonOf(customer), agent);
      else startSession(null, `anon_${rng.hex(8)}`, agent);
      let sec = Math.max(T_START, orderTs - rng.range(600, 7200));
      let product = catalog.sample(rng) + 1;
      if (emit('page_view', null, landingPage(product), sec)) await out.flush();
      for (let v = 0; v < (code & 3); v++) {
        if (v > 0) product = catalog.sample(rng) + 1;
        sec += rng.range(5, 120);
        if (emit('product_view', product, `/products/${product}`, sec)) await out.flush();
      }
      if (code & 4) {
        sec += rng.range(5, 120);
        if (emit('add_to_cart', product, '/cart', sec)) await out.flush();
      }
      if (code & 8) {
        sec += rng.range(5, 120);
        if (emit('remove_from_cart', product, '/cart', sec)) await out.flush();
      }
    }
    if (plan.purchase[i] === 1) {
      // The tracked session that led to the order; the purchase event is at the order time.
      const c = orders.customer[i];
      const first = orders.lineStart[i];
      const viewed = Math.min(orders.lineStart[i + 1] - first, 2);
      const mobile = orders.channel[i] === 1;
      startSession(c + 1, anonOf(c), mobile ? rng.pick(MOBILE_JSON) : rng.pick(DESKTOP_JSON));
      const checkout = orderTs - rng.range(30, 240);
      let sec = checkout;
      const steps: number[] = [];
      for (let v = 0; v < 2 * viewed + 1; v++) steps.push((sec -= rng.range(5, 120)));
      const at = (k: number): number => Math.max(T_START, steps[steps.length - 1 - k]);
      if (emit('page_view', null, landingPage(lineProduct[first]), at(0))) await out.flush();
      for (let v = 0; v < viewed; v++) {
        const product = lineProduct[first + v];
        const page = `/products/${product}`;
        if (emit('product_view', product, page, at(1 + 2 * v))) await out.flush();
        if (emit('add_to_cart', product, page, at(2 + 2 * v))) await out.flush();
      }
      if (emit('checkout_start', null, '/checkout', Math.max(T_START, checkout))) await out.flush();
      if (emit('purchase', null, '/checkout/confirmation', orderTs)) await out.flush();
    }
  }
  await out.close();
  if (eventIndex !== plan.events)
    throw new Error(`clickstream plan mismatch: ${eventIndex} != ${plan.events}`);
  return tally;
}
