// Row writers for the transactional tables of the e-commerce sample (customers, orders, order
// lines, payments): each renders its rows from the plan, injects its defects and tallies the
// outcome a processing engine should reach, including cascades from parent tables.

import { dateOf, formatIso, formatSpaced, monthOf, padNumber } from './calendar.js';
import { money } from './catalog.js';
import type { Catalog, Store } from './catalog.js';
import { ChunkedWriter, csvField } from './csv.js';
import { DEFECT_KINDS, Tally, defectCount, placeDefects } from './defects.js';
import type { Reason } from './defects.js';
import {
  CANCELLED,
  CHANNELS,
  CITY_TAX,
  NO_MOVE,
  RETURNED,
  STATUSES,
  STORE_CHANNEL,
  cityAt,
} from './plan.js';
import type { CustomerPlan, OrderPlan } from './plan.js';
import {
  CARD_BRANDS,
  CITIES,
  EMAIL_DOMAINS,
  FIRST_NAMES,
  LAST_NAMES,
  SIMPLE_NOTES,
  STREET_NAMES,
  STREET_SUFFIXES,
  TRICKY_NOTES,
} from './refdata.js';
import type { City } from './refdata.js';
import { Rng, base62, scramble32 } from './prng.js';

const BAD_ORDER_TS = [
  '2025-13-45 10:00:00',
  'not a date',
  '2024-00-12 08:30:00',
  '2025-02-31 25:61:00',
];
const BAD_STATUS = ['shipped?', 'in_transit', 'delivred', 'pending'];
const BAD_QUANTITY = ['two', 'one', '3x', '?'];
const UNKNOWN_CUSTOMER_BASE = 99_000_000;
const UNKNOWN_PRODUCT_BASE = 990_000;

/** Reports rows done so far for one table. */
export type Progress = (done: number) => void;
type ProgressFor = (label: string, total: number) => Progress;

// ---------------------------------------------------------------------------------------------
// customers.json

function asciiName(name: string): string {
  return name
    .replace(/Ł/g, 'L')
    .normalize('NFD')
    .replace(/[^A-Za-z]/g, '')
    .toLowerCase();
}

function address(rng: Rng, city: City) {
  const apt = rng.chance(0.15) ? `, Apt ${rng.range(1, 40)}${rng.pick(['A', 'B', 'C', 'D'])}` : '';
  return {
    street: `${rng.range(1, 9999)} ${rng.pick(STREET_NAMES)} ${rng.pick(STREET_SUFFIXES)}${apt}`,
    city: city.name,
    state: city.state,
    postal_code: padNumber(city.zip + rng.int(city.zipSpan), 5),
    country: 'US',
  };
}

/** Writes customers.json (versions, duplicates, missing emails); `ok` marks surviving ids. */
export async function writeCustomers(
  path: string,
  seed: number,
  customers: CustomerPlan,
  progress: ProgressFor,
): Promise<{ tally: Tally; counts: number[]; ok: Uint8Array }> {
  const rng = new Rng(seed, 'customers.write');
  const counts = Object.keys(DEFECT_KINDS.customers).map(() => defectCount(customers.count));
  const marks = placeDefects(customers.count, counts, new Rng(seed, 'customers.defects'));
  const [MISSING_EMAIL, DUPLICATE] = [1, 2];
  const total = customers.count + counts[1] + customers.movers.length;
  const tick = progress('customers', total);
  const tally = new Tally();
  const ok = new Uint8Array(customers.count);
  const copies = new Map<number, string[]>();
  const moved = new Map<number, string>();
  const out = new ChunkedWriter(path);
  out.add('[\n');
  let rows = 0;
  const emit = async (json: string, reason: Reason | null) => {
    tally.add(reason);
    if (out.add(rows++ === 0 ? json : `,\n${json}`)) await out.flush();
    tick(rows);
  };

  for (let c = 0; c < customers.count; c++) {
    const first = rng.pick(FIRST_NAMES);
    const last = rng.pick(LAST_NAMES);
    const number = rng.chance(0.6) ? String(rng.range(1, 999)) : '';
    const email = `${asciiName(first)}.${asciiName(last)}${number}@${rng.pick(EMAIL_DOMAINS)}`;
    const home = CITIES[customers.homeCity[c]];
    const row = {
      customer_id: c + 1,
      first_name: first,
      last_name: last,
      email: marks[c] === MISSING_EMAIL ? '' : email,
      phone: `+1-${home.areaCode}-555-${padNumber(rng.int(10_000), 4)}`,
      address: address(rng, home),
      segment: rng.chance(0.15) ? 'business' : 'consumer',
      signup_date: dateOf(customers.signup[c]),
      updated_at: formatIso(customers.signup[c]),
    };
    const json = JSON.stringify(row);
    ok[c] = marks[c] === MISSING_EMAIL ? 0 : 1;
    await emit(json, marks[c] === MISSING_EMAIL ? 'required' : null);
    if (marks[c] === DUPLICATE) {
      const target = Math.min(customers.count - 1, c + 1 + rng.int(50));
      copies.set(target, [...(copies.get(target) ?? []), json]);
    }
    for (const copy of copies.get(c) ?? []) await emit(copy, 'duplicate_key');
    if (customers.movedCity[c] !== NO_MOVE) {
      const city = CITIES[customers.movedCity[c]];
      const update = {
        ...row,
        email,
        address: address(rng, city),
        updated_at: formatIso(customers.moveTs[c]),
      };
      moved.set(c, JSON.stringify(update));
      ok[c] = 1; // survives through its newer version even if the first one is quarantined
    }
  }
  // Address changes arrive later, as a change log in move-time order.
  for (const c of customers.movers) await emit(moved.get(c)!, null);
  out.add('\n]\n');
  await out.close();
  return { tally, counts, ok };
}

// ---------------------------------------------------------------------------------------------
// orders.csv

/** Writes orders.csv with its defects and duplicate rows; `ok` marks surviving order ids. */
export async function writeOrders(
  path: string,
  seed: number,
  orders: OrderPlan,
  customerOk: Uint8Array,
  progress: ProgressFor,
): Promise<{ tally: Tally; counts: number[]; ok: Uint8Array }> {
  const rng = new Rng(seed, 'orders.write');
  const counts = Object.keys(DEFECT_KINDS.orders).map(() => defectCount(orders.count));
  const marks = placeDefects(orders.count, counts, new Rng(seed, 'orders.defects'));
  const tick = progress('orders', orders.count + counts[3]);
  const tally = new Tally();
  const ok = new Uint8Array(orders.count);
  const copies = new Map<number, { src: number; row: string }[]>();
  const out = new ChunkedWriter(path);
  out.add('order_id,customer_id,location_id,order_ts,status,channel,notes\n');
  let rows = 0;
  for (let i = 0; i < orders.count; i++) {
    const c = orders.customer[i];
    let customer = String(c + 1);
    let ts = formatSpaced(orders.ts[i]);
    let status: string = STATUSES[orders.status[i]];
    let reason: Reason | null = customerOk[c] ? null : 'foreign_key';
    switch (marks[i]) {
      case 1: // missing_customer_id
        customer = '';
        reason = 'required';
        break;
      case 2: // unparseable_date
        ts = rng.pick(BAD_ORDER_TS);
        reason = 'type';
        break;
      case 3: // unknown_customer
        customer = String(UNKNOWN_CUSTOMER_BASE + rng.int(1_000_000));
        reason = 'foreign_key';
        break;
      case 5: // invalid_status
        status = rng.pick(BAD_STATUS);
        reason = 'allowed_values';
        break;
    }
    const note =
      orders.note[i] === 2
        ? csvField(rng.pick(TRICKY_NOTES))
        : orders.note[i] === 1
          ? rng.pick(SIMPLE_NOTES)
          : '';
    const row = `${i + 1},${customer},${orders.location[i]},${ts},${status},${CHANNELS[orders.channel[i]]},${note}\n`;
    ok[i] = reason === null ? 1 : 0;
    tally.add(reason);
    if (out.add(row)) await out.flush();
    tick(++rows);
    if (marks[i] === 4) {
      // duplicate_id: an exact copy of this (clean) row, a little further down the file.
      const target = Math.min(orders.count - 1, i + 1 + rng.int(100));
      copies.set(target, [...(copies.get(target) ?? []), { src: i, row }]);
    }
    for (const copy of copies.get(i) ?? []) {
      // A copy fails like its original when that failed, else as a duplicate of it.
      tally.add(ok[copy.src] ? 'duplicate_key' : 'foreign_key');
      if (out.add(copy.row)) await out.flush();
      tick(++rows);
    }
  }
  await out.close();
  return { tally, counts, ok };
}

// ---------------------------------------------------------------------------------------------
// order_lines.csv

/** What writeLines needs: the plan, the catalogue and parent survival. */
export interface LinesInput {
  seed: number;
  orders: OrderPlan;
  customers: CustomerPlan;
  stores: readonly Store[];
  catalog: Catalog;
  orderOk: Uint8Array;
  productOk: Uint8Array;
  progress: ProgressFor;
}

/** Tally, per-line products, per-order charge amounts and totals over surviving lines. */
export interface LinesResult {
  tally: Tally;
  counts: number[];
  /** Product id of each line (index = line_id - 1). */
  lineProduct: Int32Array;
  /** Charge amount per order in cents: sum of (gross - discount + tax). */
  amount: Float64Array;
  totals: {
    orders: number;
    lines: number;
    quantity: number;
    gross: number;
    discount: number;
    tax: number;
  };
  months: Map<string, { net: number; orders: number }>;
}

function quantity(rng: Rng): number {
  const r = rng.float();
  return r < 0.75 ? 1 : r < 0.9 ? 2 : r < 0.96 ? 3 : r < 0.985 ? 4 : 5;
}

/** Writes order_lines.csv (prices, discounts, state tax in cents) and totals survivors. */
export async function writeLines(path: string, input: LinesInput): Promise<LinesResult> {
  const { seed, orders, customers, stores, catalog, orderOk, productOk } = input;
  const rng = new Rng(seed, 'lines.write');
  const lineCount = orders.lineStart[orders.count];
  const counts = Object.keys(DEFECT_KINDS.order_lines).map(() => defectCount(lineCount));
  const marks = placeDefects(lineCount, counts, new Rng(seed, 'lines.defects'));
  const tick = input.progress('order_lines', lineCount);
  const tally = new Tally();
  const lineProduct = new Int32Array(lineCount);
  const amount = new Float64Array(orders.count);
  const totals = { orders: 0, lines: 0, quantity: 0, gross: 0, discount: 0, tax: 0 };
  const months = new Map<string, { net: number; orders: number }>();
  const storeTax = stores.map((s) => CITY_TAX[CITIES.indexOf(s.city)]);
  const out = new ChunkedWriter(path);
  out.add('line_id,order_id,product_id,quantity,unit_price,discount,tax_amount\n');
  const chosen: number[] = [];

  for (let i = 0; i < orders.count; i++) {
    const ts = orders.ts[i];
    const rate =
      orders.channel[i] === STORE_CHANNEL
        ? storeTax[orders.location[i] - 1]
        : CITY_TAX[cityAt(customers, orders.customer[i], ts)];
    const month = monthOf(ts);
    let bucket = months.get(month);
    let orderCounted = false;
    chosen.length = 0;
    for (let j = orders.lineStart[i]; j < orders.lineStart[i + 1]; j++) {
      let p = catalog.sample(rng);
      for (let retry = 0; retry < 5 && chosen.includes(p); retry++) p = catalog.sample(rng);
      chosen.push(p);
      const qty = quantity(rng);
      const price = catalog.products[p].priceCents;
      const gross = qty * price;
      const discount = rng.chance(0.25) ? Math.floor((gross * rng.range(5, 20) + 50) / 100) : 0;
      const tax = Math.floor(((gross - discount) * rate + 50_000) / 100_000);
      amount[i] += gross - discount + tax;
      lineProduct[j] = p + 1;

      let productField = String(p + 1);
      let qtyField = String(qty);
      let priceField = money(price);
      let reason: Reason | null = null;
      switch (marks[j]) {
        case 1: // unparseable_quantity
          qtyField = rng.pick(BAD_QUANTITY);
          reason = 'type';
          break;
        case 2: // unparseable_price
          priceField = rng.chance(0.5) ? `${priceField}.${rng.range(1, 9)}` : 'N/A';
          reason = 'type';
          break;
        case 3: // negative_quantity
          qtyField = String(-qty);
          reason = 'range';
          break;
        case 4: // unknown_product
          productField = String(UNKNOWN_PRODUCT_BASE + rng.int(10_000));
          reason = 'foreign_key';
          break;
        case 5: // missing_product_id
          productField = '';
          reason = 'required';
          break;
        default:
          if (!orderOk[i] || !productOk[p]) reason = 'foreign_key';
      }
      tally.add(reason);
      if (reason === null) {
        totals.lines++;
        totals.quantity += qty;
        totals.gross += gross;
        totals.discount += discount;
        totals.tax += tax;
        if (bucket === undefined) months.set(month, (bucket = { net: 0, orders: 0 }));
        bucket.net += gross - discount;
        if (!orderCounted) {
          orderCounted = true;
          bucket.orders++;
          totals.orders++;
        }
      }
      const row = `${j + 1},${i + 1},${productField},${qtyField},${priceField},${money(discount)},${money(tax)}\n`;
      if (out.add(row)) await out.flush();
      tick(j + 1);
    }
  }
  await out.close();
  return { tally, counts, lineProduct, amount, totals, months };
}

// ---------------------------------------------------------------------------------------------
// payments.json

const brandCum = CARD_BRANDS.reduce<number[]>((acc, [, w]) => [...acc, (acc.at(-1) ?? 0) + w], []);

/** Writes payments.json: one Stripe-like charge per non-cancelled order. */
export async function writePayments(
  path: string,
  seed: number,
  orders: OrderPlan,
  orderOk: Uint8Array,
  amount: Float64Array,
  progress: ProgressFor,
): Promise<{ tally: Tally; counts: number[] }> {
  const rng = new Rng(seed, 'payments.write');
  let total = 0;
  for (let i = 0; i < orders.count; i++) if (orders.status[i] !== CANCELLED) total++;
  const counts = [defectCount(total)];
  const marks = placeDefects(total, counts, new Rng(seed, 'payments.defects'));
  const tick = progress('payments', total);
  const tally = new Tally();
  const out = new ChunkedWriter(path);
  // A JSON array of Stripe charge objects: the `data` of every list page, concatenated. (One
  // list object holding them all would be a single multi-hundred-MB JSON value that no reader
  // can split across cores.)
  out.add('[\n');
  let n = 0;
  for (let i = 0; i < orders.count; i++) {
    if (orders.status[i] === CANCELLED) continue;
    const cents = amount[i];
    const returned = orders.status[i] === RETURNED;
    const failed = !returned && rng.chance(0.01);
    const id = `ch_${base62(scramble32(n), 6)}${rng.alnum(18)}`;
    const created = orders.ts[i] + rng.range(2, 900);
    const b = rng.float() * brandCum[brandCum.length - 1];
    const brand = CARD_BRANDS[brandCum.findIndex((x) => x > b)][0];
    const last4 = padNumber(rng.int(10_000), 4);
    const missing = marks[n] === 1;
    const metadata = missing ? '{}' : `{"order_id":"${i + 1}"}`;
    tally.add(missing ? 'required' : orderOk[i] ? null : 'foreign_key');
    const row =
      `${n === 0 ? '' : ',\n'}{"id":"${id}","object":"charge","amount":${cents},` +
      `"amount_refunded":${returned ? cents : 0},"currency":"usd","created":${created},` +
      `"status":"${failed ? 'failed' : 'succeeded'}","paid":${!failed},"refunded":${returned},` +
      `"payment_method_details":{"type":"card","card":{"brand":"${brand}","last4":"${last4}"}},` +
      `"metadata":${metadata}}`;
    n++;
    if (out.add(row)) await out.flush();
    tick(n);
  }
  out.add('\n]\n');
  await out.close();
  return { tally, counts };
}
