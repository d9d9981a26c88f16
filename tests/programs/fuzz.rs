#![allow(deprecated)]
//! A stateful fuzzer over every instruction of the four programs, driven by a seeded RNG.
//!
//! Actors: two clients, the provider, four verifiers, the market creator / admins, and an
//! attacker. Besides the honest moves it makes hostile ones: stray transfers into any job, bond or
//! stake vault, parties closing their own token accounts (moving their tokens to a new one),
//! admin updates of every setting at any time, accounts of the wrong parent or owner, stale market
//! terms, and time and slot warps across every boundary. Every transaction may fail; after every
//! step the checklist's conservation invariants are checked (`World::check_invariants`). At the
//! end a drain, with honest actions only, must bring every job and dispute to a terminal state
//! and every escrow vault to zero.
//!
//! The principle it enforces: no action of any single party — sending tokens anywhere, closing its
//! own accounts, changing what it administers — can make another party's funds unrecoverable.
//!
//! `CINDER_FUZZ_SEED=<n>` replays one seed; `CINDER_FUZZ_STEPS=<n>` sets the steps per seed. On
//! any failure the seed, the step and the last 40 moves (with their outcomes) are printed. A seed
//! fixes every choice the fuzzer makes and every key the fixture creates, and the SlotHashes
//! sysvar is pinned to seed-derived hashes before each draw, so a replay draws the same quorums
//! and takes the same path (`replays_are_identical` checks it).
use std::collections::BTreeMap;

use anchor_lang::{prelude::Pubkey, AccountDeserialize};
use cinder_jobs::{JobStatus, MarketParams};
use cinder_sdk::{
    jobs::{self as jsdk, MarketKeys},
    staking as ssdk,
    verification::{self as vsdk, DisputeParties},
    Instruction,
};
use cinder_tests::{
    world::{market_params, Party, World, PRICE},
    TokenKind,
};
use cinder_verification::{DisputeOutcome, VOTE_ABSTAIN, VOTE_RESULT_CORRECT, VOTE_RESULT_WRONG};
use solana_keypair::Keypair;
use solana_signer::Signer;

/// SplitMix64: small, seedable, the same on every machine.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    fn pick<'a, T>(&mut self, v: &'a [T]) -> Option<&'a T> {
        if v.is_empty() {
            None
        } else {
            v.get(self.below(v.len() as u64) as usize)
        }
    }
    fn chance(&mut self, pct: u64) -> bool {
        self.below(100) < pct
    }
}

/// Counts of what happened, for the report.
#[derive(Default, Debug)]
pub struct Stats {
    pub steps: u64,
    pub sent: u64,
    pub succeeded: u64,
    pub by_action: BTreeMap<&'static str, (u64, u64)>,
    pub strays: u64,
    pub drained_jobs: u64,
    /// Every move's name and outcome (the error's name when it failed), in order: two runs of one
    /// seed must produce the same path.
    pub path: Vec<String>,
}

struct Fuzz {
    w: World,
    rng: Rng,
    /// A second client, with its own token account.
    client2: Party,
    attacker: Party,
    /// The two wallets the admin rotates the protocol treasury between, with their token accounts.
    treasuries: Vec<Party>,
    /// Index into `treasuries` of `config.treasury`.
    treasury_now: usize,
    /// Votes each member will reveal (vote, salt), by (job, member).
    votes: BTreeMap<(u64, Pubkey), u8>,
    stats: Stats,
    nonce: u64,
    seed: u64,
}

const MAX_LIVE: usize = 10;

impl Fuzz {
    async fn new(seed: u64) -> Fuzz {
        let token = if seed.is_multiple_of(2) { TokenKind::Spl } else { TokenKind::Token2022 };
        let mut w = World::new_seeded(token, 4, seed).await;
        let (kp, t) = w.fx.funded_wallet(w.mint, 1_000_000).await;
        let client2 = Party { kp, token: t };
        let (kp, t) = w.fx.funded_wallet(w.mint, 1_000_000).await;
        let attacker = Party { kp, token: t };
        let t1 = w.fx.wallet(1_000_000_000).await;
        let t1_token = w.fx.create_token_account(w.mint, t1.pubkey()).await;
        let t0 = Party { kp: w.treasury.kp.insecure_clone(), token: w.treasury.token };
        let treasuries = vec![t0, Party { kp: t1, token: t1_token }];
        Fuzz {
            w,
            rng: Rng(seed),
            client2,
            attacker,
            treasuries,
            treasury_now: 0,
            votes: BTreeMap::new(),
            stats: Stats::default(),
            nonce: 0,
            seed,
        }
    }

    fn payer(&self) -> Pubkey {
        self.w.fx.ctx.payer.pubkey()
    }

    /// The market keys with the fee account of the current protocol treasury.
    fn mk(&self) -> MarketKeys {
        MarketKeys { treasury_token: self.treasuries[self.treasury_now].token, ..self.w.mk }
    }

    async fn send(&mut self, what: &'static str, ixs: &[Instruction], signers: &[&Keypair]) -> bool {
        self.nonce += 1;
        let r = self.w.fx.send_nonce(ixs, signers, self.nonce).await;
        let ok = r.result.is_ok();
        let outcome = match &r.result {
            Ok(()) => "ok".to_string(),
            Err(e) => {
                let e = format!("{e:?}");
                cinder_sdk::chain::local::custom_code(&e).map(cinder_sdk::errors::describe_code).unwrap_or(e)
            }
        };
        trace(format!("step {}: {what}: {outcome}", self.stats.steps));
        self.stats.path.push(format!("{what}: {outcome}"));
        self.stats.sent += 1;
        self.stats.succeeded += ok as u64;
        let e = self.stats.by_action.entry(what).or_default();
        e.0 += 1;
        e.1 += ok as u64;
        ok
    }

    async fn live_jobs(&mut self) -> Vec<(u64, cinder_jobs::Job)> {
        let mut out = vec![];
        for id in self.w.jobs.clone() {
            if let Some(j) = self.w.job(id).await {
                out.push((id, j));
            }
        }
        out
    }

    fn client_of(&self, job: &cinder_jobs::Job) -> &Party {
        if job.client == self.client2.key() {
            &self.client2
        } else {
            &self.w.client
        }
    }

    fn parties(&self, job: &cinder_jobs::Job, challenger: &Pubkey) -> DisputeParties {
        let c = self.client_of(job);
        let ch = self.w.verifiers.iter().find(|v| v.key() == *challenger).expect("challenger is a verifier");
        DisputeParties {
            client: c.key(),
            client_token: c.token,
            provider: job.provider,
            provider_token: self.w.provider.token,
            challenger: ch.key(),
            challenger_token: ch.token,
        }
    }

    // ---- moves -----------------------------------------------------------------------------

    async fn post(&mut self) {
        if self.live_jobs().await.len() >= MAX_LIVE {
            return;
        }
        let second = self.rng.chance(40);
        let client = if second { self.client2.kp.insecure_clone() } else { self.w.client.kp.insecure_clone() };
        let token = if second { self.client2.token } else { self.w.client.token };
        // Mostly the current terms; sometimes terms read before a change (must be refused).
        if self.rng.chance(85) {
            self.w.refresh_terms().await;
        }
        let mut args = self.w.post_args(PRICE + self.rng.below(3) * 100);
        args.designated = match self.rng.below(10) {
            0 => Some(self.w.provider.key()),
            1 => Some(Pubkey::new_unique()),
            _ => None,
        };
        let id = self.w.market().await.next_job_id;
        // Sometimes the input travels inline (now and then one byte too long: refused).
        let (ix, name) = if self.rng.chance(20) {
            let len = if self.rng.chance(10) {
                cinder_jobs::MAX_INLINE_INPUT as usize + 1
            } else {
                1 + self.rng.below(cinder_jobs::MAX_INLINE_INPUT as u64) as usize
            };
            (jsdk::post_job_inline(client.pubkey(), token, &self.w.mk, id, args, vec![7; len]), "post_job_inline")
        } else {
            (jsdk::post_job(client.pubkey(), token, &self.w.mk, id, args), "post_job")
        };
        if self.send(name, &[ix], &[&client]).await {
            self.w.jobs.push(id);
        }
    }

    async fn cancel(&mut self) {
        let jobs = self.live_jobs().await;
        let Some((id, job)) = self.rng.pick(&jobs).cloned() else { return };
        let c = self.client_of(&job);
        let (kp, token) = (c.kp.insecure_clone(), c.token);
        let ix = jsdk::cancel_job(kp.pubkey(), token, &self.w.mk, id);
        self.send("cancel_job", &[ix], &[&kp]).await;
    }

    async fn claim(&mut self) {
        let m = self.w.market().await;
        let me = self.w.provider.key();
        let mut skips = vec![];
        for id in m.queue_head..m.next_job_id.min(m.queue_head + 16) {
            match self.w.job(id).await {
                Some(j) if j.status == JobStatus::Open && j.designated == Some(me) => {
                    let ix = jsdk::claim_job(me, &self.w.mk, id, &[]);
                    let kp = self.w.provider.kp.insecure_clone();
                    self.send("claim_job (designated)", &[ix], &[&kp]).await;
                    return;
                }
                Some(j) if j.status == JobStatus::Open && j.designated.is_none() => {
                    let ix = jsdk::claim_job(me, &self.w.mk, id, &skips);
                    let kp = self.w.provider.kp.insecure_clone();
                    self.send("claim_job", &[ix], &[&kp]).await;
                    return;
                }
                _ => skips.push(id),
            }
        }
        if !skips.is_empty() {
            let n = skips.len().min(cinder_jobs::MAX_QUEUE_ADVANCE as usize);
            let ix = jsdk::advance_queue(self.attacker.key(), &self.w.mk, &skips[..n]);
            let kp = self.attacker.kp.insecure_clone();
            self.send("advance_queue", &[ix], &[&kp]).await;
        }
    }

    async fn submit(&mut self) {
        let jobs: Vec<_> = self.live_jobs().await.into_iter().filter(|(_, j)| j.status == JobStatus::Claimed).collect();
        let Some((id, _)) = self.rng.pick(&jobs).cloned() else { return };
        // A wrong result now and then (the verifiers will dispute it).
        let commitment = if self.rng.chance(25) { [9; 32] } else { [2; 32] };
        let ix = self.w.submit_ix(id, commitment);
        let kp = self.w.provider.kp.insecure_clone();
        self.send("submit_result", &[ix], &[&kp]).await;
    }

    async fn challenge(&mut self) {
        let jobs: Vec<_> =
            self.live_jobs().await.into_iter().filter(|(_, j)| j.status == JobStatus::Submitted).collect();
        let Some((id, _)) = self.rng.pick(&jobs).cloned() else { return };
        let v = self.rng.below(4) as usize;
        let ix = self.w.challenge_ix(id, v).await;
        let kp = self.w.verifiers[v].kp.insecure_clone();
        self.send("challenge_result", &[ix], &[&kp]).await;
    }

    async fn disputes(&mut self) -> Vec<(u64, vsdk::Dispute)> {
        let mut out = vec![];
        for id in self.w.jobs.clone() {
            if let Some(d) = self.w.dispute(id).await {
                out.push((id, d));
            }
        }
        out
    }

    async fn draw(&mut self) {
        let ds: Vec<_> = self.disputes().await.into_iter().filter(|(_, d)| !d.drawn()).collect();
        let Some((id, d)) = self.rng.pick(&ds).cloned() else { return };
        self.w.fx.pin_slot_hashes(self.seed).await;
        let ix = if d.seed == [0; 32] {
            vsdk::draw_quorum(self.payer(), &self.w.mk, &self.w.mk.job(id), &[])
        } else {
            match self.w.draw_ix(id).await {
                Some(ix) => ix,
                None => return,
            }
        };
        self.send("draw_quorum", &[ix], &[]).await;
    }

    async fn vote(&mut self) {
        let ds: Vec<_> = self.disputes().await.into_iter().filter(|(_, d)| d.drawn()).collect();
        let Some((id, d)) = self.rng.pick(&ds).cloned() else { return };
        let i = self.rng.below(d.member_count as u64) as usize;
        let m = d.members[i];
        let kp = self.w.verifier_by_key(&m).kp.insecure_clone();
        let job = self.w.mk.job(id);
        if d.commitments[i] == [0; 32] {
            let vote = match self.rng.below(10) {
                0..=6 => VOTE_RESULT_WRONG,
                7..=8 => VOTE_RESULT_CORRECT,
                _ => VOTE_ABSTAIN,
            };
            self.votes.insert((id, m), vote);
            let c = vsdk::vote_commitment(&vsdk::dispute_pda(&job), &m, vote, &m.to_bytes());
            self.send("commit_vote", &[vsdk::commit_vote(m, &job, c)], &[&kp]).await;
        } else if let Some(v) = self.votes.get(&(id, m)).copied() {
            self.send("reveal_vote", &[vsdk::reveal_vote(m, &job, v, m.to_bytes())], &[&kp]).await;
        }
    }

    async fn resolve(&mut self) {
        let ds: Vec<_> =
            self.disputes().await.into_iter().filter(|(_, d)| d.outcome == DisputeOutcome::Pending).collect();
        let Some((id, d)) = self.rng.pick(&ds).cloned() else { return };
        let Some(job) = self.w.job(id).await else { return };
        let p = self.parties(&job, &d.challenger);
        let ix = vsdk::resolve_dispute(self.payer(), &self.mk(), &self.w.mk.job(id), &p);
        self.send("resolve_dispute", &[ix], &[]).await;
    }

    async fn settle_vote(&mut self) {
        let ds: Vec<_> =
            self.disputes().await.into_iter().filter(|(_, d)| d.outcome != DisputeOutcome::Pending).collect();
        let Some((id, d)) = self.rng.pick(&ds).cloned() else { return };
        if d.member_count == 0 {
            return;
        }
        let m = d.members[self.rng.below(d.member_count as u64) as usize];
        let ix = vsdk::settle_vote(self.payer(), &self.w.mk, &self.w.mk.job(id), &m, d.challenger);
        self.send("settle_vote", &[ix], &[]).await;
    }

    async fn finalize_or_expire(&mut self) {
        let jobs = self.live_jobs().await;
        let Some((id, job)) = self.rng.pick(&jobs).cloned() else { return };
        let k = self.mk();
        let key = self.w.mk.job(id);
        let c = self.client_of(&job);
        let (ck, ct) = (c.key(), c.token);
        let ix = match job.status {
            JobStatus::Open => jsdk::expire_open_job(self.payer(), ck, ct, &k, id),
            JobStatus::Claimed => jsdk::expire_job(self.payer(), &k, &key, ck, job.provider, ct),
            _ => vsdk::finalize_job(self.payer(), &k, &key, ck, job.provider, self.w.provider.token),
        };
        self.send("finalize/expire", &[ix], &[]).await;
    }

    // ---- hostile moves ---------------------------------------------------------------------

    async fn stray(&mut self) {
        let jobs = self.live_jobs().await;
        let mut vaults = vec![self.w.pool.vault];
        for (id, j) in &jobs {
            vaults.push(self.w.escrow_keys(*id).vault);
            if j.status == JobStatus::Challenged {
                vaults.push(self.w.bond_keys(*id).vault);
            }
        }
        let v = *self.rng.pick(&vaults).unwrap();
        let amount = 1 + self.rng.below(3);
        let kp = self.attacker.kp.insecure_clone();
        if self.w.fx.balance(self.attacker.token).await >= amount {
            let mint = self.w.mint;
            let from = self.attacker.token;
            let ix = self.w.fx.transfer_ix(mint, from, v, &kp.pubkey(), amount).await;
            if self.send("stray transfer", &[ix], &[&kp]).await {
                *self.w.strays.entry(v).or_default() += amount;
                self.stats.strays += amount;
            }
        }
    }

    /// A party moves its tokens to a fresh account and closes the old one.
    async fn close_own_token_account(&mut self) {
        let which = self.rng.below(3);
        let party = match which {
            0 => &self.w.client,
            1 => &self.w.provider,
            _ => &self.treasuries[self.treasury_now],
        };
        let (kp, old) = (party.kp.insecure_clone(), party.token);
        let fresh = self.w.fx.create_token_account(self.w.mint, kp.pubkey()).await;
        let amount = self.w.fx.balance(old).await;
        let tp = self.w.fx.token.id();
        let mut ixs = vec![];
        if amount > 0 {
            let mint = self.w.mint;
            ixs.push(self.w.fx.transfer_ix(mint, old, fresh, &kp.pubkey(), amount).await);
        }
        ixs.push(
            anchor_spl::token_2022::spl_token_2022::instruction::close_account(
                &tp,
                &old,
                &kp.pubkey(),
                &kp.pubkey(),
                &[],
            )
            .unwrap(),
        );
        if self.send("close own token account", &ixs, &[&kp]).await {
            match which {
                0 => self.w.client.token = fresh,
                1 => self.w.provider.token = fresh,
                _ => self.treasuries[self.treasury_now].token = fresh,
            }
        }
    }

    async fn admin_update(&mut self) {
        let admin = self.w.admin.insecure_clone();
        match self.rng.below(4) {
            0 => {
                let t = self.rng.below(2) as usize;
                let args = jsdk::UpdateConfigArgs {
                    treasury: Some(self.treasuries[t].key()),
                    protocol_fee_bps: Some(self.rng.below(cinder_jobs::MAX_FEE_BPS as u64 + 1) as u16),
                    paused: Some(self.rng.chance(15)),
                    ..Default::default()
                };
                if self.send("update_config", &[jsdk::update_config(admin.pubkey(), args)], &[&admin]).await {
                    self.treasury_now = t;
                }
            }
            1 => {
                let span = if self.rng.chance(80) { 4_500 } else { 20_000 };
                let args = ssdk::UpdatePoolArgs {
                    min_stake: Some(500 + self.rng.below(span)),
                    cooldown_secs: Some(self.rng.below(200_000) as i64),
                    max_reward_bps: Some(self.rng.below(5_001) as u16),
                    ..Default::default()
                };
                let t = self.treasuries[self.rng.below(2) as usize].token;
                self.send("update_pool", &[ssdk::update_pool(&self.w.pool, admin.pubkey(), Some(t), args)], &[&admin])
                    .await;
            }
            2 => {
                let base = market_params();
                let p = MarketParams {
                    price: 500 + self.rng.below(1_000),
                    job_timeout_secs: 1 + self.rng.below(1_200) as i64,
                    challenge_window_secs: 1 + self.rng.below(600) as i64,
                    voting_period_secs: cinder_jobs::MIN_VOTING_PERIOD_SECS + self.rng.below(200) as i64,
                    challenger_reward_bps: self.rng.below(5_000) as u16,
                    timeout_client_bps: self.rng.below(5_000) as u16,
                    vote_penalty: self.rng.below(base.min_stake + 1),
                    ..base
                };
                self.send("update_market", &[jsdk::update_market(admin.pubkey(), &self.w.mk, p)], &[&admin]).await;
            }
            _ => {
                let pool: cinder_staking::StakePool = self.w.fx.anchor_account(self.w.pool.pool).await;
                let t = if self.rng.chance(80) { pool.treasury } else { self.attacker.token };
                self.send("withdraw_treasury", &[ssdk::withdraw_treasury(&self.w.pool, admin.pubkey(), t)], &[&admin])
                    .await;
            }
        }
    }

    async fn staker_move(&mut self) {
        let i = self.rng.below(5) as usize;
        let p = if i == 4 { &self.w.provider } else { &self.w.verifiers[i] };
        let (kp, token) = (p.kp.insecure_clone(), p.token);
        let k = kp.pubkey();
        let st = self.w.stake_of(&k).await;
        let ix = match self.rng.below(4) {
            0 => ssdk::request_unstake(&self.w.pool, k, 1 + self.rng.below((st.active - st.locked).max(1))),
            1 => ssdk::cancel_unstake(&self.w.pool, k),
            2 => ssdk::withdraw_stake(&self.w.pool, k, token),
            _ => ssdk::deposit_stake(&self.w.pool, k, token, 1 + self.rng.below(2_000)),
        };
        self.send("stake", &[ix], &[&kp]).await;
    }

    /// A verifier leaves or rejoins the verifier set, or the attacker tries to remove one: that
    /// succeeds only when the registration's free stake is below the market minimum.
    async fn registry_move(&mut self) {
        let i = self.rng.below(self.w.verifiers.len() as u64) as usize;
        let v = self.w.verifiers[i].kp.insecure_clone();
        let market = self.w.mk.market;
        let marker = self.w.fx.account_data(vsdk::verifier_marker_pda(&market, &v.pubkey())).await;
        let set: vsdk::VerifierSet = self.w.fx.anchor_account(vsdk::verifier_set_pda(&market)).await;
        let Some(marker) = marker.and_then(|d| vsdk::VerifierMarker::try_deserialize(&mut d.as_slice()).ok()) else {
            let ix = vsdk::register_verifier(v.pubkey(), &self.w.mk, set.count);
            self.send("register_verifier", &[ix], &[&v]).await;
            return;
        };
        let last_entry = vsdk::verifier_entry_pda(&market, set.count - 1);
        let last: vsdk::VerifierEntry = self.w.fx.anchor_account(last_entry).await;
        let by_attacker = self.rng.chance(60);
        let caller = if by_attacker { self.attacker.kp.insecure_clone() } else { v.insecure_clone() };
        let ix = vsdk::remove_verifier(caller.pubkey(), &self.w.mk, v.pubkey(), marker.index, set.count, last.verifier);
        let st = self.w.stake_of(&v.pubkey()).await;
        let params: cinder_jobs::Market = self.w.fx.anchor_account(market).await;
        let ok = self.send("remove_verifier", &[ix], &[&caller]).await;
        if by_attacker && ok {
            assert!(
                st.active < params.params.min_stake,
                "the attacker removed a registration holding the minimum stake"
            );
        }
    }

    /// Calls with accounts of the wrong parent or owner: another job's escrow, another party's
    /// token account, the attacker as a signer of others' actions. These must all fail; the
    /// invariants catch any that moved money.
    async fn hostile_call(&mut self) {
        let jobs = self.live_jobs().await;
        if jobs.len() < 2 {
            return;
        }
        let (a, ja) = jobs[0].clone();
        let (b, _) = jobs[1].clone();
        let k = self.mk();
        let atk = self.attacker.kp.insecure_clone();
        let mut ix = match self.rng.below(4) {
            0 => vsdk::finalize_job(atk.pubkey(), &k, &k.job(a), ja.client, ja.provider, self.attacker.token),
            1 => jsdk::cancel_job(atk.pubkey(), self.attacker.token, &k, a),
            2 => jsdk::expire_open_job(atk.pubkey(), ja.client, self.attacker.token, &k, a),
            _ => jsdk::expire_job(atk.pubkey(), &k, &k.job(a), ja.client, ja.provider, self.attacker.token),
        };
        // And sometimes the other job's escrow in place of this one's.
        if self.rng.chance(50) {
            let (ea, eb) = (self.w.escrow_keys(a), self.w.escrow_keys(b));
            for m in ix.accounts.iter_mut() {
                if m.pubkey == ea.escrow {
                    m.pubkey = eb.escrow;
                } else if m.pubkey == ea.vault {
                    m.pubkey = eb.vault;
                }
            }
        }
        let ok = self.send("hostile call", &[ix], &[&atk]).await;
        assert!(!ok, "a hostile call with another party's or another job's accounts succeeded");
    }

    async fn warp(&mut self) {
        let now = self.w.fx.now().await;
        let dt = match self.rng.below(4) {
            0 => 1,
            1 => 1 + self.rng.below(120) as i64,
            2 => 100 + self.rng.below(700) as i64,
            _ => 0,
        };
        if dt == 0 {
            let clock: anchor_lang::prelude::Clock = self.w.fx.ctx.banks_client.get_sysvar().await.unwrap();
            self.w.fx.warp_slots_past(clock.slot + self.rng.below(6)).await;
        } else {
            self.w.fx.warp_to_timestamp(now + dt).await;
        }
    }

    async fn step(&mut self) {
        match self.rng.below(100) {
            0..=11 => self.post().await,
            12..=14 => self.cancel().await,
            15..=24 => self.claim().await,
            25..=32 => self.submit().await,
            33..=38 => self.challenge().await,
            39..=45 => self.draw().await,
            46..=55 => self.vote().await,
            56..=60 => self.resolve().await,
            61..=64 => self.settle_vote().await,
            65..=71 => self.finalize_or_expire().await,
            72..=75 => self.stray().await,
            76..=77 => self.close_own_token_account().await,
            78..=81 => self.admin_update().await,
            82..=85 => self.staker_move().await,
            86..=87 => self.hostile_call().await,
            88..=89 => self.registry_move().await,
            _ => self.warp().await,
        }
        self.stats.steps += 1;
    }

    /// Honest actions only, until every job and dispute is terminal.
    async fn drain(&mut self) {
        for round in 0..200 {
            let jobs = self.live_jobs().await;
            let ds = self.disputes().await;
            if jobs.is_empty() && ds.is_empty() {
                return;
            }
            let mut progressed = false;
            for (id, job) in &jobs {
                let k = self.mk();
                let key = k.job(*id);
                let c = self.client_of(job);
                let (ck, ct, ckp) = (c.key(), c.token, c.kp.insecure_clone());
                let ix = match job.status {
                    JobStatus::Open => jsdk::cancel_job(ck, ct, &k, *id),
                    JobStatus::Claimed => jsdk::expire_job(self.payer(), &k, &key, ck, job.provider, ct),
                    JobStatus::Submitted => {
                        vsdk::finalize_job(self.payer(), &k, &key, ck, job.provider, self.w.provider.token)
                    }
                    JobStatus::Challenged => {
                        let d = ds
                            .iter()
                            .find(|(i, _)| i == id)
                            .map(|(_, d)| d.clone())
                            .expect("a challenged job has a dispute");
                        if d.draw_exhausted() || d.drawn() {
                            let p = self.parties(job, &d.challenger);
                            vsdk::resolve_dispute(self.payer(), &k, &key, &p)
                        } else if d.seed == [0; 32] {
                            self.w.fx.pin_slot_hashes(self.seed).await;
                            vsdk::draw_quorum(self.payer(), &self.w.mk, &key, &[])
                        } else {
                            match self.w.draw_ix(*id).await {
                                Some(ix) => ix,
                                None => continue,
                            }
                        }
                    }
                };
                let signers: Vec<&Keypair> = if job.status == JobStatus::Open { vec![&ckp] } else { vec![] };
                progressed |= self.send("drain", &[ix], &signers).await;
            }
            for (id, d) in self.disputes().await {
                if d.outcome == DisputeOutcome::Pending {
                    continue;
                }
                for (i, m) in d.members[..d.member_count as usize].iter().enumerate() {
                    if d.settled_mask & (1 << i) == 0 {
                        let ix = vsdk::settle_vote(self.payer(), &self.w.mk, &self.w.mk.job(id), m, d.challenger);
                        progressed |= self.send("drain", &[ix], &[]).await;
                    }
                }
            }
            self.w.check_invariants().await;
            if !progressed {
                // Nothing could move: let time and slots pass every boundary.
                let clock: anchor_lang::prelude::Clock = self.w.fx.ctx.banks_client.get_sysvar().await.unwrap();
                self.w.fx.warp_slots_past(clock.slot + cinder_verification::DRAW_DELAY_SLOTS + 1).await;
                let now = self.w.fx.now().await;
                self.w.fx.warp_to_timestamp(now + 400 + round as i64).await;
            }
        }
        let live = self.live_jobs().await;
        let ds = self.disputes().await;
        panic!("the drain did not finish: live jobs {live:?}, disputes {ds:?}");
    }

    async fn assert_drained(&mut self) {
        for id in self.w.jobs.iter().chain(&self.w.retired).copied().collect::<Vec<_>>() {
            assert!(self.w.job(id).await.is_none(), "job {id} not terminal");
            assert!(self.w.dispute(id).await.is_none(), "dispute of job {id} not closed");
            for v in [self.w.escrow_keys(id).vault, self.w.bond_keys(id).vault] {
                assert!(!self.w.fx.exists(v).await, "vault {v} of job {id} still exists");
            }
        }
        self.stats.drained_jobs = (self.w.jobs.len() + self.w.retired.len()) as u64;
        self.w.check_invariants().await;
    }
}

type Trace = (u64, std::collections::VecDeque<String>, Option<std::thread::ThreadId>);
static TRACE: std::sync::Mutex<Trace> = std::sync::Mutex::new((0, std::collections::VecDeque::new(), None));

/// Records a move in the trace printed if anything fails.
fn trace(line: String) {
    if let Ok(mut t) = TRACE.lock() {
        if t.1.len() == 40 {
            t.1.pop_front();
        }
        t.1.push_back(line);
    }
}

/// Installs (once) a panic hook that prints the seed and the last moves before a panic of the
/// fuzzer's thread.
fn install_trace_hook() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if let Ok(t) = TRACE.try_lock() {
                if t.2 == Some(std::thread::current().id()) {
                    eprintln!("fuzz: FAILED with seed {} (replay: CINDER_FUZZ_SEED={}); last moves:", t.0, t.0);
                    for l in &t.1 {
                        eprintln!("fuzz:   {l}");
                    }
                }
            }
            default(info);
        }));
    });
}

/// Runs one seed for `steps` steps, then the drain. Panics (naming the seed) on any violation.
pub async fn run_seed(seed: u64, steps: u64) -> Stats {
    install_trace_hook();
    if let Ok(mut t) = TRACE.lock() {
        *t = (seed, Default::default(), Some(std::thread::current().id()));
    }
    let mut f = Fuzz::new(seed).await;
    for _ in 0..steps {
        f.step().await;
        f.w.check_invariants().await;
    }
    trace("drain".into());
    f.drain().await;
    f.assert_drained().await;
    f.stats
}

fn env_u64(name: &str) -> Option<u64> {
    std::env::var(name).ok().and_then(|v| v.parse().ok())
}

/// A seed is a replay: the same moves with the same outcomes, draws included.
#[tokio::test]
async fn replays_are_identical() {
    let (a, b) = (run_seed(8, 200).await, run_seed(8, 200).await);
    let draws: Vec<_> = a.path.iter().filter(|p| p.starts_with("draw_quorum")).collect();
    assert!(draws.iter().any(|p| p.ends_with(": ok")), "the run drew a quorum: {draws:?}");
    assert_eq!(a.path, b.path, "two runs of seed 8 diverged");
}

/// In the README's test command: 4 seeds × 500 steps (2 000 steps), SPL Token and Token-2022.
#[tokio::test]
async fn fuzz_every_instruction_keeps_the_books_and_drains() {
    let steps = env_u64("CINDER_FUZZ_STEPS").unwrap_or(500);
    let seeds: Vec<u64> = match env_u64("CINDER_FUZZ_SEED") {
        Some(s) => vec![s],
        None => vec![1, 2, 3, 4],
    };
    let t = std::time::Instant::now();
    let mut total = Stats::default();
    for seed in seeds {
        eprintln!("fuzz: seed {seed}, {steps} steps");
        let s = run_seed(seed, steps).await;
        total.steps += s.steps;
        total.sent += s.sent;
        total.succeeded += s.succeeded;
        total.strays += s.strays;
        total.drained_jobs += s.drained_jobs;
        for (k, (n, ok)) in s.by_action {
            let e = total.by_action.entry(k).or_default();
            e.0 += n;
            e.1 += ok;
        }
    }
    eprintln!(
        "fuzz: {} steps, {} transactions ({} succeeded), {} stray units, {} jobs drained, 0 invariant violations, {:.1}s",
        total.steps,
        total.sent,
        total.succeeded,
        total.strays,
        total.drained_jobs,
        t.elapsed().as_secs_f64()
    );
    for (k, (n, ok)) in &total.by_action {
        eprintln!("fuzz:   {k:<28} {n:>6} sent {ok:>6} ok");
    }
    assert!(total.succeeded > total.steps / 8, "the fuzzer must make real moves, not only rejected ones");
    assert!(total.drained_jobs > 0);
}
