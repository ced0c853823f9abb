//! `marcus doctor`: checks what `marcus serve` needs, with the settings it would read, and
//! says for each what it found and what to do when it is not ok. The exit status is 1 when a
//! check fails, so scripts and container probes can act on it.

pub mod check;
pub mod data_dir_check;
pub mod port_check;
pub mod redis_check;
pub mod storage_checks;
pub mod version_check;

use crate::backends::storage_choice::SQLITE_FILE;
use crate::cli::DoctorArgs;
use check::{Check, Status};

/// The Redis key prefix a server uses unless told otherwise (only the link needs one here).
const REDIS_PREFIX: &str = "marcus:";

/// Runs every check and prints them; fails when any check fails.
pub async fn run(args: DoctorArgs) -> anyhow::Result<()> {
    let checks = checks(&args).await?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&as_json(&checks))?);
    } else {
        print!("{}", render(&checks));
    }
    let failed = checks.iter().filter(|c| c.status == Status::Fail).count();
    if failed > 0 {
        anyhow::bail!("{failed} of {} checks failed", checks.len());
    }
    Ok(())
}

/// Every check, in the order a person would fix them.
pub async fn checks(args: &DoctorArgs) -> anyhow::Result<Vec<Check>> {
    let data_dir = crate::data_dir::resolve(args.data_dir.clone())?;
    Ok(vec![
        version_check::marcus(),
        data_dir_check::check(&data_dir),
        storage_checks::sqlite(&data_dir.join(SQLITE_FILE), args.database_url.is_some()),
        storage_checks::postgres(args.database_url.as_deref()).await,
        redis_check::check(args.redis_url.as_deref(), REDIS_PREFIX).await,
        port_check::check(args.listen).await,
        version_check::app(&data_dir),
    ])
}

/// The checks as one JSON object: `ok` (no check failed) and the checks.
pub fn as_json(checks: &[Check]) -> serde_json::Value {
    serde_json::json!({
        "ok": checks.iter().all(|c| c.status != Status::Fail),
        "checks": checks,
    })
}

/// The checks as text: one line each, the fix indented under it.
pub fn render(checks: &[Check]) -> String {
    let width = checks.iter().map(|c| c.name.len()).max().unwrap_or(0);
    let mut out = String::new();
    for c in checks {
        out.push_str(&format!(
            "{:<4}  {:<width$}  {}\n",
            c.status.as_str(),
            c.name,
            c.detail
        ));
        if let Some(fix) = &c.fix {
            out.push_str(&format!("{:<4}  {:<width$}  fix: {fix}\n", "", ""));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_and_json_carry_status_detail_and_fix() {
        let checks = vec![
            Check::ok("data directory", "/d exists"),
            Check::fail("Redis", "no answer", "start Redis"),
        ];
        assert_eq!(
            render(&checks),
            "ok    data directory  /d exists\nfail  Redis           no answer\n                      fix: start Redis\n"
        );
        let v = as_json(&checks);
        assert_eq!(v["ok"], false);
        assert_eq!(v["checks"][1]["status"], "fail");
        assert_eq!(v["checks"][1]["fix"], "start Redis");
        assert_eq!(v["checks"][0]["fix"], serde_json::Value::Null);
    }
}
