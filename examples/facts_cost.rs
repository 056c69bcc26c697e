//! What reading timelines and breakdowns apart costs: for each table of the
//! `discovery-flow` profile, the facts statement of all its row checks at
//! once (what `check` and `watch` send for checks whose pass kept too few
//! of their offending rows), timed.
//!
//! `cargo run --release --example facts_cost -- postgres://…/tether_demo`

use tether::checks::plan::{Plan, PlanOptions, Work};
use tether::db::{Db, SessionOptions};

#[tokio::main]
async fn main() -> color_eyre::Result<()> {
    let url = std::env::args()
        .nth(1)
        .ok_or_else(|| color_eyre::eyre::eyre!("usage: facts_cost URL"))?;
    let db = Db::connect(&url, SessionOptions::default()).await?;
    let profile = tether::profile::Profile::load("discovery-flow")?;
    let schema = tether::catalog::read(&db, &[]).await?;
    let plan = Plan::build(schema, Some(&profile), &PlanOptions::default());
    let mut tables: std::collections::BTreeMap<usize, Vec<usize>> = Default::default();
    for (i, check) in plan.checks.iter().enumerate() {
        if let (Work::Rows(_), Some(t)) = (&check.work, check.table) {
            tables.entry(t.index()).or_default().push(i);
        }
    }
    let all = std::time::Instant::now();
    for (t, checks) in tables {
        let started = std::time::Instant::now();
        let (facts, _) = tether::offending::facts_of_table(&db, &plan, &checks)
            .await
            .map_err(|e| color_eyre::eyre::eyre!(e))?;
        let found = facts
            .iter()
            .filter(|f| f.timeline.as_ref().is_some_and(|t| t.rows > 0))
            .count();
        println!(
            "{}: {} checks ({found} with offending rows) in {:.2} s",
            plan.schema.tables[t].name.name,
            checks.len(),
            started.elapsed().as_secs_f64()
        );
    }
    println!("every table: {:.2} s", all.elapsed().as_secs_f64());
    db.close().await;
    Ok(())
}
