//! `cinder audit`: the conservation audit (what escrows and pools owe against what their vaults
//! hold, per mint); exit status [`Exit::AuditMismatch`] on any finding.
use cinder_sdk::chain::Chain;

use crate::cli::{Exit, Output};

pub async fn run(chain: &dyn Chain) -> anyhow::Result<Output> {
    let r = crate::audit(chain).await?;
    let mut text = format!(
        "audited {} market(s), {} pool(s), {} live job(s), {} stake(s)\n",
        r.markets, r.pools, r.live_jobs, r.stakes
    );
    for m in &r.mints {
        text.push_str(&format!(
            "mint {}: owed {} held {} {}\n",
            m.mint,
            m.owed,
            m.held,
            if m.ok { "OK" } else { "MISMATCH" }
        ));
    }
    for f in &r.findings {
        text.push_str(&format!("FINDING: {f}\n"));
    }
    text.push_str(if r.ok { "audit passed" } else { "audit FAILED" });
    Ok(Output { text, json: serde_json::to_value(&r)?, code: if r.ok { Exit::Ok } else { Exit::AuditMismatch } })
}
