//! Criterion benchmarks for timeline extraction on realistic reports written for this bench
//! (a markdown postmortem, a status-page series, a prose summary) and on a 1 MB input, to keep
//! per-report cost in the microsecond-to-millisecond range and catch any non-linear slowdown.

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use rootline::timeline::extract;

const MARKDOWN_POSTMORTEM: &str = r#"# Checkout API outage - March 3, 2024

On March 3, 2024, between 14:02 and 15:47 UTC, about 3,000 customers could not complete
purchases. Roughly 35% of checkout requests failed with HTTP 502 and 503 errors.

## Timeline

Times are UTC.

- **13:55** - Config change to the checkout service connection pool deployed
- **14:02** - Error rate on checkout begins climbing
- **14:09** - PagerDuty alert fires; on-call paged
- **14:12** - On-call acknowledges the page
- **14:30** - Root cause identified: pool size set to 2 instead of 200
- **14:41** - Rollback of the config change started
- **15:05** - Traffic drained from the bad region, workaround in place
- **15:47** - All clear; error rates back to normal

## Root cause

A typo in the payments-db pool settings starved the checkout service of connections
(ECONNRESET, ORA-00060 on the ledger). Version 2.14.0 of the client retried 3:1 too eagerly.

| Time | Event |
|------|-------|
| 2024-03-03 16:30 | Postmortem review held |
| 2024-03-04 09:00 | RCA published |
"#;

const STATUS_PAGE: &str = r#"Globex Cloud had a major incident on Mar 02, 2023 affecting the Main API server.
Update timeline
- investigating Mar 02, 2023, 05:12 AM UTC
We see elevated error rates on the API and are looking into it.
- identified Mar 02, 2023, 05:20 AM UTC
A full cache node is the cause; a fix is being prepared.
- monitoring Mar 02, 2023, 05:30 AM UTC
A fix has been rolled out and we are watching the results.
- resolved Mar 02, 2023, 05:41 AM UTC
Everything works again.
- postmortem Mar 02, 2023, 09:30 AM UTC
On 2 March 2023 a cache node filled up. Timeline: * 4:10 UTC: Alert fired * 4:35 UTC: Cause found in cache layer * 5:05 UTC: Fix shipped * 5:41 UTC: Errors gone Follow Up: split the node between 4:10 UTC - 5:41 UTC windows.
"#;

const PROSE_SUMMARY: &str = "São Paulo region report. On October 9th 2019 8:17AM PST a bulk job in the \
reporting cluster started deleting stale partitions faster than replicas could follow. At 8:52 AM PST \
customers reported empty dashboards and the team was paged. The query tier was restarted at 11:06AM PST \
and full recovery came at 12:40PM PST. Around 25% of requests in the region returned 502 errors.";

fn megabyte() -> String {
    let unit = format!("{MARKDOWN_POSTMORTEM}\n{STATUS_PAGE}\n{PROSE_SUMMARY}\n");
    unit.repeat((1 << 20) / unit.len() + 1)
}

fn bench(c: &mut Criterion) {
    c.bench_function("markdown_postmortem", |b| b.iter(|| extract(black_box(MARKDOWN_POSTMORTEM))));
    c.bench_function("status_page", |b| b.iter(|| extract(black_box(STATUS_PAGE))));
    c.bench_function("prose_summary", |b| b.iter(|| extract(black_box(PROSE_SUMMARY))));
    let big = megabyte();
    let mut g = c.benchmark_group("large");
    g.sample_size(10);
    g.bench_function("one_megabyte", |b| b.iter(|| extract(black_box(&big))));
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
