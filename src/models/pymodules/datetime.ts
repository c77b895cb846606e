/**
 * Python's `datetime` (date, datetime, timedelta, timezone) and `pytz` as dbt's context exposes
 * them in `modules.datetime` / `modules.pytz`, and as agate gives DATE and TIMESTAMP values back
 * from run_query: they print, compare, add and format (strftime/strptime) as Python's do.
 * Dates are held as a day number (days since 1970-01-01) plus microseconds of the day, so every
 * year 1–9999 is exact.
 */
import { TributaryError } from '../../core/index.js';
import { PyFloat, splitArgs } from '../../jinja/index.js';

const US_PER_DAY = 86_400_000_000;
const DAYS = ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday'];
const MONTHS = [
  'January',
  'February',
  'March',
  'April',
  'May',
  'June',
  'July',
  'August',
  'September',
  'October',
  'November',
  'December',
];

function fail(message: string): never {
  throw new TributaryError(message, { code: 'CONFIG' });
}

/** Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil). */
function daysFromCivil(y: number, m: number, d: number): number {
  y -= m <= 2 ? 1 : 0;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

function civilFromDays(z: number): [number, number, number] {
  z += 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor(
    (doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365,
  );
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const d = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const m = mp + (mp < 10 ? 3 : -9);
  return [yoe + era * 400 + (m <= 2 ? 1 : 0), m, d];
}

function daysInMonth(y: number, m: number): number {
  return daysFromCivil(m === 12 ? y + 1 : y, m === 12 ? 1 : m + 1, 1) - daysFromCivil(y, m, 1);
}

function int(v: unknown, what: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v))
    fail(`'${what}' must be an integer, got ${String(v)}`);
  return v;
}

function checkDate(y: number, m: number, d: number): void {
  if (y < 1 || y > 9999) fail(`year ${y} is out of range`);
  if (m < 1 || m > 12) fail('month must be in 1..12');
  if (d < 1 || d > daysInMonth(y, m)) fail('day is out of range for month');
}

/** A Python float: integral values boxed so they print as `5.0`. */
const pyFloat = (n: number): number | PyFloat => (Number.isInteger(n) ? new PyFloat(n) : n);

const pad = (n: number, w = 2) => String(Math.abs(n)).padStart(w, '0');

/** A fixed-offset or named time zone (pytz.utc, pytz.timezone('Europe/Paris'), timezone.utc). */
export class PyTimezone {
  constructor(
    readonly zone: string,
    /** Offset in minutes east of UTC at a given UTC instant (ms). */
    private readonly offsetFn: (utcMs: number) => number,
  ) {}
  offsetAt(utcMs: number): number {
    return this.offsetFn(utcMs);
  }
  /** pytz's localize(naive): the same wall time, in this zone. */
  localize(dt: unknown): PyDateTime {
    if (!(dt instanceof PyDateTime) || dt.tzinfo) fail('localize() needs a naive datetime');
    const guess = this.offsetAt(dt.wallMs());
    const offset = this.offsetAt(dt.wallMs() - guess * 60_000);
    return dt.withZone(this, offset);
  }
  /**
   * The offset a datetime gets when this zone is passed as its tzinfo (`datetime(...,
   * tzinfo=tz)`, `dt.replace(tzinfo=tz)`): pytz's zone object is its first entry, the local mean
   * time rounded to the minute (America/Los_Angeles: -7:53), whatever the date; only localize()
   * and conversions pick the offset in force. A fixed-offset zone has its one offset.
   */
  attachedOffset(): number {
    return this.offsetAt(EARLIEST_ZONE_INSTANT);
  }
  utcoffset(dt: unknown): PyTimedelta | null {
    return dt instanceof PyDateTime && dt.tzinfo === this
      ? PyTimedelta.of(0, dt.offsetMinutes * 60, 0)
      : null;
  }
  __str__(): string {
    return this.zone;
  }
  __repr__(): string {
    return this.zone === 'UTC' ? '<UTC>' : `<DstTzInfo '${this.zone}'>`;
  }
}

/** An instant before any zone's first transition (1700-01-01 UTC): its offset is the local mean time. */
const EARLIEST_ZONE_INSTANT = Date.UTC(1700, 0, 1);

export const UTC = new PyTimezone('UTC', () => 0);

/** pytz.timezone(name): an IANA zone, its offsets from the platform's time zone database. */
export function timezoneNamed(name: unknown): PyTimezone {
  const zone = String(name);
  if (zone.toUpperCase() === 'UTC') return UTC;
  let fmt: Intl.DateTimeFormat;
  try {
    fmt = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
  } catch {
    fail(`UnknownTimeZoneError: '${zone}'`);
  }
  return new PyTimezone(zone, (utcMs) => {
    const parts: Record<string, number> = {};
    for (const p of fmt.formatToParts(new Date(utcMs))) parts[p.type] = Number(p.value);
    const wall = Date.UTC(
      parts.year!,
      parts.month! - 1,
      parts.day!,
      parts.hour!,
      parts.minute!,
      parts.second!,
    );
    return Math.round((wall - Math.floor(utcMs / 1000) * 1000) / 60_000);
  });
}

export class PyTimedelta {
  private constructor(
    readonly days: number,
    readonly seconds: number,
    readonly microseconds: number,
  ) {}

  /** Normalised as Python does: 0 ≤ seconds < 86400, 0 ≤ microseconds < 10^6. */
  static of(days: number, seconds: number, microseconds: number): PyTimedelta {
    let us = Math.round(
      microseconds + (seconds - Math.trunc(seconds)) * 1e6 + (days - Math.trunc(days)) * US_PER_DAY,
    );
    let s = Math.trunc(seconds);
    let d = Math.trunc(days);
    s += Math.floor(us / 1e6);
    us -= Math.floor(us / 1e6) * 1e6;
    d += Math.floor(s / 86400);
    s -= Math.floor(s / 86400) * 86400;
    if (Math.abs(d) > 999_999_999) fail('days must have magnitude <= 999999999');
    return new PyTimedelta(d, s, us);
  }

  static fromMicroseconds(total: number): PyTimedelta {
    const d = Math.floor(total / US_PER_DAY);
    return PyTimedelta.of(d, 0, total - d * US_PER_DAY);
  }

  totalMicroseconds(): number {
    return this.days * US_PER_DAY + this.seconds * 1e6 + this.microseconds;
  }
  total_seconds(): number | PyFloat {
    return pyFloat(this.totalMicroseconds() / 1e6);
  }
  __add__(other: unknown): unknown {
    if (other instanceof PyTimedelta)
      return PyTimedelta.of(
        this.days + other.days,
        this.seconds + other.seconds,
        this.microseconds + other.microseconds,
      );
    return undefined;
  }
  __radd__(other: unknown): unknown {
    return other instanceof PyDate ? other.__add__(this) : undefined;
  }
  __sub__(other: unknown): unknown {
    if (other instanceof PyTimedelta)
      return PyTimedelta.of(
        this.days - other.days,
        this.seconds - other.seconds,
        this.microseconds - other.microseconds,
      );
    return undefined;
  }
  __eq__(other: unknown): boolean {
    return other instanceof PyTimedelta && other.totalMicroseconds() === this.totalMicroseconds();
  }
  __lt__(other: unknown): boolean {
    return other instanceof PyTimedelta && this.totalMicroseconds() < other.totalMicroseconds();
  }
  __str__(): string {
    const hh = Math.floor(this.seconds / 3600);
    const mm = Math.floor((this.seconds % 3600) / 60);
    let out = `${hh}:${pad(mm)}:${pad(this.seconds % 60)}`;
    if (this.microseconds) out += `.${pad(this.microseconds, 6)}`;
    if (this.days) out = `${this.days} day${Math.abs(this.days) === 1 ? '' : 's'}, ${out}`;
    return out;
  }
  __repr__(): string {
    const parts: string[] = [];
    if (this.days) parts.push(`days=${this.days}`);
    if (this.seconds) parts.push(`seconds=${this.seconds}`);
    if (this.microseconds) parts.push(`microseconds=${this.microseconds}`);
    return `datetime.timedelta(${parts.join(', ') || '0'})`;
  }
}

export class PyDate {
  /** Days since 1970-01-01. */
  readonly dayNumber: number;
  readonly year: number;
  readonly month: number;
  readonly day: number;

  constructor(year: number, month: number, day: number) {
    checkDate(year, month, day);
    this.year = year;
    this.month = month;
    this.day = day;
    this.dayNumber = daysFromCivil(year, month, day);
  }

  static fromDayNumber(n: number): PyDate {
    const [y, m, d] = civilFromDays(n);
    return new PyDate(y, m, d);
  }

  weekday(): number {
    return (((this.dayNumber + 3) % 7) + 7) % 7; // 1970-01-01 was a Thursday (3)
  }
  isoweekday(): number {
    return this.weekday() + 1;
  }
  toordinal(): number {
    return this.dayNumber + 719163;
  }
  isocalendar(): number[] {
    const thursday = PyDate.fromDayNumber(this.dayNumber - this.weekday() + 3);
    const week = Math.floor((thursday.dayNumber - daysFromCivil(thursday.year, 1, 1)) / 7) + 1;
    return [thursday.year, week, this.isoweekday()];
  }
  isoformat(): string {
    return `${pad(this.year, 4)}-${pad(this.month)}-${pad(this.day)}`;
  }
  strftime(fmt: unknown): string {
    return strftime(this, String(fmt));
  }
  replace(...raw: unknown[]): PyDate {
    const { kwargs } = splitArgs(raw);
    return new PyDate(
      int(kwargs.year ?? this.year, 'year'),
      int(kwargs.month ?? this.month, 'month'),
      int(kwargs.day ?? this.day, 'day'),
    );
  }
  __add__(other: unknown): unknown {
    if (other instanceof PyTimedelta) return PyDate.fromDayNumber(this.dayNumber + other.days);
    return undefined;
  }
  __sub__(other: unknown): unknown {
    if (other instanceof PyTimedelta) return PyDate.fromDayNumber(this.dayNumber - other.days);
    if (other instanceof PyDate && !(other instanceof PyDateTime))
      return PyTimedelta.of(this.dayNumber - other.dayNumber, 0, 0);
    return undefined;
  }
  __eq__(other: unknown): boolean {
    return (
      other instanceof PyDate &&
      !(other instanceof PyDateTime) &&
      other.dayNumber === this.dayNumber
    );
  }
  __lt__(other: unknown): boolean {
    if (!(other instanceof PyDate) || other instanceof PyDateTime)
      fail(
        `'<' not supported between instances of 'date' and '${other instanceof PyDateTime ? 'datetime' : typeof other}'`,
      );
    return this.dayNumber < other.dayNumber;
  }
  __str__(): string {
    return this.isoformat();
  }
  __repr__(): string {
    return `datetime.date(${this.year}, ${this.month}, ${this.day})`;
  }
  toJSON(): string {
    return this.isoformat();
  }
}

export class PyDateTime extends PyDate {
  readonly hour: number;
  readonly minute: number;
  readonly second: number;
  readonly microsecond: number;

  constructor(
    year: number,
    month: number,
    day: number,
    hour = 0,
    minute = 0,
    second = 0,
    microsecond = 0,
    readonly tzinfo: PyTimezone | null = null,
    /** The zone's offset (minutes) at this instant; 0 when naive. */
    readonly offsetMinutes = 0,
  ) {
    super(year, month, day);
    if (hour < 0 || hour > 23) fail('hour must be in 0..23');
    if (minute < 0 || minute > 59) fail('minute must be in 0..59');
    if (second < 0 || second > 59) fail('second must be in 0..59');
    if (microsecond < 0 || microsecond > 999_999) fail('microsecond must be in 0..999999');
    this.hour = hour;
    this.minute = minute;
    this.second = second;
    this.microsecond = microsecond;
  }

  /** A datetime from days since 1970 and microseconds of the (wall) day. */
  static fromParts(days: number, us: number, tz: PyTimezone | null = null, offset = 0): PyDateTime {
    days += Math.floor(us / US_PER_DAY);
    us -= Math.floor(us / US_PER_DAY) * US_PER_DAY;
    const [y, m, d] = civilFromDays(days);
    const s = Math.floor(us / 1e6);
    return new PyDateTime(
      y,
      m,
      d,
      Math.floor(s / 3600),
      Math.floor((s % 3600) / 60),
      s % 60,
      us % 1e6,
      tz,
      offset,
    );
  }

  /** The instant `ms` (UTC epoch milliseconds) as wall time in `tz` (naive UTC when none). */
  static fromEpochMs(ms: number, tz: PyTimezone | null, extraUs = 0): PyDateTime {
    const offset = tz ? tz.offsetAt(ms) : 0;
    const wall = ms + offset * 60_000;
    const days = Math.floor(wall / 86_400_000);
    return PyDateTime.fromParts(days, (wall - days * 86_400_000) * 1000 + extraUs, tz, offset);
  }

  usOfDay(): number {
    return ((this.hour * 60 + this.minute) * 60 + this.second) * 1e6 + this.microsecond;
  }
  /** The wall time as if it were UTC, in epoch milliseconds. */
  wallMs(): number {
    return this.dayNumber * 86_400_000 + Math.floor(this.usOfDay() / 1000);
  }
  withZone(tz: PyTimezone | null, offset: number): PyDateTime {
    return PyDateTime.fromParts(this.dayNumber, this.usOfDay(), tz, offset);
  }
  date(): PyDate {
    return new PyDate(this.year, this.month, this.day);
  }
  timestamp(): number | PyFloat {
    const local = this.tzinfo ? this.offsetMinutes : 0;
    return pyFloat((this.wallMs() - local * 60_000) / 1000 + (this.microsecond % 1000) / 1e6);
  }
  astimezone(tz: unknown): PyDateTime {
    const zone = tz instanceof PyTimezone ? tz : UTC;
    return PyDateTime.fromEpochMs(
      Math.round(Number(this.timestamp()) * 1000 - (this.microsecond % 1000) / 1000),
      zone,
      this.microsecond % 1000,
    );
  }
  utcoffset(): PyTimedelta | null {
    return this.tzinfo ? PyTimedelta.of(0, this.offsetMinutes * 60, 0) : null;
  }
  offsetText(colon = true): string {
    if (!this.tzinfo) return '';
    const o = this.offsetMinutes;
    return `${o < 0 ? '-' : '+'}${pad(Math.floor(Math.abs(o) / 60))}${colon ? ':' : ''}${pad(Math.abs(o) % 60)}`;
  }
  override isoformat(sep: unknown = 'T'): string {
    let time = `${pad(this.hour)}:${pad(this.minute)}:${pad(this.second)}`;
    if (this.microsecond) time += `.${pad(this.microsecond, 6)}`;
    return `${super.isoformat()}${String(sep)}${time}${this.offsetText()}`;
  }
  override replace(...raw: unknown[]): PyDateTime {
    const { kwargs } = splitArgs(raw);
    const get = (k: keyof PyDateTime) => int(kwargs[k] ?? this[k], k);
    const naive = new PyDateTime(
      get('year'),
      get('month'),
      get('day'),
      get('hour'),
      get('minute'),
      get('second'),
      get('microsecond'),
    );
    // As Python: a tzinfo given is attached as is (pytz: its local mean time); none given keeps
    // this datetime's zone and offset unchanged.
    if ('tzinfo' in kwargs) {
      const tz = kwargs.tzinfo;
      return tz instanceof PyTimezone ? naive.withZone(tz, tz.attachedOffset()) : naive;
    }
    return this.tzinfo ? naive.withZone(this.tzinfo, this.offsetMinutes) : naive;
  }
  override __add__(other: unknown): unknown {
    if (!(other instanceof PyTimedelta)) return undefined;
    const wall = PyDateTime.fromParts(
      this.dayNumber + other.days,
      this.usOfDay() + other.seconds * 1e6 + other.microseconds,
    );
    return this.tzinfo ? wall.withZone(this.tzinfo, this.offsetMinutes) : wall;
  }
  override __sub__(other: unknown): unknown {
    if (other instanceof PyTimedelta)
      return this.__add__(PyTimedelta.of(-other.days, -other.seconds, -other.microseconds));
    if (other instanceof PyDateTime) {
      if (!this.tzinfo !== !other.tzinfo)
        fail("can't subtract offset-naive and offset-aware datetimes");
      const a = this.dayNumber * US_PER_DAY + this.usOfDay() - this.offsetMinutes * 60e6;
      const b = other.dayNumber * US_PER_DAY + other.usOfDay() - other.offsetMinutes * 60e6;
      return PyTimedelta.fromMicroseconds(a - b);
    }
    return undefined;
  }
  private instantUs(): number {
    return this.dayNumber * US_PER_DAY + this.usOfDay() - this.offsetMinutes * 60e6;
  }
  override __eq__(other: unknown): boolean {
    return other instanceof PyDateTime && other.instantUs() === this.instantUs();
  }
  override __lt__(other: unknown): boolean {
    if (!(other instanceof PyDateTime))
      fail("'<' not supported between instances of 'datetime' and 'date'");
    if (!this.tzinfo !== !other.tzinfo)
      fail("can't compare offset-naive and offset-aware datetimes");
    return this.instantUs() < other.instantUs();
  }
  override __str__(): string {
    return this.isoformat(' ');
  }
  override __repr__(): string {
    const parts = [this.year, this.month, this.day, this.hour, this.minute];
    if (this.second || this.microsecond) parts.push(this.second);
    if (this.microsecond) parts.push(this.microsecond);
    const tz = this.tzinfo ? `, tzinfo=${this.tzinfo.__repr__()}` : '';
    return `datetime.datetime(${parts.join(', ')}${tz})`;
  }
  override toJSON(): string {
    return this.isoformat();
  }
}

/** Python's strftime directives (C locale). */
function strftime(v: PyDate, fmt: string): string {
  const dt = v instanceof PyDateTime ? v : undefined;
  const h = dt?.hour ?? 0;
  const yday = v.dayNumber - daysFromCivil(v.year, 1, 1) + 1;
  const wday = (v.weekday() + 1) % 7; // %w: Sunday is 0
  const directive = (c: string): string => {
    switch (c) {
      case 'Y':
        return pad(v.year, 4);
      case 'y':
        return pad(v.year % 100);
      case 'm':
        return pad(v.month);
      case 'd':
        return pad(v.day);
      case 'e':
        return String(v.day).padStart(2, ' ');
      case 'H':
        return pad(h);
      case 'I':
        return pad(h % 12 || 12);
      case 'M':
        return pad(dt?.minute ?? 0);
      case 'S':
        return pad(dt?.second ?? 0);
      case 'f':
        return pad(dt?.microsecond ?? 0, 6);
      case 'p':
        return h < 12 ? 'AM' : 'PM';
      case 'j':
        return pad(yday, 3);
      case 'a':
        return DAYS[v.weekday()]!.slice(0, 3);
      case 'A':
        return DAYS[v.weekday()]!;
      case 'b':
      case 'h':
        return MONTHS[v.month - 1]!.slice(0, 3);
      case 'B':
        return MONTHS[v.month - 1]!;
      case 'w':
        return String(wday);
      case 'u':
        return String(v.isoweekday());
      case 'U':
        return pad(Math.floor((yday + 6 - wday) / 7));
      case 'W':
        return pad(Math.floor((yday + 6 - v.weekday()) / 7));
      case 'V':
        return pad(v.isocalendar()[1]!);
      case 'G':
        return pad(v.isocalendar()[0]!, 4);
      case 'z':
        return dt?.offsetText(false) ?? '';
      case 'Z':
        return dt?.tzinfo?.zone ?? '';
      case 'c':
        return `${directive('a')} ${directive('b')} ${directive('e')} ${directive('H')}:${directive('M')}:${directive('S')} ${directive('Y')}`;
      case 'x':
        return `${directive('m')}/${directive('d')}/${directive('y')}`;
      case 'X':
        return `${directive('H')}:${directive('M')}:${directive('S')}`;
      case 'F':
        return `${directive('Y')}-${directive('m')}-${directive('d')}`;
      case 'T':
        return directive('X');
      case '%':
        return '%';
      default:
        return `%${c}`;
    }
  };
  return fmt.replace(/%(.)/gs, (_, c: string) => directive(c));
}

const STRPTIME: Record<string, [string, string]> = {
  Y: ['year', '\\d{4}'],
  y: ['year2', '\\d{2}'],
  m: ['month', '\\d{1,2}'],
  d: ['day', '\\d{1,2}'],
  H: ['hour', '\\d{1,2}'],
  I: ['hour12', '\\d{1,2}'],
  M: ['minute', '\\d{1,2}'],
  S: ['second', '\\d{1,2}'],
  f: ['us', '\\d{1,6}'],
  p: ['ampm', '[AaPp][Mm]'],
  j: ['yday', '\\d{1,3}'],
  b: ['mon', '[A-Za-z]{3}'],
  B: ['monthname', '[A-Za-z]+'],
  a: ['skip', '[A-Za-z]{3}'],
  A: ['skip', '[A-Za-z]+'],
  z: ['tz', '[+-]\\d{2}:?\\d{2}|Z'],
};

/** datetime.strptime(text, format): a naive datetime (aware when %z matched). */
export function strptime(text: unknown, format: unknown): PyDateTime {
  const s = String(text);
  const fmt = String(format);
  const names: string[] = [];
  let pattern = '';
  for (let i = 0; i < fmt.length; i++) {
    const c = fmt[i]!;
    if (c === '%' && i + 1 < fmt.length) {
      const d = fmt[++i]!;
      if (d === '%') pattern += '%';
      else {
        const spec = STRPTIME[d];
        if (!spec) fail(`'${d}' is a bad directive in format '%${d}'`);
        names.push(spec[0]);
        pattern += `(${spec[1]})`;
      }
    } else pattern += /\s/.test(c) ? '\\s+' : c.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  }
  const m = new RegExp(`^${pattern}$`).exec(s);
  if (!m) fail(`time data '${s}' does not match format '${fmt}'`);
  const f: Record<string, string> = {};
  names.forEach((n, i) => (f[n] = m[i + 1]!));
  const monthFromName = (name: string) =>
    MONTHS.findIndex((x) => x.toLowerCase().startsWith(name.toLowerCase().slice(0, 3))) + 1;
  const year = f.year
    ? Number(f.year)
    : f.year2
      ? 2000 + Number(f.year2) - (Number(f.year2) >= 69 ? 100 : 0)
      : 1900;
  let month = f.month
    ? Number(f.month)
    : f.mon || f.monthname
      ? monthFromName(f.mon ?? f.monthname!)
      : 1;
  let day = f.day ? Number(f.day) : 1;
  if (f.yday) {
    const d = PyDate.fromDayNumber(daysFromCivil(year, 1, 1) + Number(f.yday) - 1);
    [month, day] = [d.month, d.day];
  }
  let hour = f.hour ? Number(f.hour) : f.hour12 ? Number(f.hour12) % 12 : 0;
  if (f.ampm && /p/i.test(f.ampm) && f.hour12) hour += 12;
  const us = f.us ? Number(f.us.padEnd(6, '0')) : 0;
  const naive = new PyDateTime(
    year,
    month,
    day,
    hour,
    Number(f.minute ?? 0),
    Number(f.second ?? 0),
    us,
  );
  if (!f.tz) return naive;
  const offset = offsetMinutesOf(f.tz);
  return naive.withZone(fixedZone(offset), offset);
}

/** Minutes east of UTC of `Z`, `+05`, `+0530` or `-05:30`. */
function offsetMinutesOf(tz: string): number {
  if (tz === 'Z') return 0;
  const digits = tz.slice(1).replace(':', '');
  const minutes = Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2, 4) || 0);
  return tz.startsWith('-') ? -minutes : minutes;
}

/** Python's datetime.timezone(timedelta(...)): prints as `UTC+05:30`, UTC itself when 0. */
function fixedZone(offset: number): PyTimezone {
  if (offset === 0) return UTC;
  const sign = offset < 0 ? '-' : '+';
  const a = Math.abs(offset);
  return new PyTimezone(`UTC${sign}${pad(Math.floor(a / 60))}:${pad(a % 60)}`, () => offset);
}

/** date.fromisoformat / datetime.fromisoformat, and how engine DATE/TIMESTAMP text is read. */
export function fromIsoFormat(text: string, wantDateTime: boolean): PyDate {
  const m =
    /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?\s*(Z|[+-]\d{2}(?::?\d{2})?)?$/.exec(
      text.trim(),
    );
  if (!m) fail(`Invalid isoformat string: '${text}'`);
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (!wantDateTime && m[4] === undefined) return new PyDate(y, mo, d);
  const us = m[7] ? Number(m[7].slice(0, 6).padEnd(6, '0')) : 0;
  const naive = new PyDateTime(
    y,
    mo,
    d,
    Number(m[4] ?? 0),
    Number(m[5] ?? 0),
    Number(m[6] ?? 0),
    us,
  );
  if (!m[8]) return naive;
  const offset = offsetMinutesOf(m[8]);
  return naive.withZone(fixedZone(offset), offset);
}

/** now(tz): the current instant as wall time in `tz`. */
function nowIn(tz: PyTimezone): PyDateTime {
  return PyDateTime.fromEpochMs(Date.now(), tz);
}

/** Local wall time (the machine's zone), as Python's naive now() gives it. */
function localNow(): PyDateTime {
  const ms = Date.now();
  const offset = -new Date(ms).getTimezoneOffset();
  return PyDateTime.fromEpochMs(ms + offset * 60_000, null);
}

/** `modules.datetime`: the classes callable as constructors, with their class methods. */
export function datetimeModule(): Record<string, unknown> {
  const dateCls = Object.assign(
    (...raw: unknown[]) => {
      const { args, kwargs } = splitArgs(raw);
      return new PyDate(
        int(kwargs.year ?? args[0], 'year'),
        int(kwargs.month ?? args[1], 'month'),
        int(kwargs.day ?? args[2], 'day'),
      );
    },
    {
      today: () => localNow().date(),
      fromisoformat: (s: unknown) => fromIsoFormat(String(s), false),
      fromordinal: (n: unknown) => PyDate.fromDayNumber(int(n, 'ordinal') - 719163),
      __repr__: () => "<class 'datetime.date'>",
    },
  );
  const datetimeCls = Object.assign(
    (...raw: unknown[]) => {
      const { args, kwargs } = splitArgs(raw);
      const names = ['year', 'month', 'day', 'hour', 'minute', 'second', 'microsecond'];
      const v = names.map((n, i) => int(kwargs[n] ?? args[i] ?? (i < 3 ? undefined : 0), n));
      const naive = new PyDateTime(v[0]!, v[1]!, v[2]!, v[3], v[4], v[5], v[6]);
      const tz = kwargs.tzinfo ?? args[7];
      return tz instanceof PyTimezone ? naive.withZone(tz, tz.attachedOffset()) : naive;
    },
    {
      now: (tz?: unknown) => (tz instanceof PyTimezone ? nowIn(tz) : localNow()),
      utcnow: () => PyDateTime.fromEpochMs(Date.now(), null),
      today: () => localNow(),
      strptime,
      fromisoformat: (s: unknown) => fromIsoFormat(String(s), true),
      fromtimestamp: (ts: unknown, tz?: unknown) =>
        tz instanceof PyTimezone
          ? PyDateTime.fromEpochMs(Number(ts) * 1000, tz)
          : PyDateTime.fromEpochMs(
              Number(ts) * 1000 - new Date(Number(ts) * 1000).getTimezoneOffset() * 60_000,
              null,
            ),
      utcfromtimestamp: (ts: unknown) => PyDateTime.fromEpochMs(Number(ts) * 1000, null),
      combine: (d: PyDate, t?: PyDateTime) =>
        new PyDateTime(
          d.year,
          d.month,
          d.day,
          t?.hour ?? 0,
          t?.minute ?? 0,
          t?.second ?? 0,
          t?.microsecond ?? 0,
        ),
      __repr__: () => "<class 'datetime.datetime'>",
    },
  );
  const timedeltaCls = (...raw: unknown[]) => {
    const { args, kwargs } = splitArgs(raw);
    const n = (k: string, i: number) => Number(kwargs[k] ?? args[i] ?? 0);
    return PyTimedelta.of(
      n('days', 0) + n('weeks', 6) * 7,
      n('seconds', 1) + n('minutes', 4) * 60 + n('hours', 5) * 3600,
      n('microseconds', 2) + n('milliseconds', 3) * 1000,
    );
  };
  return {
    date: dateCls,
    datetime: datetimeCls,
    timedelta: timedeltaCls,
    timezone: { utc: UTC },
    MINYEAR: 1,
    MAXYEAR: 9999,
  };
}

/** `modules.pytz`: timezone(name), utc, UTC. */
export function pytzModule(): Record<string, unknown> {
  return { timezone: timezoneNamed, utc: UTC, UTC };
}
