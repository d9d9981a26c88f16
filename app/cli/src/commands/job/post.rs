//! `cinder job post`: post a job: stores the input in the local store and escrows the payment.
use anyhow::{bail, Context as _};
use cinder_sdk::{chain::Chain, jobs as jsdk, Pubkey};
use clap::Args;
use serde_json::json;
use solana_signer::Signer;
use std::path::PathBuf;

use crate::{
    cli::{Ctx, InferenceArgs, Output},
    commands::{market_keys, sig_out, token_account_or_ata},
    hex,
};

#[derive(Debug, Args)]
pub struct PostArgs {
    #[arg(long)]
    pub market: Pubkey,
    /// The prompt text.
    #[arg(long, conflicts_with = "file", required_unless_present = "file")]
    pub prompt: Option<String>,
    /// A file holding the input.
    #[arg(long)]
    pub file: Option<PathBuf>,
    /// Tokens to escrow (default: the market price).
    #[arg(long)]
    pub payment: Option<u64>,
    #[command(flatten)]
    pub inference: InferenceArgs,
    /// Only this provider may claim the job.
    #[arg(long)]
    pub provider: Option<Pubkey>,
    /// The token account paying (default: your associated token account of the mint).
    #[arg(long)]
    pub token_account: Option<Pubkey>,
    /// Post this URI for the input instead of its `cas://` name in the local store (where it is
    /// still kept): where the workers fetch it, e.g. your own HTTP server. `{sha256}` in it is
    /// replaced by the input's hash (hex). The workers check what they fetch against the hash.
    #[arg(long)]
    pub input_uri: Option<String>,
    /// With --provider: do not upload the input to the provider's endpoint (post `cas://`).
    #[arg(long)]
    pub no_upload: bool,
    /// Do not put a small input (at most MAX_INLINE_INPUT bytes) in the transaction itself.
    /// Inline is the default when the input fits and no --input-uri is given; inline inputs are
    /// public, on-chain, and need no hosting.
    #[arg(long)]
    pub no_inline: bool,
}

pub async fn run(a: &PostArgs, ctx: &Ctx, chain: &dyn Chain) -> anyhow::Result<Output> {
    let PostArgs {
        market,
        prompt,
        file,
        payment,
        inference,
        provider,
        token_account,
        input_uri: given_uri,
        no_upload,
        no_inline,
    } = a;
    let me = ctx.signer()?;
    let bytes = match (prompt, file) {
        (Some(p), _) => p.as_bytes().to_vec(),
        (None, Some(f)) => std::fs::read(f).with_context(|| format!("reading the input file {}", f.display()))?,
        (None, None) => bail!("give the input with --prompt TEXT or --file PATH"),
    };
    let (input_hash, mut input_uri) = ctx.store.put(&bytes)?;
    if let Some(u) = given_uri {
        input_uri = u.replace("{sha256}", &hex(&input_hash));
        if input_uri.is_empty() || input_uri.len() > cinder_jobs::MAX_URI_LEN as usize {
            bail!("--input-uri must be 1 to {} bytes, not {}", cinder_jobs::MAX_URI_LEN, input_uri.len());
        }
    }
    // Inline when it fits and nothing else was asked for.
    let inline = given_uri.is_none() && !*no_inline && bytes.len() <= cinder_jobs::MAX_INLINE_INPUT as usize;
    if inline {
        input_uri = cinder_jobs::INLINE_INPUT_URI.to_owned();
    }
    // Otherwise a designated provider with an HTTP endpoint gets the input uploaded there (after
    // the post: its endpoint takes only inputs of open jobs), and the job names that URL.
    let mut upload_to = None;
    if let (Some(p), None, false, false) = (provider, given_uri, *no_upload, inline) {
        let acc: Option<cinder_jobs::Provider> = cinder_sdk::fetch(chain, &jsdk::provider_pda(p)).await?;
        let acc = acc.with_context(|| format!("provider {p} is not registered"))?;
        if acc.endpoint.starts_with("http://") || acc.endpoint.starts_with("https://") {
            let url = cinder_sdk::util::object_url(&acc.endpoint, &input_hash);
            if url.len() > cinder_jobs::MAX_URI_LEN as usize {
                bail!(
                    "provider {p}'s endpoint makes a {}-byte input URI (at most {}): pass --input-uri",
                    url.len(),
                    cinder_jobs::MAX_URI_LEN
                );
            }
            input_uri = url.clone();
            upload_to = Some(url);
        } else {
            tracing::warn!(provider = %p, endpoint = %acc.endpoint, "the provider has no HTTP endpoint: posting cas:// (it must already hold the input)");
        }
    }
    let (k, m) = market_keys(chain, market).await?;
    let payment = payment.unwrap_or(m.params.price);
    if payment < m.params.price {
        bail!("--payment {payment} is below the market price {}", m.params.price);
    }
    let client_token = token_account_or_ata(chain, *token_account, &me.pubkey(), &k.mint, &k.token_program).await?;
    // The client agrees to the terms it just read; if the market or the protocol fee
    // changes before the post lands, the program refuses it (MarketTermsChanged).
    let config: jsdk::ProtocolConfig = cinder_sdk::fetch(chain, &jsdk::config_pda())
        .await?
        .context("the protocol config does not exist on this cluster")?;
    let args = jsdk::PostJobArgs {
        payment,
        input_hash,
        input_uri: input_uri.clone(),
        params: inference.params(),
        designated: *provider,
        expected_terms: jsdk::terms_hash(&m, &config),
    };
    // The job id is the market's counter: if someone else posts first, read it again.
    let mut attempt = 0;
    let (job_id, r) = loop {
        let next = if attempt == 0 { m.next_job_id } else { crate::fetch_market(chain, market).await?.next_job_id };
        let ix = if inline {
            jsdk::post_job_inline(me.pubkey(), client_token, &k, next, args.clone(), bytes.clone())
        } else {
            jsdk::post_job(me.pubkey(), client_token, &k, next, args.clone())
        };
        match chain.send(&[ix], &me, &[]).await {
            Ok(r) => break (next, r),
            Err(e)
                if e.program_error_code()
                    == Some(cinder_sdk::errors::code_of(cinder_jobs::JobsError::MarketTermsChanged)) =>
            {
                bail!("{e}\nthe market's terms changed since they were read: check them with `cinder list markets` and post again");
            }
            Err(e) if attempt < 2 && e.program_error_code().is_some() => {
                attempt += 1;
                tracing::debug!(error = %e, "post_job failed, retrying with a fresh job id");
            }
            Err(e) => return Err(e).context("post_job"),
        }
    };
    let job = k.job(job_id);
    if let Some(url) = &upload_to {
        upload(url, &bytes).await.with_context(|| {
            format!(
                "job {job_id} ({job}) is posted but its input could not be uploaded to {url}; the provider \
                 cannot serve it: `cinder job cancel {job}` refunds you now (or it expires and refunds you)"
            )
        })?;
    }
    Ok(sig_out(
        &format!("posted job {job_id}: {job}\ninput: {input_uri} ({} bytes)\npayment: {payment}", bytes.len()),
        &r.signature,
        json!({"job": job.to_string(), "job_id": job_id, "market": market.to_string(), "input_uri": input_uri,
               "input_hash": hex(&input_hash), "payment": payment, "uploaded_to": upload_to, "inline": inline}),
    ))
}

/// `PUT`s the input to a provider's endpoint. 403 (its node has not seen the post yet), 429, 503
/// and transport errors are retried for about 10 s; anything else is final.
pub async fn upload(url: &str, bytes: &[u8]) -> anyhow::Result<()> {
    let client = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(30))
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .context("building the HTTP client")?;
    let mut wait = std::time::Duration::from_millis(250);
    let mut last = String::new();
    for _ in 0..8 {
        match client.put(url).body(bytes.to_vec()).send().await {
            Ok(r) if r.status().is_success() => return Ok(()),
            Ok(r) if matches!(r.status().as_u16(), 403 | 408 | 429 | 503) => {
                last = format!("HTTP {}: {}", r.status(), r.text().await.unwrap_or_default());
            }
            Ok(r) => bail!("HTTP {}: {}", r.status(), r.text().await.unwrap_or_default()),
            Err(e) => last = e.without_url().to_string(),
        }
        tracing::debug!(url, %last, ?wait, "upload not taken yet; retrying");
        tokio::time::sleep(wait).await;
        wait = (wait * 2).min(std::time::Duration::from_secs(2));
    }
    bail!("gave up: {last}")
}
