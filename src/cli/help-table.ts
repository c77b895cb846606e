/**
 * What `tributary --help` lists for each command (commander's term and description), so the
 * listing needs no command module loaded: they pull in the orchestrator, the server and their
 * dependencies (~2 CPU-s). test/cli/lazy-commands.test.ts checks it against the real commands;
 * when a command changes, update its row (the test prints the rows the commands give).
 */
export const COMMAND_HELP: readonly (readonly [term: string, description: string])[] = [
  ['init [options] [dir]', 'create a project folder from a template'],
  ['generate [options]', "write the template's deterministic sample data into the landing folder"],
  [
    'run [options] [select...]',
    'run the pipeline: land, process with contracts, build models, test, report',
  ],
  [
    'forecast [options] [name]',
    'run the forecasts (forecasts/*.yml) and print their backtest accuracy by method',
  ],
  [
    'deps [options]',
    'dbt deps: install the packages in packages.yml/dependencies.yml into dbt_packages/ and write package-lock.yml',
  ],
  [
    'build [options]',
    "dbt build: seeds, models, snapshots and tests in graph order, each node's tests right after it",
  ],
  ['test [options]', 'dbt test: run data tests'],
  ['seed [options]', 'dbt seed: load CSV seeds'],
  ['snapshot [options]', 'dbt snapshot: record changed rows (SCD2)'],
  ['compile [options]', 'dbt compile: write compiled SQL to target/compiled without running it'],
  [
    'run-operation [options] <macro>',
    'dbt run-operation: call a macro (<name> or <package>.<name>) with --args',
  ],
  ['ls [options]', 'dbt ls: list the selected nodes'],
  ['docs', 'dbt docs'],
  ['source', 'dbt source commands'],
  [
    'watch [options]',
    "watch the landing folders: a file that has settled there runs its table's ingestion and everything downstream",
  ],
  [
    'query [options] <sql>',
    'run one read-only SELECT against the warehouse (sandboxed: no writes, files, settings or extensions)',
  ],
  [
    'catalog [options] [table]',
    'list tables with columns, types, row counts, partitions and schema versions',
  ],
  ['runs [options] [run-id]', 'list recent runs, or the steps of one run'],
  ['sync [options] <name>', 'send the changed rows of one sync to its destination (reverse ETL)'],
  [
    'syncs [options] [name]',
    "list syncs with their last run, counts and failures, or one sync's history",
  ],
  [
    'graph [options] [select...]',
    'print the asset graph: every source table, lake table, model, test and report',
  ],
  [
    'lineage [options] <column>',
    'column lineage: what a column is made from (down to the landing file field) and what it feeds (models, dashboard tiles, sync fields)',
  ],
  ['logs [options] <run-id> [step]', "print a run's log, or one step's"],
  [
    'backfill [options] <asset>',
    'run the daily partitions of a partitioned model that are missing or failed',
  ],
  ['partitions [options] <asset>', 'show the status of every partition of a partitioned model'],
  ['schedules [options]', 'list the schedules of tributary.yml with their next ticks'],
  [
    'serve [options]',
    'run the scheduler (cron schedules, file-arrival and upstream-updated triggers, freshness, alerts) and the HTTP API with the web UI, until stopped',
  ],
  [
    'collect [options]',
    'run the stream collector (Kinesis/Firehose API, POST /api/events) and flush its streams into the lake, until stopped',
  ],
  [
    'worker [options]',
    'run steps from the shared work queue, for runs started anywhere (needs PostgreSQL state and warehouse)',
  ],
  ['token', 'API tokens: create (shown once), list, revoke'],
  ['state', "the project's state database (run history, tokens, audit, dead letters…)"],
  ['dlq', 'the dead-letter store: failed events, records and notifications, kept for replay'],
  [
    'schema [options]',
    'write the JSON Schemas of tributary.yml, contract, dashboard, forecast and sync files, for editors',
  ],
  [
    'demo [options] [dir]',
    'create the e-commerce demo project, generate data, run the pipeline and summarise',
  ],
];
