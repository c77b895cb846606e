// Reference tables of the e-commerce sample: the product catalogue (with Zipf-like popularity)
// and the 60 store locations, plus their CSV renderings.

import { csvField } from './csv.js';
import { dateOf, padNumber } from './calendar.js';
import {
  CATEGORIES,
  CITIES,
  ADJECTIVES,
  STREET_NAMES,
  STREET_SUFFIXES,
  VARIANTS,
} from './refdata.js';
import type { City, Region } from './refdata.js';
import { Rng, searchCumulative } from './prng.js';

export interface Product {
  id: number;
  sku: string;
  name: string;
  category: string;
  subcategory: string;
  brand: string;
  priceCents: number;
  costCents: number;
  active: boolean;
  createdAt: string;
}

/** Renders integer cents as a 2-decimal string ('-' prefixed when negative). */
export function money(cents: number): string {
  const sign = cents < 0 ? '-' : '';
  const abs = Math.abs(cents);
  const frac = abs % 100;
  return `${sign}${(abs - frac) / 100}.${frac < 10 ? '0' : ''}${frac}`;
}

/** The product catalogue and a popularity-weighted sampler over it. */
export class Catalog {
  readonly products: Product[] = [];
  /** Product indexes from most to least popular. */
  readonly byRank: Int32Array;
  private readonly rankCum: Float64Array;

  constructor(count: number, rng: Rng) {
    const created0 = Date.UTC(2019, 0, 1) / 1000;
    const createdDays = (Date.UTC(2024, 0, 1) / 1000 - created0) / 86_400;
    for (let i = 0; i < count; i++) {
      const cat = rng.pick(CATEGORIES);
      const subIndex = rng.int(cat.subcategories.length);
      const sub = cat.subcategories[subIndex];
      const noun = rng.pick(sub.nouns);
      const brand = rng.pick(cat.brands);
      const adjective = rng.pick(ADJECTIVES);
      const variant = rng.pick(VARIANTS);
      let name: string;
      const style = rng.float();
      if (i % 25 === 7 || style < 0.04) name = `${noun} "${adjective}", ${variant}`;
      else if (style < 0.16) name = `${brand} ${adjective} ${noun}, ${variant}`;
      else if (style < 0.5) name = `${brand} ${adjective} ${noun} - ${variant}`;
      else name = `${brand} ${adjective} ${noun}`;
      const dollars = Math.exp(
        Math.log(cat.minCents / 100) + rng.float() * Math.log(cat.maxCents / cat.minCents),
      );
      const ending = rng.float();
      const whole = Math.max(1, Math.round(dollars));
      const priceCents =
        ending < 0.7 ? whole * 100 - 1 : ending < 0.85 ? whole * 100 - 51 : whole * 100;
      this.products.push({
        id: i + 1,
        sku: `${cat.code}-${subIndex + 1}-${padNumber(i + 1, 5)}`,
        name,
        category: cat.name,
        subcategory: sub.name,
        brand,
        priceCents: Math.max(149, priceCents),
        costCents: Math.round(Math.max(149, priceCents) * (0.35 + rng.float() * 0.35)),
        active: rng.float() < 0.94,
        createdAt: dateOf(created0 + rng.int(createdDays) * 86_400),
      });
    }
    // Popularity: a random permutation of products gets Zipf weights 1 / rank^1.1.
    this.byRank = new Int32Array(count);
    for (let i = 0; i < count; i++) this.byRank[i] = i;
    for (let i = count - 1; i > 0; i--) {
      const j = rng.int(i + 1);
      const t = this.byRank[i];
      this.byRank[i] = this.byRank[j];
      this.byRank[j] = t;
    }
    this.rankCum = new Float64Array(count);
    let acc = 0;
    for (let r = 0; r < count; r++) {
      acc += 1 / (r + 1) ** 1.1;
      this.rankCum[r] = acc;
    }
  }

  /** A product index drawn by popularity. */
  sample(rng: Rng): number {
    const total = this.rankCum[this.rankCum.length - 1];
    return this.byRank[searchCumulative(this.rankCum, rng.float() * total)];
  }

  /** products.csv (with a UTF-8 BOM); `badPrice` holds indexes whose price is made unparseable. */
  toCsv(badPrice: ReadonlySet<number>): string {
    const rows = [
      '\uFEFFproduct_id,sku,product_name,category,subcategory,brand,unit_price,cost,active,created_at',
    ];
    this.products.forEach((p, i) => {
      let price = money(p.priceCents);
      if (badPrice.has(i)) price = `${price.slice(0, -1)}O`; // '19.99' -> '19.9O'
      rows.push(
        `${p.id},${p.sku},${csvField(p.name)},${csvField(p.category)},${csvField(p.subcategory)},` +
          `${csvField(p.brand)},${price},${money(p.costCents)},${p.active},${p.createdAt}`,
      );
    });
    return rows.join('\n') + '\n';
  }
}

export interface Store {
  id: number;
  name: string;
  channel: 'online' | 'store';
  street: string;
  city: City;
  postalCode: string;
  region: Region | 'Online';
}

export const ONLINE_LOCATION_ID = 1;
export const STORE_COUNT = 60;

/**
 * The 60 locations: id 1 is the online store, ids 2..60 are physical stores, one per city
 * (second neighbourhoods fill the rest). Fixed reference data: identical for every seed.
 */
export function buildStores(): Store[] {
  const rng = new Rng(0, 'stores');
  const hq = CITIES[0];
  const stores: Store[] = [
    {
      id: ONLINE_LOCATION_ID,
      name: 'Tributary Online',
      channel: 'online',
      street: '1 Kendall Sq',
      city: hq,
      postalCode: padNumber(hq.zip, 5),
      region: 'Online',
    },
  ];
  for (let pass = 0; stores.length < STORE_COUNT; pass++) {
    for (const city of CITIES) {
      if (stores.length >= STORE_COUNT) break;
      const hood = city.hoods[pass];
      if (hood === undefined) continue;
      const id = stores.length + 1;
      let name = `Tributary ${city.name} ${hood}`;
      if (id % 7 === 3) name = `Tributary Market, ${hood} (${city.name})`;
      else if (id % 11 === 5) name = `The "${hood}" Shop, ${city.name}`;
      stores.push({
        id,
        name,
        channel: 'store',
        street: `${rng.range(1, 999)} ${rng.pick(STREET_NAMES)} ${rng.pick(STREET_SUFFIXES)}`,
        city,
        postalCode: padNumber(city.zip + (pass === 0 ? 0 : rng.int(city.zipSpan)), 5),
        region: city.region,
      });
    }
  }
  return stores;
}

/** stores.csv text. */
export function storesCsv(stores: readonly Store[]): string {
  const rows = ['location_id,store_name,channel,street,city,state,postal_code,region,country'];
  for (const s of stores) {
    rows.push(
      `${s.id},${csvField(s.name)},${s.channel},${csvField(s.street)},${csvField(s.city.name)},` +
        `${s.city.state},${s.postalCode},${s.region},US`,
    );
  }
  return rows.join('\n') + '\n';
}
