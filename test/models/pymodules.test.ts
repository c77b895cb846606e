/**
 * dbt's `modules` (datetime, pytz, re, itertools) and base functions rendered through the Jinja
 * renderer with the context's own functions, each expectation being what Python prints for the
 * same expression under dbt. No database: relations.test.ts covers those in models.
 */
import { describe, expect, it } from 'vitest';
import { JinjaEnvironment } from '../../src/jinja/index.js';
import { baseFunctions } from '../../src/models/context-functions.js';

const env = new JinjaEnvironment();
const logs: string[] = [];
const globals = baseFunctions(
  (m) => logs.push(m),
  (m) => logs.push(`warning: ${m}`),
);

async function render(source: string): Promise<string> {
  return env.parse(source, 'probe.sql').render(globals);
}

describe('modules.datetime', () => {
  it.each([
    [
      '{{ modules.datetime.date(2024, 2, 29).strftime("%a %d %b %Y, day %j, week %W") }}',
      'Thu 29 Feb 2024, day 060, week 09',
    ],
    ['{{ modules.datetime.datetime(2024, 1, 1, 9, 5).strftime("%I:%M %p") }}', '09:05 AM'],
    ['{{ modules.datetime.datetime(2024, 1, 1, 21, 5, 3, 7) }}', '2024-01-01 21:05:03.000007'],
    [
      '{{ [modules.datetime.datetime(2024, 1, 1, 21, 5)] }}',
      '[datetime.datetime(2024, 1, 1, 21, 5)]',
    ],
    ['{{ [modules.datetime.date(2024, 1, 1)] }}', '[datetime.date(2024, 1, 1)]'],
    [
      '{{ modules.datetime.date(2024, 1, 31) + modules.datetime.timedelta(weeks=1) }}',
      '2024-02-07',
    ],
    [
      '{{ modules.datetime.datetime(2024, 3, 1) - modules.datetime.timedelta(seconds=1) }}',
      '2024-02-29 23:59:59',
    ],
    ['{{ modules.datetime.timedelta(days=-1, hours=2) }}', '-1 day, 2:00:00'],
    ['{{ modules.datetime.timedelta(minutes=90) }}', '1:30:00'],
    [
      '{{ [modules.datetime.timedelta(days=2, seconds=3)] }}',
      '[datetime.timedelta(days=2, seconds=3)]',
    ],
    [
      '{{ modules.datetime.datetime.strptime("03/07/24 5:04PM", "%d/%m/%y %I:%M%p") }}',
      '2024-07-03 17:04:00',
    ],
    [
      '{{ modules.datetime.datetime.strptime("2024-07-03T10:00:00+0200", "%Y-%m-%dT%H:%M:%S%z") }}',
      '2024-07-03 10:00:00+02:00',
    ],
    ['{{ modules.datetime.date.fromisoformat("2024-12-31").weekday() }}', '1'],
    [
      '{{ modules.datetime.datetime.fromisoformat("2024-05-06 07:08:09") .isoformat() }}',
      '2024-05-06T07:08:09',
    ],
    ['{{ modules.datetime.date(2024, 1, 1) < modules.datetime.date(2024, 1, 2) }}', 'True'],
    ['{{ modules.datetime.date(2024, 1, 1) == modules.datetime.date(2024, 1, 1) }}', 'True'],
    ['{{ modules.datetime.date(2024, 5, 17).replace(day=1) }}', '2024-05-01'],
    [
      '{{ modules.datetime.datetime(2024, 6, 1, 12, tzinfo=modules.pytz.utc).astimezone(modules.pytz.timezone("Asia/Kolkata")) }}',
      '2024-06-01 17:30:00+05:30',
    ],
    [
      '{{ modules.pytz.timezone("America/New_York").localize(modules.datetime.datetime(2024, 7, 4)).utcoffset() }}',
      '-1 day, 20:00:00',
    ],
    // A pytz zone given as tzinfo is its first entry, the local mean time rounded to the minute
    // (pytz's documented pitfall, which dbt_date.datetime() meets); localize() picks the real
    // offset, and replace() without tzinfo keeps the offset it had.
    [
      '{{ modules.datetime.datetime(1997, 9, 29, 6, 14, 0, tzinfo=modules.pytz.timezone("America/Los_Angeles")) }}',
      '1997-09-29 06:14:00-07:53',
    ],
    [
      '{{ modules.datetime.datetime(2024, 1, 1, tzinfo=modules.pytz.timezone("America/Los_Angeles")).utcoffset() }}',
      '-1 day, 16:07:00',
    ],
    [
      '{{ modules.datetime.datetime(2024, 7, 4, tzinfo=modules.pytz.timezone("Europe/Paris")) }}',
      '2024-07-04 00:00:00+00:09',
    ],
    [
      '{{ modules.pytz.timezone("America/Los_Angeles").localize(modules.datetime.datetime(1997, 9, 29, 6, 14)).replace(hour=1) }}',
      '1997-09-29 01:14:00-07:00',
    ],
    [
      '{{ modules.pytz.utc.localize(modules.datetime.datetime(2024, 7, 4)).replace(tzinfo=modules.pytz.timezone("America/New_York")) }}',
      '2024-07-04 00:00:00-04:56',
    ],
  ])('%s', async (source, expected) => {
    expect(await render(source)).toBe(expected);
  });

  it('refuses an impossible date as Python does', async () => {
    await expect(render('{{ modules.datetime.date(2023, 2, 29) }}')).rejects.toThrow(
      /day is out of range for month/,
    );
    await expect(
      render('{{ modules.datetime.datetime.strptime("2024-13-01", "%Y-%m-%d") }}'),
    ).rejects.toThrow(/month must be in 1..12/);
  });
});

describe('modules.re', () => {
  it.each([
    [
      String.raw`{{ modules.re.match('\A(\d+)-(?P<rest>.*)\Z', '12-ab').groupdict() }}`,
      "{'rest': 'ab'}",
    ],
    [String.raw`{{ modules.re.match('(\d+)', '12ab').span() }}`, '(0, 2)'],
    [String.raw`{{ modules.re.fullmatch('\d+', '12ab') is none }}`, 'True'],
    [String.raw`{{ modules.re.search('b$', 'ab\n') is not none }}`, 'True'],
    [String.raw`{{ modules.re.subn('o', '0', 'foo boo') }}`, "('f00 b00', 4)"],
    [
      String.raw`{{ modules.re.sub('(?P<y>\d{4})-(\d\d)', '\g<2>/\g<y>', 'on 2024-05') }}`,
      'on 05/2024',
    ],
    [String.raw`{{ modules.re.split('(,)', 'a,b') }}`, "['a', ',', 'b']"],
    [String.raw`{{ modules.re.split(',', 'a,b,c', maxsplit=1) }}`, "['a', 'b,c']"],
    [String.raw`{{ modules.re.findall('(\w)=(\d)', 'a=1 b=2') }}`, "[('a', '1'), ('b', '2')]"],
    [
      String.raw`{{ modules.re.finditer('\d', 'a1b2') | map(attribute='string') | list | length }}`,
      '2',
    ],
    [
      String.raw`{{ modules.re.compile('a b # comment', modules.re.VERBOSE).match('ab') is not none }}`,
      'True',
    ],
    [String.raw`{{ modules.re.compile('^b', modules.re.M).findall('a\nb') }}`, "['b']"],
    [String.raw`{{ modules.re.escape('1+1=2?') }}`, String.raw`1\+1=2\?`],
    [String.raw`{{ modules.re.match('(?P<x>a)(?P=x)', 'aa').group('x') }}`, 'a'],
  ])('%s', async (source, expected) => {
    expect(await render(source)).toBe(expected);
  });

  it('names the construct JavaScript lacks instead of running a different pattern', async () => {
    await expect(render("{{ modules.re.match('a++', 'aa') }}")).rejects.toThrow(
      /possessive quantifiers are not supported in pattern "a\+\+"/,
    );
    await expect(render("{{ modules.re.match('(?(1)a|b)', 'b') }}")).rejects.toThrow(
      /conditional groups/,
    );
  });
});

describe('modules.itertools and base functions', () => {
  it.each([
    ['{{ modules.itertools.product("ab", repeat=2) | list | length }}', '4'],
    [
      '{{ modules.itertools.combinations_with_replacement([1, 2], 2) | list }}',
      '[(1, 1), (1, 2), (2, 2)]',
    ],
    ['{{ modules.itertools.permutations("abc", 2) | list | length }}', '6'],
    ['{{ modules.itertools.chain.from_iterable([[1], [2, 3]]) | list }}', '[1, 2, 3]'],
    ['{{ modules.itertools.islice(range(10), 2, 8, 3) | list }}', '[2, 5]'],
    [
      '{{ modules.itertools.zip_longest([1, 2], ["a"], fillvalue="-") | list }}',
      "[(1, 'a'), (2, '-')]",
    ],
    ['{{ modules.itertools.accumulate([1, 2, 3]) | list }}', '[1, 3, 6]'],
    [
      '{% for k, g in modules.itertools.groupby("aabcc") %}{{ k }}{{ g | length }} {% endfor %}',
      'a2 b1 c2 ',
    ],
    ['{{ set([3, 1, 3]) }}', '{3, 1}'],
    ['{{ set([1, 2]).union([2, 3]) | sort }}', '[1, 2, 3]'],
    ['{{ set([1, 2]).issubset([1, 2, 3]) }}', 'True'],
    ['{{ set(none, default="x") if false else set(5) }}', 'None'],
    ['{{ zip([1], 5) }}', 'None'],
    ['{{ tojson({"b": 1.5, "a": none}, sort_keys=True) }}', '{"a": null, "b": 1.5}'],
    ['{{ fromjson("[1, {\\"a\\": true}]")[1].a }}', 'True'],
    ['{{ toyaml([1, "two", none]) | trim }}', '- 1\n- two\n- null'],
    ['{{ fromyaml("- a\\n- b: 1")[1].b }}', '1'],
    // PyYAML's booleans: the words, not the single letters; a repeated key keeps the last value.
    ['{{ fromyaml("[y, n, yes, Off, true]") }}', "['y', 'n', True, False, True]"],
    ['{{ fromyaml("a: 1\\na: 2") }}', "{'a': 2}"],
    ['{{ toyaml(["y", "yes", "n"]) | trim }}', "- y\n- 'yes'\n- n"],
  ])('%s', async (source, expected) => {
    expect(await render(source)).toBe(expected);
  });

  it('prints a warning through the log', async () => {
    await render("{{ exceptions.warn('careful') }}");
    expect(logs).toContain('warning: careful');
  });
});
