use anchor_lang::prelude::*;

use crate::error::EscrowError;

/// One escrow: a PDA-owned vault for a single mint, and who may do what with it.
#[account]
#[derive(InitSpace, Debug, PartialEq, Eq)]
pub struct Escrow {
    /// The only key that can release or refund (a PDA of the jobs or verification program).
    pub controller: Pubkey,
    /// Who funded the escrow; refunds go to a token account this key owns.
    pub depositor: Pubkey,
    /// Who paid the rent of the escrow and its vault; it comes back to this key on close.
    pub rent_payer: Pubkey,
    pub mint: Pubkey,
    pub token_program: Pubkey,
    pub vault: Pubkey,
    /// Controller-chosen id (for example a job key). Part of the PDA seeds.
    pub seed: [u8; 32],
    /// Total deposited at `open_escrow`.
    pub deposited: u64,
    /// Total paid out by `release_escrow`.
    pub released: u64,
    /// Total returned by `refund_escrow`.
    pub refunded: u64,
    pub opened_at: i64,
    pub bump: u8,
    pub vault_bump: u8,
    pub _reserved: [u8; 32],
}

impl Escrow {
    /// What the escrow still owes: `deposited - released - refunded`.
    pub fn balance(&self) -> u64 {
        // invariant(): released + refunded <= deposited, so this cannot underflow.
        self.deposited - self.released - self.refunded
    }

    /// Records a release of `total`; fails if that is more than the balance.
    pub fn record_release(&mut self, total: u64) -> Result<()> {
        require!(total <= self.balance(), EscrowError::InsufficientEscrowBalance);
        self.released = self.released.checked_add(total).ok_or(EscrowError::ArithmeticOverflow)?;
        self.invariant()
    }

    /// Records a refund of the whole balance and returns it.
    pub fn record_refund(&mut self) -> Result<u64> {
        let amount = self.balance();
        require!(amount > 0, EscrowError::NothingToRefund);
        self.refunded = self.refunded.checked_add(amount).ok_or(EscrowError::ArithmeticOverflow)?;
        self.invariant()?;
        Ok(amount)
    }

    pub fn invariant(&self) -> Result<()> {
        let out = self.released.checked_add(self.refunded).ok_or(EscrowError::ArithmeticOverflow)?;
        require!(out <= self.deposited, EscrowError::InsufficientEscrowBalance);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn escrow(deposited: u64) -> Escrow {
        Escrow {
            controller: Pubkey::new_unique(),
            depositor: Pubkey::new_unique(),
            rent_payer: Pubkey::new_unique(),
            mint: Pubkey::new_unique(),
            token_program: Pubkey::new_unique(),
            vault: Pubkey::new_unique(),
            seed: [0; 32],
            deposited,
            released: 0,
            refunded: 0,
            opened_at: 0,
            bump: 0,
            vault_bump: 0,
            _reserved: [0; 32],
        }
    }

    #[test]
    fn release_then_refund_sums_to_deposit() {
        let mut e = escrow(1_000);
        e.record_release(300).unwrap();
        e.record_release(200).unwrap();
        assert_eq!(e.balance(), 500);
        assert_eq!(e.record_refund().unwrap(), 500);
        assert_eq!(e.released + e.refunded, e.deposited);
        assert_eq!(e.balance(), 0);
    }

    #[test]
    fn release_above_balance_is_refused_and_changes_nothing() {
        let mut e = escrow(100);
        e.record_release(60).unwrap();
        let before = e.clone_fields();
        assert!(e.record_release(41).is_err());
        assert_eq!(e.clone_fields(), before);
    }

    #[test]
    fn refund_of_empty_escrow_is_refused() {
        let mut e = escrow(10);
        e.record_release(10).unwrap();
        assert!(e.record_refund().is_err());
    }

    #[test]
    fn pinned_account_size() {
        // 8 discriminator + 6 keys + seed + 3 amounts + timestamp + 2 bumps + reserved.
        assert_eq!(8 + Escrow::INIT_SPACE, 8 + 6 * 32 + 32 + 3 * 8 + 8 + 2 + 32);
        assert_eq!(8 + Escrow::INIT_SPACE, 298);
    }

    impl Escrow {
        fn clone_fields(&self) -> (u64, u64, u64) {
            (self.deposited, self.released, self.refunded)
        }
    }
}
