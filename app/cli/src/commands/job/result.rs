//! `cinder job result`: read a job's output and check it against the on-chain output hash and
//! commitment.
use anyhow::{bail, Context as _};
use cinder_jobs::JobStatus;
use cinder_sdk::{chain::Chain, fetch, Pubkey};
use clap::Args;
use serde_json::{json, Value};

use crate::{
    cli::{Ctx, Exit, Output},
    hex, store,
};

#[derive(Debug, Args)]
pub struct ResultArgs {
    pub job: Pubkey,
}

/// What `job result` needs to recheck a result: from the job account while it exists, else from
/// the job's events.
struct ResultFacts {
    market: Pubkey,
    provider: Pubkey,
    params: cinder_jobs::InferenceParams,
    commitment: [u8; 32],
    output_hash: [u8; 32],
    output_uri: String,
}

async fn result_facts(chain: &dyn Chain, job: &Pubkey) -> anyhow::Result<ResultFacts> {
    if let Some(j) = fetch::<cinder_jobs::Job>(chain, job).await? {
        if !matches!(j.status, JobStatus::Submitted | JobStatus::Challenged) {
            bail!(
                "job {job} is {}: no result yet (follow it with `cinder job watch {job}`)",
                crate::status_name(j.status)
            );
        }
        return Ok(ResultFacts {
            market: j.market,
            provider: j.provider,
            params: j.params,
            commitment: j.commitment,
            output_hash: j.output_hash,
            output_uri: j.output_uri,
        });
    }
    let posted = crate::events_of::<cinder_jobs::JobPosted>(chain, job).await?;
    let posted = posted.iter().find(|e| e.job == *job).with_context(|| format!("no JobPosted event for job {job}"))?;
    let result = crate::events_of::<cinder_jobs::ResultRecorded>(chain, job).await?;
    let result = result
        .iter()
        .rev()
        .find(|e| e.job == *job)
        .with_context(|| format!("job {job} is closed and no ResultRecorded event was found for it"))?;
    Ok(ResultFacts {
        market: posted.market,
        provider: result.provider,
        params: posted.params,
        commitment: result.commitment,
        output_hash: result.output_hash,
        output_uri: result.output_uri.clone(),
    })
}

/// Recomputes the commitment (docs/COMMITMENT.md) from an output record — no model needed: every
/// field it binds is on-chain or in the record.
fn recompute_commitment(job: &Pubkey, f: &ResultFacts, model_id: [u8; 32], record: &Value) -> Option<[u8; 32]> {
    use cinder_inference::{CommitmentInput, DType, FinishReason, SamplingParams};
    let ids = |k: &str| -> Option<Vec<u32>> { serde_json::from_value(record.get(k)?.clone()).ok() };
    let finish = match record.get("finish_reason")?.as_str()? {
        "eos" => FinishReason::Eos,
        "max_tokens" => FinishReason::MaxTokens,
        _ => return None,
    };
    let dtype = match f.params.dtype {
        0 => DType::F32,
        1 => DType::F16,
        2 => DType::Bf16,
        _ => return None,
    };
    let params = SamplingParams {
        max_tokens: f.params.max_tokens,
        temperature: f32::from_bits(f.params.temperature_bits),
        top_k: f.params.top_k,
        top_p: f32::from_bits(f.params.top_p_bits),
        seed: f.params.seed,
    };
    let input = CommitmentInput::new(
        job.to_bytes(),
        f.provider.to_bytes(),
        model_id,
        dtype,
        params,
        ids("prompt_token_ids")?,
        ids("output_token_ids")?,
        finish,
    );
    Some(input.commitment())
}

/// `job result`: reads the output the provider stored under the on-chain output URI and checks it
/// three ways: the file hashes to its `cas://` name; `cinder_inference::output_hash` of its
/// `output_token_ids` equals the on-chain output hash; and the commitment recomputed from the
/// record (prompt and output token ids, finish reason) with the job's on-chain parameters, model,
/// job and provider keys equals the on-chain commitment. Exit status 5 on any mismatch.
pub async fn run(a: &ResultArgs, ctx: &Ctx, chain: &dyn Chain) -> anyhow::Result<Output> {
    let job = &a.job;
    let f = result_facts(chain, job).await?;
    let (bytes, source) = fetch_output(ctx, chain, &f).await?;
    let content_ok = content_name(&f.output_uri).is_none_or(|h| h == store::sha256(&bytes));
    let parsed: Option<Value> = serde_json::from_slice(&bytes).ok();
    let ids: Option<Vec<u32>> =
        parsed.as_ref().and_then(|v| v.get("output_token_ids")).and_then(|v| serde_json::from_value(v.clone()).ok());
    let (computed, method) = match &ids {
        Some(ids) => (cinder_inference::output_hash(ids), "cinder_inference::output_hash(output_token_ids)"),
        None => (store::sha256(&bytes), "sha256(file)"),
    };
    let hash_ok = content_ok && computed == f.output_hash;
    let model_id = crate::fetch_market(chain, &f.market).await.ok().map(|m| m.model_id);
    let recomputed = match (&parsed, model_id) {
        (Some(rec), Some(model_id)) => recompute_commitment(job, &f, model_id, rec),
        _ => None,
    };
    let commitment_ok = recomputed == Some(f.commitment);
    let matches = hash_ok && commitment_ok;
    let text_out = parsed
        .as_ref()
        .and_then(|v| v.get("text").and_then(Value::as_str).map(str::to_owned))
        .unwrap_or_else(|| String::from_utf8_lossy(&bytes).into_owned());
    let json = json!({
        "job": job.to_string(),
        "output_uri": f.output_uri,
        "source": source,
        "output_hash": hex(&f.output_hash),
        "computed_hash": hex(&computed),
        "method": method,
        "content_address_ok": content_ok,
        "commitment": hex(&f.commitment),
        "recomputed_commitment": recomputed.map(|c| hex(&c)),
        "commitment_match": commitment_ok,
        "match": matches,
        "output": text_out,
    });
    let verdict = |ok: bool| if ok { "MATCH" } else { "MISMATCH" };
    let text = format!(
        "{text_out}\n---\n(the text as the provider wrote it; the token ids are what the hash and the commitment check)\nfrom {source}\noutput hash {} ({method}): {}\ncommitment {}: {}",
        hex(&f.output_hash),
        verdict(hash_ok),
        hex(&f.commitment),
        verdict(commitment_ok)
    );
    Ok(Output { text, json, code: if matches { Exit::Ok } else { Exit::ResultMismatch } })
}

/// Largest output `job result` downloads.
pub const MAX_OUTPUT_BYTES: usize = 16 * 1024 * 1024;

/// The content hash an output URI names: `cas://<hex>` or `…/v1/objects/<hex>`.
fn content_name(uri: &str) -> Option<[u8; 32]> {
    match uri.strip_prefix(store::SCHEME) {
        Some(hx) => crate::parse_hex32(hx).ok(),
        None => cinder_sdk::util::object_url_hash(uri),
    }
}

/// The output's bytes and where they came from: its http(s) `output_uri`; for `cas://`, the local
/// store, else the provider's registered endpoint (`GET <endpoint>/v1/objects/<hash>`). What is
/// downloaded under a content name is kept in the local store.
async fn fetch_output(ctx: &Ctx, chain: &dyn Chain, f: &ResultFacts) -> anyhow::Result<(Vec<u8>, String)> {
    let uri = &f.output_uri;
    let url = if uri.starts_with("http://") || uri.starts_with("https://") {
        uri.clone()
    } else {
        let hash = content_name(uri)
            .with_context(|| format!("output URI {uri:?} is neither http(s):// nor cas://<sha256>"))?;
        if let Ok(b) = ctx.store.get(uri) {
            return Ok((b, format!("the local store {}", ctx.store.dir.display())));
        }
        let p: cinder_jobs::Provider =
            fetch(chain, &cinder_sdk::jobs::provider_pda(&f.provider)).await?.with_context(|| {
                format!("{uri} is not in the local store and provider {} is not registered", f.provider)
            })?;
        if !(p.endpoint.starts_with("http://") || p.endpoint.starts_with("https://")) {
            bail!("{uri} is not in the local store, and the provider's endpoint {:?} is not an HTTP URL", p.endpoint);
        }
        cinder_sdk::util::object_url(&p.endpoint, &hash)
    };
    let client = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(30))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .context("building the HTTP client")?;
    let mut resp = client.get(&url).send().await.with_context(|| format!("fetching the output from {url}"))?;
    if !resp.status().is_success() {
        bail!("fetching the output from {url}: HTTP {}", resp.status());
    }
    let mut bytes = Vec::new();
    while let Some(chunk) = resp.chunk().await.with_context(|| format!("reading the output from {url}"))? {
        if bytes.len() + chunk.len() > MAX_OUTPUT_BYTES {
            bail!("the output at {url} is larger than {MAX_OUTPUT_BYTES} bytes");
        }
        bytes.extend_from_slice(&chunk);
    }
    if content_name(uri).is_some_and(|h| h == store::sha256(&bytes)) {
        let _ = ctx.store.put(&bytes);
    }
    Ok((bytes, url))
}
