//! Connection hygiene against slow and greedy clients (slowloris): every connection must send
//! a request's headers within a time limit, and only so many connections are served at once,
//! in all and from one client address, so one client cannot take every file descriptor and
//! lock the others out. Connections over a cap are closed as soon as they are accepted.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex, PoisonError};

/// The caps on open connections, and the connections open now.
#[derive(Debug)]
pub struct ConnectionLimits {
    total: usize,
    per_address: usize,
    open: Mutex<OpenConnections>,
}

#[derive(Debug, Default)]
struct OpenConnections {
    total: usize,
    by_address: HashMap<IpAddr, usize>,
}

/// One admitted connection; its place is given back when this is dropped.
#[derive(Debug)]
pub struct Admitted {
    limits: Arc<ConnectionLimits>,
    address: IpAddr,
}

impl ConnectionLimits {
    pub fn new(total: usize, per_address: usize) -> Arc<Self> {
        Arc::new(Self { total, per_address, open: Mutex::default() })
    }

    /// A place for a new connection from `address`, or `None` when it would go over a cap
    /// (the per-address one only when `capped_per_address`).
    pub fn admit(self: &Arc<Self>, address: IpAddr, capped_per_address: bool) -> Option<Admitted> {
        let address = address.to_canonical();
        let mut open = self.open.lock().unwrap_or_else(PoisonError::into_inner);
        if open.total >= self.total {
            return None;
        }
        let from_address = open.by_address.entry(address).or_default();
        if capped_per_address && *from_address >= self.per_address {
            return None;
        }
        *from_address += 1;
        open.total += 1;
        Some(Admitted { limits: self.clone(), address })
    }
}

impl Drop for Admitted {
    fn drop(&mut self) {
        let mut open = self.limits.open.lock().unwrap_or_else(PoisonError::into_inner);
        open.total -= 1;
        if let Some(from_address) = open.by_address.get_mut(&self.address) {
            *from_address -= 1;
            if *from_address == 0 {
                open.by_address.remove(&self.address);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connections_are_capped_in_all_and_per_address_and_given_back() {
        let limits = ConnectionLimits::new(3, 2);
        let (a, b, c): (IpAddr, IpAddr, IpAddr) =
            ("10.0.0.1".parse().unwrap(), "10.0.0.2".parse().unwrap(), "::ffff:10.0.0.1".parse().unwrap());
        let first = limits.admit(a, true).unwrap();
        let _second = limits.admit(c, true).expect("the same address written as IPv6 counts as a");
        assert!(limits.admit(a, true).is_none(), "a has its two");
        let third = limits.admit(b, true).unwrap();
        assert!(limits.admit(b, true).is_none(), "three in all");
        drop(first);
        let _again = limits.admit(a, true).expect("a place was given back");
        assert!(limits.admit("10.0.0.9".parse().unwrap(), true).is_none());
        drop(third);
        let _proxied = limits.admit(a, false).expect("a proxy is held to the total only");
    }
}
